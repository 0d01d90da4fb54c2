"""Sections of the report for run folders (``train``) and ``reproduce`` results.

Each builder reads one saved result and returns a
:class:`~artifactlab.web.report_model.Section`; nothing is retrained and no verdict is
computed: verdicts are read from the result's ``*_summary.json`` as the command wrote
them. Claims are in :mod:`artifactlab.web.report_claims`; compare, mitigate and plain
sweep results in :mod:`artifactlab.web.report_sweeps`.

Example
-------
>>> from pathlib import Path
>>> s = reproduce_section(Path("docs/figures"), "fig2", "reproduce-fig2")
>>> s.verdicts[0].startswith("ratio_5_to_20: partly supported")
True
>>> [f.id for f in s.figures]
['reproduce-fig2-artifacts', 'reproduce-fig2-ratio']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artifactlab.web.report_commands import reproduce_command, train_command
from artifactlab.web.report_figures import Figure, Trace, log_scale
from artifactlab.web.report_model import (
    Section,
    Table,
    ci,
    err_bars,
    number,
    read_csv,
    read_json,
    read_summary,
    read_text,
    recorded_provenance,
    row_provenance,
    text,
    to_float,
)

#: the files every run folder has (as :mod:`artifactlab.runs` writes them)
RUN_FILES = ("config.json", "vocab.json", "model.safetensors", "train.tsv")


# --- train: one run folder ---------------------------------------------------------------


def _flat(prefix: str, values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {f"{prefix}{k}": "" if v is None else str(v) for k, v in values.items()}


def run_settings(config: dict) -> dict[str, str]:
    """A run folder's configuration as ``key -> value`` text (model, training, data)."""
    out = {"model": str(config.get("model_preset") or config.get("model_name"))}
    out |= _flat("model.", config.get("model")) | _flat("train.", config.get("train"))
    for key in ("seed", "params_total", "params_non_embedding", "vocab_size", "data", "device"):
        if key in config:
            out[key] = "" if config[key] is None else str(config[key])
    return out


def _training_figure(sid: str, run_dir: Path, log: list[dict]) -> Figure:
    steps = [e.get("step") for e in log]
    loss = [to_float(e.get("loss")) for e in log]
    acc = [to_float(e.get("accuracy")) for e in log]
    hover = [
        f"step {s}: loss {lo}, accuracy {a}" for s, lo, a in zip(steps, loss, acc, strict=True)
    ]
    positive = all(v is not None and v > 0 for v in loss)
    return Figure(
        f"{sid}-training",
        f"training of {run_dir.name}",
        "step",
        "mean train loss (nats)",
        [
            Trace("train loss", steps, loss, "lines+markers", hover=hover),
            Trace("train accuracy", steps, acc, "lines+markers", hover=hover, secondary=True),
        ],
        y_log=positive and log_scale(loss),
        y2_label="train accuracy",
    )


def train_section(run_dir: Path, sid: str) -> Section:
    """The section of one run folder: its training curve, configuration, result and provenance."""
    config = read_json(run_dir / "config.json")
    if not isinstance(config, dict):
        from artifactlab.errors import InputError

        raise InputError(str(run_dir / "config.json"), "is not a JSON object", "train again")
    log_path = run_dir / "train_log.json"
    log = read_json(log_path) if log_path.is_file() else []
    log = [e for e in log if isinstance(e, dict)] if isinstance(log, list) else []
    result = config.get("result") if isinstance(config.get("result"), dict) else {}
    section = Section(sid, "train", f"run folder {run_dir.name}", run_dir)
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    section.lines.append(
        f"model {section_model(config)}, V = {model.get('V')}, n = {model.get('n_ctx')}; "
        f"{result.get('steps')} steps, stopped by {result.get('stop_reason')}"
    )
    if log:
        section.figures.append(_training_figure(sid, run_dir, log))
    rows = [[text(k), number(v) if to_float(v) is not None else text(v)] for k, v in result.items()]
    section.tables.append(Table("training result", ["quantity", "value"], rows))
    section.settings = run_settings(config)
    section.provenance = recorded_provenance(config.get("provenance"), run_dir / "config.json")
    section.provenance |= {k: str(config[k]) for k in ("seed", "device") if k in config}
    command = train_command(run_dir, config)
    if command is not None:
        section.commands.append(command)
    return section


def section_model(config: dict) -> str:
    """The model's registered name, as a run folder records it."""
    return str(config.get("model_preset") or config.get("model_name"))


def run_tuple_length(run_dir: Path) -> int | None:
    """The tuple length ``n`` of a run folder (its model's ``n_ctx``), or None."""
    try:
        config = read_json(run_dir / "config.json")
        return int(config["model"]["n_ctx"])
    except (KeyError, TypeError, ValueError):
        return None


# --- reproduce: fig2 / fig3 ----------------------------------------------------------------


def _claim_line(name: str, claim: dict) -> str:
    details = ", ".join(
        f"{k} {_short(v)}" for k, v in claim.items() if k not in ("verdict", "rule")
    )
    return f"{name}: {claim.get('verdict')}" + (f" ({details})" if details else "")


def _short(value: Any) -> str:
    x = to_float(value)
    return str(value) if x is None else f"{x:.4g}"


def _tau_line(tau: str, v: dict) -> str:
    rho, low, high = (to_float(v.get(k)) for k in ("rho", "ci_low", "ci_high"))
    shown = "n/a" if rho is None else f"rho {rho:+.2f} [{low or 0:+.2f}, {high or 0:+.2f}]"
    return (
        f"tau={tau}: artifacts vs {v.get('x', 'parameters')} (claimed {v.get('claimed')}): "
        f"{shown}, {v.get('n_trials')} trials / {v.get('n_seeds')} seeds -> {v.get('verdict')}"
    )


def reproduce_verdicts(summary: dict) -> list[str]:
    """The verdict lines of a figure's summary: one per claim, and one per tau along an axis."""
    lines = [_claim_line(k, c) for k, c in (summary.get("claims") or {}).items()]
    axis = summary.get("axis_summary") or {}
    for tau, v in (axis.get("verdicts") or {}).items():
        lines.append(f"axis {axis.get('axis')}, " + _tau_line(tau, v | {"x": axis.get("x")}))
    return lines


def _trial_hover(row: dict[str, str], x: str, y: str) -> str:
    return (
        f"trial {row.get('trial')}, seed {row.get('seed')}: {x} {row.get(x)}, {y} {row.get(y)}, "
        f"{row.get('steps')} steps ({row.get('stop_reason')})"
    )


def _figure_artifacts(sid: str, summary: dict, rows: list[dict[str, str]], col: str) -> Figure:
    x = summary["x"]
    pts = summary["points"]
    xs = [p.get("x") for p in pts]
    means = [to_float(p.get("mean_artifacts")) for p in pts]
    bars = (
        [m - (to_float(p.get("min_artifacts")) or m) for m, p in zip(means, pts, strict=True)],
        [(to_float(p.get("max_artifacts")) or m) - m for m, p in zip(means, pts, strict=True)],
    )
    hover = [
        f"{x} {p.get('x')}: {p.get('n_trials')} trials, mean {m}"
        for p, m in zip(pts, means, strict=True)
    ]
    traces = [
        Trace(
            "artifacts (mean, min-max over seeds)",
            xs,
            means,
            "lines+markers",
            y_err=bars,
            hover=hover,
        )
    ]
    traces.append(
        Trace(
            "each trial",
            [to_float(r.get(x)) for r in rows],
            [to_float(r.get(col)) for r in rows],
            hover=[_trial_hover(r, x, col) for r in rows],
            size=5,
        )
    )
    return Figure(
        f"{sid}-artifacts",
        f"{summary.get('name')}: artifacts (p > {summary.get('tau')})",
        x,
        f"artifacts ({col})",
        traces,
        x_log=_log_x(summary, xs),
    )


def _log_x(summary: dict, xs: list[Any]) -> bool:
    """Parameters on a log axis (as the command's own plot), training triples not."""
    return summary.get("x") != "n_train" and log_scale(xs)


def _figure_ratio(sid: str, summary: dict) -> Figure:
    pts = summary["points"]
    xs = [p.get("x") for p in pts]
    mean = [to_float(p.get("mean_ratio")) for p in pts]
    bars = (
        [m - (to_float(p.get("min_ratio")) or m) for m, p in zip(mean, pts, strict=True)],
        [(to_float(p.get("max_ratio")) or m) - m for m, p in zip(mean, pts, strict=True)],
    )
    hover = [f"{summary['x']} {x}: ratio {m}" for x, m in zip(xs, mean, strict=True)]
    trace = Trace(
        "artifacts per training triple (mean, min-max)",
        xs,
        mean,
        "lines+markers",
        y_err=bars,
        hover=hover,
    )
    return Figure(
        f"{sid}-ratio",
        f"{summary.get('name')}: ratio",
        summary["x"],
        "artifacts / training triples",
        [trace],
        x_log=_log_x(summary, xs),
    )


def _figure_axis(sid: str, axis: dict) -> Figure:
    pts = axis.get("points") or []
    xs = [p.get(axis.get("x")) for p in pts]
    traces = []
    for tau in axis.get("taus") or []:
        ms = [(p.get("artifacts") or {}).get(str(tau), {}) for p in pts]
        hover = [
            f"{axis.get('axis')} {p.get('value')}: " + ci(m).text
            for p, m in zip(pts, ms, strict=True)
        ]
        traces.append(
            Trace(
                f"tau = {tau}",
                xs,
                [to_float(m.get("mean")) for m in ms],
                "lines+markers",
                y_err=err_bars(ms, clip=True),
                hover=hover,
            )
        )
    return Figure(
        f"{sid}-taus",
        f"along {axis.get('axis')}: artifacts at every tau (95% CI)",
        str(axis.get("x")),
        "artifacts (mean over seeds)",
        traces,
        x_log=log_scale(xs),
    )


def _points_table(summary: dict) -> Table:
    keys = (
        "x",
        "n_trials",
        "mean_artifacts",
        "std_artifacts",
        "min_artifacts",
        "max_artifacts",
        "mean_ratio",
        "context_share",
        "n_not_converged",
    )
    rows = [[number(p.get(k)) for k in keys] for p in summary["points"]]
    return Table("per point (means over seeds)", [summary["x"], *keys[1:]], rows)


def _trials_table(rows: list[dict[str, str]], x: str, col: str, extra: list[str]) -> Table:
    ratio = col.replace("n_artifacts", "ratio")
    keys = [
        "trial",
        "seed",
        x,
        *extra,
        "steps",
        "stop_reason",
        "train_loss",
        "train_accuracy",
        "mean_kl",
        col,
        ratio,
    ]
    body = [
        [number(r.get(k)) if k != "stop_reason" else text(r.get(k)) for k in keys] for r in rows
    ]
    return Table("per trial", keys, body)


def reproduce_section(folder: Path, stem: str, sid: str) -> Section:
    """The section of one reproduced figure (``STEM_summary.json``, ``STEM.csv``, ``STEM.yaml``)."""
    summary = read_summary(folder / f"{stem}_summary.json", ("name", "x", "tau", "points"))
    record_path = folder / f"{stem}_sweep.json"
    record = read_json(record_path) if record_path.is_file() else {}
    record = record if isinstance(record, dict) else {}
    rows = read_csv(folder / f"{stem}.csv") if (folder / f"{stem}.csv").is_file() else []
    col = f"n_artifacts@{to_float(summary['tau']):g}"
    section = Section(
        sid,
        "reproduce",
        f"{stem}: artifacts against {summary['x']}",
        folder / f"{stem}_summary.json",
    )
    scale = record.get("scale") or summary.get("scale")
    section.lines.append(
        f"artifacts against {summary['x']} at tau = {summary['tau']}; scale {scale}"
    )
    section.verdicts = reproduce_verdicts(summary)
    section.figures = [_figure_artifacts(sid, summary, rows, col), _figure_ratio(sid, summary)]
    axis = summary.get("axis_summary")
    extra = []
    if isinstance(axis, dict) and axis.get("points"):
        section.figures.append(_figure_axis(sid, axis))
        extra = [f"model.{axis.get('axis')}"]
    section.tables = [_points_table(summary)]
    if rows:
        section.tables.append(_trials_table(rows, summary["x"], col, extra))
    section.config_text = read_text(folder / f"{stem}.yaml")
    section.provenance = recorded_provenance(
        record.get("provenance") or summary.get("provenance"), section.path
    )
    section.provenance |= row_provenance(rows, section.path) if rows else {}
    command = reproduce_command(folder, stem, scale)
    section.commands += [command] if command is not None else []
    return section
