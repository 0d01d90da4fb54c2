"""The device choice: names, the GPU check, the global ``--device`` and device-safe numpy.

What runs on a real GPU is not tested here (no CUDA on the test machines): the CUDA
branches are reached by monkeypatching ``torch.cuda.is_available``, and the code paths
that run on a device are exercised on an emulated one (``tests/test_device_emulation.py``).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from user_errors import assert_user_error

import artifactlab
from artifactlab import device as dev
from artifactlab.errors import InputError

PACKAGE = Path(artifactlab.__file__).parent
NO_GPU_LINE = (
    "error: --device: cuda was asked for but no CUDA GPU is visible "
    "(torch.cuda.is_available() is False) (use --device cpu or auto)"
)


@pytest.fixture(autouse=True)
def _no_device_variable(monkeypatch):
    """Each test starts without ARTIFACTLAB_DEVICE and leaves the environment as it was.

    The CLI and set_device_environment write the variable: setenv first, so that
    monkeypatch records the value to restore (delenv of an absent one records nothing).
    """
    monkeypatch.setenv(dev.ENV_VAR, "cpu")
    monkeypatch.delenv(dev.ENV_VAR)


@pytest.fixture()
def gpu(monkeypatch):
    """Make torch report ``count`` CUDA GPUs (0: none), whatever the machine has."""

    def set_count(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    return set_count


# --- names and resolution ------------------------------------------------------------------


def test_cpu_is_the_cpu_and_names_are_case_and_space_blind():
    assert dev.resolve_device("cpu") == torch.device("cpu")
    assert dev.resolve_device(" CPU ") == torch.device("cpu")
    assert dev.device_name("Cuda:1") == "cuda:1"


@pytest.mark.parametrize("name", ["gpu", "", "cuda:", "cuda:x", "cuda:-1", "mps", "meta"])
def test_unknown_names_list_the_choices(name):
    with pytest.raises(InputError) as err:
        dev.resolve_device(name)
    assert err.value.where == "--device"
    assert err.value.hint == "choose cpu, cuda, cuda:N or auto"


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "CUDA"])
def test_cuda_without_a_gpu_is_refused_with_the_reason(gpu, name):
    gpu(0)
    with pytest.raises(InputError) as err:
        dev.resolve_device(name)
    assert (err.value.where, err.value.problem, err.value.hint) == (
        "--device",
        "cuda was asked for but no CUDA GPU is visible (torch.cuda.is_available() is False)",
        "use --device cpu or auto",
    )


def test_cuda_with_a_gpu(gpu):
    gpu(2)
    assert dev.resolve_device("cuda") == torch.device("cuda")
    assert dev.resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(InputError, match=r"cuda:2 was asked for but only 2 CUDA GPU\(s\)"):
        dev.resolve_device("cuda:2")


def test_auto_picks_cuda_when_visible_else_the_cpu(gpu):
    gpu(0)
    assert dev.resolve_device("auto") == torch.device("cpu")
    gpu(1)
    assert dev.resolve_device("auto") == torch.device("cuda")


def test_auto_on_this_machine():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert dev.resolve_device("auto").type == expected


def test_the_default_comes_from_the_environment_variable(monkeypatch, gpu):
    assert dev.default_device() == torch.device("cpu")  # nothing set: the CPU
    monkeypatch.setenv(dev.ENV_VAR, "auto")
    gpu(0)
    assert dev.default_device() == torch.device("cpu")
    monkeypatch.setenv(dev.ENV_VAR, "cuda")
    with pytest.raises(InputError) as err:
        dev.default_device()
    assert err.value.where == dev.ENV_VAR
    monkeypatch.setenv(dev.ENV_VAR, "tpu")
    with pytest.raises(InputError, match="ARTIFACTLAB_DEVICE: unknown device 'tpu'"):
        dev.default_device()


def test_as_device_place_and_module_device():
    from artifactlab.models import NGramConfig, NGramModel, ToyTransformer, ToyTransformerConfig

    assert dev.as_device(None) == torch.device("cpu")
    assert dev.as_device(torch.device("meta")) == torch.device("meta")  # a device is taken as is
    model = ToyTransformer(ToyTransformerConfig(V=4, d_model=4, n_heads=1), seed=0)
    assert dev.place(model, "cpu") is model and dev.module_device(model) == torch.device("cpu")
    dev.place(model, torch.device("meta"))
    assert dev.module_device(model) == torch.device("meta")
    counts = dev.place(NGramModel(NGramConfig(V=3)), torch.device("meta"))  # buffers only
    assert dev.module_device(counts) == torch.device("meta")
    assert dev.module_device(torch.nn.Identity()) == torch.device("cpu")


def test_set_device_environment_records_the_resolved_name(gpu):
    import os

    assert dev.set_device_environment(None) == "cpu" and os.environ[dev.ENV_VAR] == "cpu"
    gpu(0)
    assert dev.set_device_environment("auto") == "cpu"  # never "auto": workers agree
    gpu(1)
    assert dev.set_device_environment("auto") == "cuda" and os.environ[dev.ENV_VAR] == "cuda"


def test_choosing_the_cpu_imports_no_torch():
    code = (
        "import sys; from artifactlab.device import set_device_environment; "
        "set_device_environment('cpu'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the global CLI option -----------------------------------------------------------------


@pytest.fixture(scope="module")
def triples(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("device") / "t.tsv"
    path.write_text("a r b\nb r c\nc r a\na s c\n")
    return path


def _train(cli, tmp_path, triples, *global_options):
    out = tmp_path / "run"
    res = cli(*global_options, "train", "--data", triples, "--out", out, "--d-model", 8,
              "--n-heads", 1, "--max-steps", 20, "--quiet", "--json")  # fmt: skip
    return res, out


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_on_this_machine_is_one_line_and_exit_2(cli, tmp_path, triples):
    res, out = _train(cli, tmp_path, triples, "--device", "cuda")
    assert assert_user_error(res) == NO_GPU_LINE
    assert not out.exists()  # refused before the command ran


def test_cuda_without_a_gpu_is_refused_up_front(cli, tmp_path, triples, gpu):
    gpu(0)  # the same on any machine
    for name in ("cuda", "cuda:1"):
        res, out = _train(cli, tmp_path, triples, "--device", name)
        assert assert_user_error(res) == NO_GPU_LINE and not out.exists()


def test_an_unknown_device_is_refused_up_front(cli, tmp_path, triples, monkeypatch):
    res, _ = _train(cli, tmp_path, triples, "--device", "gpu")
    assert_user_error(res, "--device: unknown device 'gpu'", "cpu, cuda, cuda:N or auto")
    monkeypatch.setenv(dev.ENV_VAR, "cuda:zero")
    res, _ = _train(cli, tmp_path, triples)
    assert_user_error(res, "ARTIFACTLAB_DEVICE: unknown device 'cuda:zero'")


def test_device_cpu_trains_on_the_cpu(cli, tmp_path, triples):
    res, out = _train(cli, tmp_path, triples, "--device", "cpu")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["device"] == "cpu"
    assert json.loads((out / "config.json").read_text())["device"] == "cpu"
    assert res.stderr == ""


def test_device_auto_says_it_falls_back_to_the_cpu(cli, tmp_path, triples, gpu):
    gpu(0)
    res, out = _train(cli, tmp_path, triples, "--device", "auto")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["device"] == "cpu"
    assert res.stderr.strip() == "note: device auto: no CUDA GPU is visible, running on the CPU"
    res = cli("--device", "auto", "artifacts", out, "--json", "--quiet")  # evaluation too
    assert res.exit_code == 0, res.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_device_auto_on_this_machine_is_the_cpu(cli, tmp_path, triples):
    res, _ = _train(cli, tmp_path, triples, "--device", "auto")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["device"] == "cpu"


def test_the_device_reaches_the_commands_through_the_environment(cli, tmp_path, triples):
    import os

    res, _ = _train(cli, tmp_path, triples, "--device", "CPU")
    assert res.exit_code == 0 and os.environ[dev.ENV_VAR] == "cpu"  # what workers inherit


# --- no numpy of a device tensor -----------------------------------------------------------

#: where models are evaluated and trained: every ``.numpy()`` there must be ``.cpu().numpy()``
#: (free on a CPU tensor), so no call depends on knowing that its tensor is on the CPU
SCANNED = ("tensor", "train", "models", "experiments", "lm", "runs.py", "api.py")
SCANNED_FILES = ("interp/double_descent.py",)


def unsafe_numpy_calls(source: str) -> list[int]:
    """Lines of ``X.numpy()`` calls whose ``X`` is not ``Y.cpu()`` (``numpy(force=True)`` is)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "numpy"
        ):
            continue
        receiver = node.func.value
        on_cpu = (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr == "cpu"
        )
        forced = any(
            k.arg == "force" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if not (on_cpu or forced):
            lines.append(node.lineno)
    return lines


def test_the_numpy_check_can_fail():
    src = "a = x.numpy()\nb = x.detach().numpy()\nc = x.cpu().numpy()\nd = f(x).cpu().numpy()\n"
    src += "e = x.numpy(force=True)\nf = np.asarray(x)\ng = x.cpu()[0].numpy()\n"
    assert unsafe_numpy_calls(src) == [1, 2, 7]


def _scanned_files() -> list[Path]:
    files = [PACKAGE / f for f in SCANNED_FILES]
    for name in SCANNED:
        path = PACKAGE / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_evaluation_and_training_never_call_numpy_on_a_device_tensor():
    files = _scanned_files()
    names = {str(p.relative_to(PACKAGE)) for p in files}
    assert {"tensor/completion.py", "tensor/labels.py", "train/trainer.py", "lm/hf.py"} <= names
    offenders = [
        f"{p.relative_to(PACKAGE)}:{line}"
        for p in files
        for line in unsafe_numpy_calls(p.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use .cpu().numpy() (free on the CPU): " + ", ".join(offenders)
