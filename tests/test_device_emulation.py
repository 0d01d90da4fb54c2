"""Training and evaluation on a device other than the CPU, emulated (``device_emulation.py``).

Each test runs one path twice, on the CPU and on the emulated device, and asks for the
same numbers: the emulated tensors compute with the CPU kernels, so any difference is
the code taking another path, and any tensor the code leaves on the CPU next to a device
tensor, or any ``.numpy()`` of a device tensor, raises. This is not a GPU: CUDA's kernels
and numerics are not tested here, and the emulation is per thread (one worker only).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from device_emulation import DeviceMixError, emulated_device, on_device

from artifactlab import api
from artifactlab import device as dev
from artifactlab.data import random_triples
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.experiments.training import build_model
from artifactlab.models import CP, FactorizationConfig, NGramConfig, NGramModel
from artifactlab.runs import load_run, save_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.consistency import consistency
from artifactlab.tensor.labels import judge, scores_of
from artifactlab.tensor.linkpred import filtered_ranks
from artifactlab.tensor.rank import completion_tensors
from artifactlab.train import TrainConfig, fit_model, train_batched

CPU = torch.device("cpu")
ATTN = {"kind": "attn", "V": 8, "n_ctx": 3, "d_model": 16, "n_heads": 2}
FAST = TrainConfig(max_steps=40, lr=0.05)


def _both(run):
    """``run(device)`` on the CPU, then on the emulated device (inside the emulation)."""
    cpu = run(CPU)
    with emulated_device() as device:
        other = run(device)
    return cpu, other


# --- the emulation itself can fail ---------------------------------------------------------


def test_the_emulation_refuses_what_cuda_refuses():
    with emulated_device() as device:
        x = torch.arange(6.0).to(device)
        assert on_device(x) and x.device == device
        with pytest.raises(DeviceMixError):
            x + torch.ones(6)  # a CPU tensor beside a device one
        with pytest.raises(DeviceMixError):
            torch.zeros(6).gather(0, torch.zeros(2, dtype=torch.int64).to(device))
        with pytest.raises(RuntimeError, match="numpy"):
            x.numpy()
        assert x[torch.tensor([1, 2])].cpu().tolist() == [1.0, 2.0]  # CPU indices: allowed
        assert (x + torch.tensor(1.0)).cpu().tolist() == [1.0, 2, 3, 4, 5, 6]  # a CPU scalar
        assert not on_device(x.cpu()) and x.cpu().numpy().sum() == 15
        assert on_device(torch.zeros(2, device=device)) and on_device(torch.empty_like(x))


# --- training and evaluation ---------------------------------------------------------------


def test_fit_and_evaluate_on_the_device():
    vocab = Vocabulary(tuple("abcdef"))
    data = TupleDataset(vocab, np.array([[0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 4, 5]]))

    def run(device):
        trained = api.fit(data, model="attn", seed=0, device=device, max_steps=60, lr=0.05)
        assert dev.module_device(trained.model) == device
        return trained.result.to_dict(), api.evaluate(trained, taus=(0.3, 0.5)).to_dict()

    (r0, c0), (r1, c1) = _both(run)
    assert {**r0, "seconds": 0} == {**r1, "seconds": 0} and c0 == c1


@pytest.mark.parametrize("taus", [(0.3, 0.5), (0.5, 0.9)])  # both candidate searches
def test_the_completion_report_with_truth_and_abstentions(taus):
    rng = np.random.default_rng(0)
    V, reserved = 5, 1
    table = torch.as_tensor(rng.normal(scale=3.0, size=(V, V + reserved)))
    D = DataTensor.from_tuples(rng.integers(0, V, size=(8, 3)), V)
    truth = rng.integers(0, V, size=(12, 3))
    test = rng.integers(0, V, size=(6, 3))

    def run(device):
        t = table.to(device)

        def logits_fn(ctx):
            return t[ctx[:, -1]] + t[ctx[:, 0], :1]  # on the device, whatever ctx is on

        rep = evaluate_completion(logits_fn, D, taus, truth=truth, reserved=reserved, block_size=7)
        cut = t[:, :V]  # judge's scores: logits without the reserved column
        truth_rep = judge(lambda c: cut[c[:, -1]], D, truth, test, rep)
        return rep, truth_rep.to_dict(), scores_of(lambda c: cut[c[:, -1]], test)

    (a, b, s0), (x, y, s1) = _both(run)
    assert a == x and b == y
    assert not on_device(s1) and torch.equal(s0, s1)


def test_the_model_paths_of_a_trial():
    ds = random_triples(V=8, N=12, seed=1)
    D = DataTensor.from_tuples(ds.tuples, 8)

    def run(device):
        model = build_model(ATTN, seed=3, device=device)
        result = fit_model(model, ds.tuples, FAST)
        fn = model.next_token_fn()
        rep = evaluate_completion(fn, D, (0.5,), top_k=3, make_logits_fn=model.next_token_fn)
        logits, probs = completion_tensors(model.next_token_fn(), 8, 3)
        return result.loss, rep, consistency(fn, D, block=5), logits, probs

    cpu, other = _both(run)
    assert cpu[:3] == other[:3]
    assert np.array_equal(cpu[3], other[3]) and np.array_equal(cpu[4], other[4])


def test_every_model_kind_trains_and_evaluates_on_the_device():
    ds = random_triples(V=6, N=10, seed=2)
    D = DataTensor.from_tuples(ds.tuples, 6)
    kinds = [
        {"kind": "attn", "V": 6, "n_ctx": 3, "d_model": 8, "n_heads": 2, "positional": True,
         "bias": True, "mlp": True, "layer_norm": True},
        {"kind": "cp", "V": 6, "n_ctx": 3, "rank": 4},
        {"kind": "distmult", "V": 6, "n_ctx": 3, "rank": 4},
        {"kind": "complex", "V": 6, "n_ctx": 3, "rank": 4},
        {"kind": "ngram", "V": 6, "n_ctx": 3},
    ]  # fmt: skip

    def run(device):
        out = []
        for section in kinds:
            model = build_model(section, seed=0, device=device)
            cfg = TrainConfig(max_steps=15, batch_size=4, log_every=5)  # minibatches too
            result = fit_model(model, ds.tuples, cfg)
            rep = evaluate_completion(model.next_token_fn(), D, (0.5,), top_k=2)
            out.append((result.loss, result.accuracy, rep))
        return out

    cpu, other = _both(run)
    assert cpu == other


def test_batched_training_on_the_device():
    data = [random_triples(V=8, N=10, seed=s).tuples for s in range(3)]
    cfgs = [TrainConfig(max_steps=30, lr=lr, weight_decay=wd) for lr, wd in
            ((0.05, 0.0), (0.02, 0.01), (0.05, 0.01))]  # fmt: skip

    def run(device):
        out = []
        for section in (ATTN, {"kind": "cp", "V": 8, "n_ctx": 3, "rank": 4}):
            models = [build_model(section, seed=s, device=device) for s in range(3)]
            results = train_batched(models, data, cfgs)
            weights = [p.detach().cpu() for m in models for p in m.parameters()]
            assert all(dev.module_device(m) == device for m in models)
            out.append(([(r.steps, r.loss) for r in results], weights))
        return out

    cpu, other = _both(run)
    for (r0, w0), (r1, w1) in zip(cpu, other, strict=True):
        assert r0 == r1 and all(torch.equal(a, b) for a, b in zip(w0, w1, strict=True))


def test_link_prediction_on_the_device():
    ds = random_triples(V=8, N=12, seed=4)

    def run(device):
        model = CP(FactorizationConfig(V=8, rank=4), seed=0).to(device)
        return filtered_ranks(model.next_token_fn(), ds.tuples[:6], ds.tuples, np.arange(8))

    cpu, other = _both(run)
    assert np.array_equal(cpu, other)


def test_ngram_counts_on_the_device():
    tuples = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 0], [2, 2, 1]])

    def run(device):
        model = NGramModel(NGramConfig(V=3)).to(device).fit(tuples)
        assert on_device(model.counts_) == (device != CPU)
        return model.next_token_logits(torch.tensor([[0, 1], [2, 2], [1, 1]])).cpu()

    cpu, other = _both(run)
    assert torch.equal(cpu, other)


def test_a_run_folder_saved_from_the_device_and_loaded_onto_it(tmp_path):
    ds = random_triples(V=6, N=8, seed=0)
    cfg = TrainConfig(max_steps=10)

    def run(device):
        model = build_model({**ATTN, "V": 6}, seed=0, device=device)
        result = fit_model(model, ds.tuples, cfg)
        path = save_run(tmp_path / device.type, model, ds, cfg, result, seed=0)
        loaded = load_run(path, device=device)
        assert dev.module_device(loaded.model) == device
        D = DataTensor.from_tuples(ds.tuples, 6)
        rep = evaluate_completion(loaded.model.next_token_fn(), D, (0.5,))
        return (path / "model.safetensors").read_bytes(), rep

    (w0, r0), (w1, r1) = _both(run)
    assert w0 == w1 and r0 == r1
    assert not on_device(load_run(tmp_path / "meta", device="cpu").model.W_E)


def test_the_trial_kinds_on_the_device(monkeypatch):
    from artifactlab.experiments.registry import TRIAL_KINDS

    def run(device):
        monkeypatch.setattr(dev, "default_device", lambda: device)  # as --device does
        out = {}
        for name in ("toy-artifacts", "truth-completion", "mitigate"):
            kind = TRIAL_KINDS[name]
            [result] = kind.run_group([kind.validate(kind.example)])
            assert result.error is None, result.error
            out[name] = json.dumps(result.metrics, sort_keys=True, default=str)
        return out

    cpu, other = _both(run)
    assert cpu == other


def test_the_train_and_artifacts_commands_on_the_device(cli, monkeypatch, tmp_path):
    from safetensors.torch import load_file

    monkeypatch.setenv(dev.ENV_VAR, "cpu")  # the CLI writes it: restored after the test

    data = tmp_path / "t.tsv"
    data.write_text("a r b\nb r c\nc r a\na s c\nc s b\n")
    truth = tmp_path / "truth.tsv"
    truth.write_text("a r c\nb s a\nc r b\n")

    def run(device):
        monkeypatch.setattr(dev, "default_device", lambda: device)  # as --device does
        out, dense = tmp_path / f"run-{device.type}", tmp_path / f"dense-{device.type}"
        res = cli("train", "--data", data, "--out", out, "--d-model", 8, "--n-heads", 2,
                  "--max-steps", 40, "--quiet", "--json")  # fmt: skip
        assert res.exit_code == 0, res.output
        trained = json.loads(res.stdout)
        assert trained.pop("device") == device.type and trained.pop("out") == str(out)
        res = cli("artifacts", out, "--tau", 0.3, "--tau", 0.6, "--truth", truth,
                  "--dense", dense, "--json", "--quiet")  # fmt: skip
        assert res.exit_code == 0, res.output
        report = json.loads(res.stdout)
        report.pop("run")
        return trained, report, load_file(dense)["completion"], (out / "model.safetensors")

    (t0, r0, d0, w0), (t1, r1, d1, w1) = _both(run)
    assert {**t0, "seconds": 0} == {**t1, "seconds": 0} and r0 == r1
    assert torch.equal(d0, d1) and w0.read_bytes() == w1.read_bytes()
