"""The commands behind a result, rebuilt from what it records and checked against it.

Few result files record their command line, but most record enough to rebuild one: a
run folder's ``config.json`` holds every option of ``train``; ``fit_summary.json``,
``hull_summary.json`` and ``double_descent_summary.json`` every option of ``interp fit``,
``interp hull --experiment`` and ``interp double-descent``; and a sweep-based result
holds the sweep file its command wrote. A rebuilt command is shown only when it checks
out: for ``train`` and the ``interp`` commands, its options give exactly the recorded
configs; for ``reproduce``, ``claims``, ``compare`` and ``mitigate``, the library writes,
from the command's options, exactly the recorded sweep file. Otherwise the report shows
``artifactlab sweep run FILE``, which reruns the recorded sweep file itself (an ``interp``
result written before its config was recorded has neither, so it gets no command).

Example
-------
>>> print(shell(["artifactlab", "train", "--data", "my corpus.txt"]))
artifactlab train --data 'my corpus.txt'
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from artifactlab.errors import InputError
from artifactlab.web.report_model import Command

#: how a rebuilt command is labelled on the page
CHECKED_CONFIG = (
    "rebuilt from config.json and checked against it (the command line is not recorded)"
)
CHECKED_SWEEP = "rebuilt and checked: it writes exactly the recorded sweep file {name}"
RERUN = "reruns the recorded sweep file (its results store is {store})"


def shell(words: list[str]) -> str:
    """Words as one shell command line, quoted where needed."""
    return " ".join(shlex.quote(str(w)) for w in words)


def _option(name: str, value: Any) -> list[str]:
    flag = f"--{name.replace('_', '-')}"
    if isinstance(value, bool):
        return [flag if value else f"--no-{name.replace('_', '-')}"]
    return [flag, str(value)]


def train_command(run_dir: Path, config: dict) -> Command | None:
    """``artifactlab train ...`` that builds the recorded model and training configs, or None."""
    from artifactlab.models.registry import MODELS
    from artifactlab.train import TrainConfig

    spec = MODELS.get(str(config.get("model_preset") or config.get("model_name")))
    model, train, data = config.get("model"), config.get("train"), config.get("data")
    if spec is None or not isinstance(model, dict) or not isinstance(train, dict) or not data:
        return None
    try:
        V, n_ctx = model["V"], model["n_ctx"]
        defaults = spec.build_config(V=V, n_ctx=n_ctx).to_dict()
        given = {k: model[k] for k in spec.options if model.get(k) != defaults.get(k)}
        ok = spec.build_config(V=V, n_ctx=n_ctx, **given).to_dict() == model
        names = (
            "mode",
            "lr",
            "max_steps",
            "batch_size",
            "loss_tol",
            "stop_at_accuracy",
            "weight_decay",
            "seed",
        )
        options = {k: train.get(k) for k in names}
        ok = (
            ok and TrainConfig(**options).to_dict() == train and config.get("seed") == train["seed"]
        )
    except (InputError, KeyError, TypeError, ValueError):
        return None
    if not ok or options["loss_tol"] is None:
        return None
    words = ["artifactlab", "train", "--data", str(data), "--out", str(run_dir)]
    words += ["--model", spec.name]
    for name, value in options.items():
        if value is not None and not (name == "stop_at_accuracy" and not value):
            words += _option(name, value)
    for name, value in given.items():
        words += _option(name, value)
    return Command(shell(words), CHECKED_CONFIG)


def rerun(sweep_file: Path) -> Command:
    """``artifactlab sweep run FILE``: reruns a recorded sweep file into its default store."""
    store = sweep_file.parent / sweep_file.stem
    return Command(
        shell(["artifactlab", "sweep", "run", str(sweep_file)]), RERUN.format(store=store)
    )


def reproduce_command(folder: Path, stem: str, scale: str | None) -> Command | None:
    """``artifactlab reproduce FIG ...`` that writes ``FOLDER/STEM.yaml`` as it is, or None."""
    from artifactlab.experiments.reproduce import FIG3_AXES, SCALES, sweep_text

    path = folder / f"{stem}.yaml"
    if not path.is_file():
        return None
    recorded = path.read_text(encoding="utf-8")
    name, _, axis = stem.partition("-")
    match = re.search(r"(?m)^seeds: (\d+)  # set by --seeds$", recorded)
    seeds = int(match.group(1)) if match else None
    for one in [scale] if scale in SCALES else list(SCALES):
        try:
            if sweep_text(name, one, seeds, axis or None) != recorded:
                continue
        except InputError:
            continue
        words = ["artifactlab", "reproduce", name]
        words += ["--axis", axis] if axis and axis != FIG3_AXES[0] else []
        words += ["--scale", one] if one != "default" else []
        words += ["--seeds", str(seeds)] if seeds is not None else []
        return Command(shell([*words, "--out", str(folder)]), CHECKED_SWEEP.format(name=path))
    return None


def claims_command(folder: Path, claim: str, quick: bool) -> Command | None:
    """``artifactlab claims X [--quick] --out FOLDER`` when it writes the recorded sweep file."""
    from artifactlab.experiments.claim_panels import sweep_path

    path = folder / f"claim-{claim}.yaml"
    shipped = sweep_path(claim, quick)
    if not path.is_file() or not shipped.is_file() or shipped.read_text() != path.read_text():
        return None
    words = ["artifactlab", "claims", claim, *(["--quick"] if quick else []), "--out", str(folder)]
    return Command(shell(words), CHECKED_SWEEP.format(name=path))


def _load_yaml(path: Path) -> dict | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _data_words(data: dict) -> list[str]:
    words = ["--data", str(data.get("source"))]
    for key, value in (data.get("params") or {}).items():
        words += ["-p", f"{key}={value}"]
    return words + (["--data-seed", str(data["seed"])] if data.get("seed") else [])


def compare_command(folder: Path) -> Command | None:
    """``artifactlab compare ...`` that writes ``FOLDER/compare.yaml`` as it is, or None."""
    from artifactlab.experiments.compare import sweep_yaml

    path = folder / "compare.yaml"
    sweep = _load_yaml(path) if path.is_file() else None
    try:
        data = sweep["base"]["data"]
        models = [c["model.kind"] for c in sweep["cases"]]
        text = sweep_yaml(
            data["source"], models, sweep["seeds"], data.get("params"), data.get("seed", 0)
        )
    except (KeyError, TypeError):
        return None
    if text != path.read_text(encoding="utf-8"):
        return None
    words = ["artifactlab", "compare", *_data_words(data), "--models", ",".join(models)]
    words += ["--seeds", str(sweep["seeds"]), "--out", str(folder)]
    return Command(shell(words), CHECKED_SWEEP.format(name=path))


def _mitigate_options(sweep: dict) -> list[tuple[list[str], dict]]:
    """Candidate option sets of ``mitigate`` for a sweep file, with ``sweep_yaml``'s keywords."""
    base = sweep["base"]
    data = base["data"]
    methods = list(dict.fromkeys(c["mitigation.method"] for c in sweep["cases"]))[1:]
    kind = base["model"].get("kind", "attn")
    sample = (base.get("mitigation") or {}).get("sample")
    common = {
        "data": data["source"],
        "methods": methods,
        "seeds": sweep["seeds"],
        "params": data.get("params"),
        "data_seed": data.get("seed", 0),
        "model": {"kind": kind} if kind != "attn" else None,
        "steps": base["train"]["max_steps"],
        "sample": sample,
    }
    words = [*_data_words(data), "--method", ",".join(methods)]
    words += ["--model", kind] if kind != "attn" else []
    words += ["--sample", str(sample)] if sample is not None else []
    words += ["--seeds", str(sweep["seeds"]), "--steps", str(common["steps"])]
    out = [(words, common | {"quick": False}), ([*words, "--quick"], common | {"quick": True})]
    if len(methods) == 1:
        chosen = [c["mitigation.strength"] for c in sweep["cases"][1:]]
        strengths = ",".join(f"{s:g}" for s in chosen)
        keywords = common | {"quick": False, "strengths": {methods[0]: tuple(chosen)}}
        out.append(([*words, "--strengths", strengths], keywords))
    return out


def mitigate_command(folder: Path) -> Command | None:
    """``artifactlab mitigate ...`` that writes ``FOLDER/mitigate.yaml`` as it is, or None."""
    from artifactlab.experiments.mitigation import sweep_yaml

    path = folder / "mitigate.yaml"
    sweep = _load_yaml(path) if path.is_file() else None
    try:
        candidates = _mitigate_options(sweep)
        recorded = path.read_text(encoding="utf-8")
        for words, keywords in candidates:
            if sweep_yaml(**keywords) == recorded:
                full = ["artifactlab", "mitigate", *words, "--out", str(folder)]
                return Command(shell(full), CHECKED_SWEEP.format(name=path))
    except (KeyError, TypeError, IndexError, AttributeError, InputError):
        return None
    return None


#: ``interp fit``'s recorded config keys and the options that set them
_FIT_OPTIONS = {
    "target": "target",
    "n": "n",
    "noise": "noise",
    "seed": "seed",
    "spacing": "spacing",
    "methods": "methods",
    "degree": "degree",
    "width": "width",
    "band": "band",
    "widths": "widths",
    "seeds": "seeds",
    "max_steps": "steps",
    "tol": "tol",
    "lr": "lr",
    "test": "test",
}
#: how a rebuilt ``interp`` command is labelled (``{name}``: the summary holding the config)
CHECKED_INTERP = (
    "rebuilt from the config in {name} and checked against it: its options parse "
    "to exactly the recorded config"
)
CHECKED_FIT = CHECKED_INTERP.format(name="fit_summary.json")
#: ``interp hull --experiment``'s recorded config keys and the options that set them
_HULL_OPTIONS = {"dims": "dims", "n_trains": "n-trains", "n_test": "n-test", "seed": "seed",
                 "tol": "tol"}  # fmt: skip
#: ``interp double-descent``'s recorded config keys and the options that set them
#: (``with_artifacts`` is a flag, given first; ``n_test`` has no option: it must be the default)
_DD_OPTIONS = {
    "samples": "samples",
    "features_max": "features-max",
    "seeds": "seeds",
    "n_points": "n-points",
    "seed": "seed",
    "kind": "kind",
    "ridge": "ridge",
    "noise": "noise",
    "dim": "dim",
    "artifacts_vocab": "artifacts-vocab",
    "artifacts_triples": "artifacts-triples",
    "artifacts_steps": "artifacts-steps",
}


def _fit_config(params: dict[str, Any]) -> dict[str, Any]:
    """The config ``interp fit`` records for its parsed options (as the command builds it)."""
    from artifactlab.interp.fit_run import parse_list

    config = {key: params[option] for key, option in _FIT_OPTIONS.items()}
    config["methods"] = parse_list(config["methods"], "--methods", str)
    config["widths"] = parse_list(config["widths"], "--widths", int)
    config["test"] = None if config["test"] is None else str(config["test"])
    return config


def _hull_config(params: dict[str, Any]) -> dict[str, Any]:
    """The config ``interp hull --experiment`` records for its parsed options."""
    from artifactlab.interp.fit_run import parse_list
    from artifactlab.interp.hull import rate_config

    if params.get("experiment") is not True:
        raise ValueError("not --experiment")
    dims = parse_list(params["dims"], "--dims", int)
    n_trains = parse_list(params["n_trains"], "--n-trains", int)
    return rate_config(dims, n_trains, params["n_test"], params["seed"], params["tol"])


def _dd_config(params: dict[str, Any]) -> dict[str, Any]:
    """The config ``interp double-descent`` records for its parsed options."""
    from artifactlab.interp import double_descent as dd
    from artifactlab.interp.dd_run import run_config

    p = params
    problem = dd.Problem(p["samples"], p["dim"], p["noise"], kind=p["kind"], ridge=p["ridge"])
    artifacts = (p["artifacts_vocab"], p["artifacts_triples"], p["artifacts_steps"])
    artifacts = artifacts if p["with_artifacts"] else None
    return run_config(
        p["samples"], p["features_max"], p["seeds"], p["n_points"], problem, p["seed"], artifacts
    )


#: command-line parsers the CLI lends the report (the library never imports the CLI): name ->
#: a function from the words after ``artifactlab NAME`` to the command's parsed parameters
#: (ValueError for words it refuses). Without one, no command is rebuilt for that kind.
PARSERS: dict[str, Callable[[list[str]], dict[str, Any]]] = {}


def _checked_command(
    name: str,
    folder: Path,
    config: Any,
    options: dict[str, str],
    to_config: Callable[[dict[str, Any]], dict[str, Any]],
    label: str,
    first: tuple[str, ...] = (),
) -> Command | None:
    """``artifactlab NAME FIRST... OPTIONS... --out FOLDER`` whose options give ``config``.

    Only the options whose recorded value differs from the command's default are written;
    the command is shown only when ``PARSERS[NAME]`` parses its words to exactly the
    recorded config (``to_config`` turns parsed parameters into the config the command
    records), else None.
    """
    parse = PARSERS.get(name)
    if parse is None or not isinstance(config, dict):
        return None
    try:
        defaults = to_config(parse([*first, "--out", str(folder)]))
        words = list(first)
        for key, option in options.items():
            value = config[key]
            if value is not None and value != defaults[key]:
                shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                words += [f"--{option}", shown]
        words += ["--out", str(folder)]
        if to_config(parse(list(words))) != config:
            return None
    except (InputError, KeyError, TypeError, ValueError):  # refused: no command is shown
        return None
    return Command(shell(["artifactlab", *name.split(), *words]), label)


def interp_fit_command(folder: Path, config: Any) -> Command | None:
    """``artifactlab interp fit ... --out FOLDER`` whose options give the recorded config."""
    return _checked_command("interp fit", folder, config, _FIT_OPTIONS, _fit_config, CHECKED_FIT)


def interp_hull_command(folder: Path, config: Any) -> Command | None:
    """``artifactlab interp hull --experiment ... --out FOLDER`` giving the recorded config."""
    label = CHECKED_INTERP.format(name="hull_summary.json")
    return _checked_command(
        "interp hull", folder, config, _HULL_OPTIONS, _hull_config, label, ("--experiment",)
    )


def interp_dd_command(folder: Path, config: Any) -> Command | None:
    """``artifactlab interp double-descent ... --out FOLDER`` giving the recorded config."""
    label = CHECKED_INTERP.format(name="double_descent_summary.json")
    with_artifacts = isinstance(config, dict) and config.get("with_artifacts") is True
    first = ("--with-artifacts",) if with_artifacts else ()
    return _checked_command(
        "interp double-descent", folder, config, _DD_OPTIONS, _dd_config, label, first
    )
