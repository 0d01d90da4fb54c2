"""The report's section of one claim of ``artifactlab claims`` (a, b, c or d).

Read from ``claim-X_summary.json`` (and ``claim-X.csv``, ``claim-X.yaml``) as the command
wrote them: one figure per panel (its claimed measure, mean and 95% interval, against
the panel's axis; claims b and d beside a second measure), one table of every panel's
points, and the verdict lines of the summary, printed with the command's own
:func:`~artifactlab.experiments.claims.verdict_line`.

Example
-------
>>> from pathlib import Path
>>> s = claims_section(Path("docs/figures/claims"), "a", "claims-a")
>>> len(s.figures), s.verdicts[0].split(" -> ")[-1]
(6, 'contradicted')
"""

from __future__ import annotations

from pathlib import Path

from artifactlab.web.report_commands import claims_command
from artifactlab.web.report_figures import Figure, Trace
from artifactlab.web.report_model import (
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


def _claim_figure(sid: str, claim: str, panel: dict) -> Figure:
    from artifactlab.experiments.claims import MEASURES, TRENDS

    pts = sorted(panel.get("points") or [], key=lambda q: to_float(q.get("x")) or 0.0)
    names = [TRENDS[claim][0][0]] + (
        ["artifacts" if claim == "b" else "generalizations"] if claim in ("b", "d") else []
    )
    traces = []
    for i, name in enumerate(names):
        ms = [q.get(name) or {} for q in pts]
        hover = [
            f"point {q.get('point')}: {MEASURES[name][1]} {ci(m).text}"
            for q, m in zip(pts, ms, strict=True)
        ]
        mode = "markers" if panel.get("axis") == "split" else "lines+markers"
        traces.append(
            Trace(
                MEASURES[name][1],
                [q.get("x") for q in pts],
                [to_float(m.get("mean")) for m in ms],
                mode,
                y_err=err_bars(ms),
                hover=hover,
                secondary=i == 1,
            )
        )
    verdict = (panel.get("verdicts") or [{}])[0].get("verdict")
    y2 = MEASURES[names[1]][1] if len(names) > 1 else None
    return Figure(
        f"{sid}-{panel.get('id')}",
        f"{panel.get('id')}: {verdict}",
        str(panel.get("x")),
        f"{MEASURES[names[0]][1]} (mean, 95% CI)",
        traces,
        y2_label=y2,
    )


def _claim_table(summary: dict) -> Table:
    from artifactlab.experiments.claims import MEASURES

    columns = [
        "panel",
        "dataset",
        "point",
        "x",
        *(label for _, label in MEASURES.values()),
        "stops",
    ]
    rows = []
    for panel in summary["panels"]:
        for q in panel.get("points") or []:
            stops = ", ".join(f"{k} {n}" for k, n in (q.get("stop_reasons") or {}).items())
            rows.append(
                [
                    text(panel.get("id")),
                    text(panel.get("dataset")),
                    text(q.get("point")),
                    number(q.get("x")),
                    *(ci(q.get(m)) for m in MEASURES),
                    text(stops),
                ]
            )
    return Table("per panel and point (mean [95% CI] over seeds)", columns, rows)


def claims_verdicts(summary: dict) -> list[str]:
    """The verdict lines of a claim's summary, one per panel and trend, and the pooled one."""
    from artifactlab.experiments.claims import verdict_line

    lines = [
        f"[{p.get('id')}] {verdict_line(v)}"
        for p in summary["panels"]
        for v in p.get("verdicts") or []
    ]
    if summary.get("pooled"):
        lines.append(f"pooled: {verdict_line(summary['pooled'])}")
    return lines


def claims_section(folder: Path, claim: str, sid: str) -> Section:
    """The section of one claim (``claim-X_summary.json``, ``claim-X.csv``, ``claim-X.yaml``)."""
    path = folder / f"claim-{claim}_summary.json"
    summary = read_summary(path, ("claim", "statement", "panels"))
    rows = (
        read_csv(folder / f"claim-{claim}.csv") if (folder / f"claim-{claim}.csv").is_file() else []
    )
    section = Section(sid, "claims", f"claim ({claim}): {summary['statement']}", path)
    quick = bool(summary.get("quick"))
    section.lines = [
        f"rule: {summary.get('rule')}",
        f"{'quick' if quick else 'full'} sweep, {len(summary['panels'])} panels",
    ]
    section.verdicts = claims_verdicts(summary)
    section.figures = [_claim_figure(sid, claim, p) for p in summary["panels"] if p.get("points")]
    section.tables = [_claim_table(summary)]
    section.config_text = read_text(folder / f"claim-{claim}.yaml")
    section.provenance = row_provenance(rows, section.path) if rows else {}
    command = claims_command(folder, claim, quick)
    section.commands += [command] if command is not None else []
    return section
