"""Sections of the report for ``compare``, ``mitigate`` and plain sweep results.

A sweep result is a results store (``DIR/results.sqlite`` with ``trials/``, read-only,
its format checked by :class:`~artifactlab.experiments.store.ResultsStore`) or a table
exported by ``sweep export`` (CSV, or Parquet when pyarrow is installed).

Example
-------
>>> is_sweep_header(["trial", "hash", "seed", "n_artifacts@0.5", "version", "git_revision"])
True
>>> varying([{"a": "1", "b": "x"}, {"a": "2", "b": "x"}], ["a", "b"])
['a']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.web.report_commands import compare_command, mitigate_command, rerun, shell
from artifactlab.web.report_figures import Figure, Trace, log_scale
from artifactlab.web.report_model import (
    Command,
    Section,
    Table,
    ci,
    err_bars,
    number,
    read_csv,
    read_summary,
    read_text,
    row_provenance,
    text,
    to_float,
)

#: the first keys of a config in a sweep table (the rest of a row are its metrics)
CONFIG_PREFIXES = ("data.", "model.", "train.", "eval.", "mitigation.")
#: at most this many rows of a sweep are shown in its table (the figure shows them all)
MAX_ROWS = 2000


# --- compare ------------------------------------------------------------------------------


def _compare_figure(sid: str, summary: dict, title: str) -> Figure:
    traces = []
    for model in dict.fromkeys(t["model"] for t in summary["trials"]):
        group = [t for t in summary["trials"] if t["model"] == model]
        hover = [
            f"{model}, seed {t.get('seed')}: {number(t.get('n_artifacts@0.5')).text} artifacts, "
            f"test acc {number(t.get('test_accuracy')).text}, MRR {number(t.get('tail_mrr')).text}"
            for t in group
        ]
        traces.append(
            Trace(
                model,
                [to_float(t.get("hallucinations@0.5")) for t in group],
                [to_float(t.get("generalizations@0.5")) for t in group],
                hover=hover,
                size=9,
            )
        )
    return Figure(
        f"{sid}-scatter",
        title,
        "hallucinations (artifacts not in G), tau = 0.5",
        "generalizations (artifacts in G)",
        traces,
    )


def _compare_table(title: str, entries: list[dict], key: str) -> Table:
    from artifactlab.experiments.compare import COLUMNS

    columns = [(c, h) for c, h in COLUMNS if any(to_float(e.get(c)) is not None for e in entries)]
    rows = [
        [text(e.get("model")), number(e.get(key)), *(number(e.get(c)) for c, _ in columns)]
        for e in entries
    ]
    return Table(title, ["model", key, *(h for _, h in columns)], rows)


def compare_section(folder: Path, sid: str) -> Section:
    """The section of one ``compare --out`` folder (``compare_summary.json`` and its files)."""
    path = folder / "compare_summary.json"
    summary = read_summary(path, ("trials", "rows"))
    rows = read_csv(folder / "compare.csv") if (folder / "compare.csv").is_file() else []
    source = rows[0].get("data.source") if rows else None
    section = Section(sid, "compare", f"models compared on {source or folder.name}", path)
    section.lines.append(
        f"{len(summary['rows'])} models on {source or 'the data'}; artifacts at "
        "tau = 0.5 split by the truth set G"
    )
    title = f"{source or folder.name}: generalizations vs hallucinations"
    section.figures = [_compare_figure(sid, summary, title)]
    section.tables = [
        _compare_table("means per model", summary["rows"], "seeds"),
        _compare_table("per model and seed", summary["trials"], "seed"),
    ]
    section.config_text = read_text(folder / "compare.yaml")
    section.provenance = row_provenance(rows, section.path) if rows else {}
    section.commands = _commands(compare_command(folder), folder / "compare.yaml")
    return section


def _commands(checked: Command | None, sweep_file: Path) -> list[Command]:
    if checked is not None:
        return [checked]
    return [rerun(sweep_file)] if sweep_file.is_file() else []


# --- mitigate -----------------------------------------------------------------------------


def _label(p: dict) -> str:
    return (
        "none"
        if p.get("method") == "none"
        else f"{p.get('method')} {to_float(p.get('strength')) or 0:g}"
    )


def _mitigate_trace(name: str, pts: list[dict], errors: bool = True, **style: Any) -> Trace:
    h = [p.get("hallucinations") or {} for p in pts]
    g = [p.get("generalizations") or {} for p in pts]
    hover = [
        f"{_label(p)}: hallucinations {ci(a).text}, generalizations {ci(b).text}"
        for p, a, b in zip(pts, h, g, strict=True)
    ]
    bars = {"x_err": err_bars(h, clip=True), "y_err": err_bars(g, clip=True)} if errors else {}
    return Trace(
        name,
        [to_float(m.get("mean")) for m in h],
        [to_float(m.get("mean")) for m in g],
        hover=hover,
        **bars,
        **style,
    )


def _mitigate_figure(sid: str, i: int, ds: dict) -> Figure:
    pts = [p for p in ds.get("points") or [] if isinstance(p, dict)]
    base = [p for p in pts if p.get("method") == "none"]
    traces = []
    for method in dict.fromkeys(p.get("method") for p in pts if p.get("method") != "none"):
        line = sorted(
            (p for p in pts if p.get("method") == method), key=lambda p: p.get("strength") or 0
        )
        traces.append(_mitigate_trace(str(method), base + line, mode="lines+markers"))
    if base:
        traces.append(
            _mitigate_trace("unmitigated", base, marker="star", size=14, colour="#000000")
        )
    front = sorted(
        (p for p in pts if p.get("on_front")),
        key=lambda p: to_float((p.get("hallucinations") or {}).get("mean")) or 0,
    )
    if front:
        traces.append(
            _mitigate_trace(
                "Pareto front",
                front,
                errors=False,
                mode="lines",
                dash=True,
                step=True,
                colour="#7f7f7f",
            )
        )
    xs = [x for t in traces for x in t.x]
    return Figure(
        f"{sid}-{i}",
        f"{ds.get('dataset')}: generalizations vs hallucinations",
        "hallucinations (artifacts not in G), mean and 95% CI",
        "generalizations (artifacts in G)",
        traces,
        x_log=log_scale(xs),
    )


def _mitigate_tables(ds: dict) -> list[Table]:
    from artifactlab.experiments.mitigation import MEASURES

    names = list(MEASURES)
    points = [
        [
            text(_label(p)),
            number(p.get("n")),
            *(ci(p.get(n)) for n in names),
            text("yes" if p.get("on_front") else "no"),
        ]
        for p in ds.get("points") or []
    ]
    changes = [
        [text(_label(c)), ci(c.get("hallucinations_removed")), ci(c.get("generalizations_lost"))]
        for c in ds.get("changes") or []
    ]
    return [
        Table(
            f"{ds.get('dataset')}: per point (mean [95% CI] over seeds)",
            ["point", "seeds", *(MEASURES[n][1] for n in names), "on front"],
            points,
        ),
        Table(
            f"{ds.get('dataset')}: against the unmitigated point (paired by seed)",
            ["point", "hallucinations removed", "generalizations lost"],
            changes,
        ),
    ]


def mitigate_section(folder: Path, sid: str) -> Section:
    """The section of one ``mitigate --out`` folder (``mitigate_summary.json`` and its files)."""
    path = folder / "mitigate_summary.json"
    summary = read_summary(path, ("datasets",))
    rows = read_csv(folder / "mitigate.csv") if (folder / "mitigate.csv").is_file() else []
    names = ", ".join(str(d.get("dataset")) for d in summary["datasets"])
    section = Section(sid, "mitigate", f"mitigations on {names or folder.name}", path)
    section.lines = [
        f"Pareto front: {summary.get('rule')}",
        f"definitions: {summary.get('definitions')}",
    ]
    for i, ds in enumerate(summary["datasets"]):
        front = ", ".join(_label(p) for p in ds.get("front") or []) or "none"
        section.lines.append(
            f"{ds.get('dataset')}: Pareto front (fewest hallucinations first): {front}"
        )
        section.figures.append(_mitigate_figure(sid, i, ds))
        section.tables += _mitigate_tables(ds)
    section.config_text = read_text(folder / "mitigate.yaml")
    section.provenance = row_provenance(rows, section.path) if rows else {}
    section.commands = _commands(mitigate_command(folder), folder / "mitigate.yaml")
    return section


# --- plain sweeps: a results store or an exported table ------------------------------------


def is_sweep_header(columns: list[str]) -> bool:
    """Whether table columns are those ``sweep export`` writes (trial, hash, ..., version)."""
    return columns[:2] == ["trial", "hash"] and {"version", "git_revision"} <= set(columns)


def varying(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """The columns whose value is not the same in every row."""
    return [c for c in columns if len({str(r.get(c)) for r in rows}) > 1]


def store_rows(store_dir: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A results store's finished trials as ``sweep export`` rows, and its status counts."""
    from collections import Counter

    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.table import flatten

    store = ResultsStore.read(store_dir)
    if store is None:
        return [], {}
    try:
        every = store.rows()
    finally:
        store.close()
    counts = dict(Counter(r["status"] for r in every))
    rows = [
        {
            "trial": r["idx"],
            "hash": r["hash"],
            **flatten(r["config"] or {}),
            **(r["metrics"] or {}),
            **(r["timings"] or {}),
            "attempts": r["attempts"],
            "version": r["version"],
            "git_revision": r["git_revision"],
        }
        for r in every
        if r["status"] == "done"
    ]
    return rows, counts


def table_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of an exported sweep table (CSV, or Parquet with pyarrow)."""
    if path.suffix != ".parquet":
        return read_csv(path)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            str(path),
            "is a Parquet table, but pyarrow is not installed",
            'pip install "artifactlab[parquet]"',
        ) from None
    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # pyarrow raises its own error types for a damaged file
        raise InputError(str(path), f"is not a readable Parquet table ({err})") from None


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    out: dict[str, None] = {}
    for r in rows:
        out.update(dict.fromkeys(r))
    return list(out)


def _sweep_figure(
    sid: str, rows: list[dict[str, Any]], config: list[str], metrics: list[str]
) -> Figure | None:
    numeric = [c for c in metrics if any(to_float(r.get(c)) is not None for r in rows)]
    if not numeric:
        return None
    y = next((c for c in numeric if c.startswith("n_artifacts@")), numeric[0])
    xs = [
        c
        for c in varying(rows, config)
        if c != "seed" and all(to_float(r.get(c)) is not None for r in rows)
    ]
    x = xs[0] if xs else "trial"
    shown = varying(rows, config)
    hover = [
        f"trial {r.get('trial')}: "
        + ", ".join(f"{c}={r.get(c)}" for c in shown)
        + f"; {y} {r.get(y)}"
        for r in rows
    ]
    values = [to_float(r.get(x)) for r in rows]
    trace = Trace("each trial", values, [to_float(r.get(y)) for r in rows], hover=hover)
    return Figure(f"{sid}-trials", f"{y} against {x}", x, y, [trace], x_log=log_scale(values))


def sweep_section(path: Path, sid: str) -> Section:
    """The section of a results store folder, or of an exported sweep table."""
    is_store = path.is_dir()
    rows, counts = store_rows(path) if is_store else (table_rows(path), {})
    sweep_file = path.parent / f"{path.name if is_store else path.stem}.yaml"
    title = f"sweep {path.stem if not is_store else path.name}" + (
        "" if is_store else " (exported table)"
    )
    section = Section(sid, "sweep", title, path)
    state = (
        ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) if counts else f"{len(rows)} rows"
    )
    section.lines.append(f"{'results store' if is_store else 'exported table'}: {state}")
    columns = _columns(rows)
    config = [c for c in columns if c == "seed" or c.startswith(CONFIG_PREFIXES)]
    metrics = [
        c
        for c in columns
        if c not in config and c not in ("trial", "hash", "attempts", "version", "git_revision")
    ]
    figure = _sweep_figure(sid, rows, config, metrics) if rows else None
    section.figures += [figure] if figure is not None else []
    keys = ["trial", *varying(rows, config), *metrics]
    body = [
        [number(r.get(k)) if to_float(r.get(k)) is not None else text(r.get(k)) for k in keys]
        for r in rows[:MAX_ROWS]
    ]
    note = f"the first {MAX_ROWS} of {len(rows)} rows" if len(rows) > MAX_ROWS else ""
    section.tables.append(Table("per trial", keys, body, note))
    section.settings = {c: str(rows[0].get(c)) for c in config if c not in keys} if rows else {}
    section.config_text = read_text(sweep_file)
    section.provenance = row_provenance(rows, section.path)
    if sweep_file.is_file():
        section.commands.append(rerun(sweep_file))
        if not is_store:
            words = ["artifactlab", "sweep", "export", str(sweep_file), "--out", str(path)]
            words += ["--format", "parquet"] if path.suffix == ".parquet" else []
            section.commands.append(
                Command(shell(words), "exports the table from the sweep's store")
            )
    return section
