"""``docs/claims.md``: the results page of ``artifactlab claims``, rendered from its result files.

Reads ``DIR/claim-X_summary.json`` (written by
:func:`artifactlab.experiments.claims.render` from ``DIR/claim-X.csv``) for each claim
present and renders, per claim, its figure (a panel per operationalisation), and per
operationalisation how each term was made concrete, the table of means with 95%
intervals and the verdicts with their rule; a verdict that is not ``supported`` is
flagged as disagreeing with the paper's expectation. Nothing here is typed by hand::

    python -m artifactlab.report.claims_doc docs/figures/claims --out docs/claims.md

Example
-------
>>> v = {"y": "n", "x": "d", "claimed": "negative", "rho": -0.5, "ci_low": -0.8,
...      "ci_high": -0.2, "n_trials": 20, "n_seeds": 5, "verdict": "supported"}
>>> agreement(v)
'agrees with the paper'
>>> agreement(v | {"verdict": "contradicted"})
'**disagrees with the paper** (it expects a negative trend; the data give the opposite)'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from artifactlab.errors import InputError
from artifactlab.experiments.claims import CLAIMS, MEASURES, verdict_line

#: the page's opening, before the claims
HEAD = """# The paper's open claims, tested

The paper lists claims it leaves to future work (its section 4, from section 3):
(a) overfitting leads to fewer artifacts; (b) generalization error increases when
overfitting, for lack of artifacts; (c) generalization error is low when the effective
rank of train + test is close to that of train alone; (d) augmenting the training data
with unsupported-token sentences outside it mitigates hallucinations (for (d) the cost
in generalizations is decided beside it by the same rule). `artifactlab claims` runs each as
a sweep ({seeds} model seeds per point) and decides each operationalisation by one
pre-declared rule, never by hand:

> {rule}

This page is generated from the result files in `{folder}` by
`python -m artifactlab.report.claims_doc {folder} --out docs/claims.md`; the numbers
come from the CSVs there (means with 95% Student-t intervals over seeds).
"""


def agreement(v: dict) -> str:
    """Whether a verdict agrees with the paper's expectation, said plainly.

    A ``cost`` line (claim (d): generalizations against the augmentation) is no claim of
    the paper: it says whether the mitigation costs generalizations (section 3.5's warning).
    """
    if v.get("role") == "cost":
        return {
            "supported": "**costs generalizations** (the trade-off section 3.5 warns of)",
            "contradicted": "gains generalizations",
        }.get(v["verdict"], "no cost shown (the interval includes 0, or nothing varies)")
    if v["verdict"] == "supported":
        return "agrees with the paper"
    if v["verdict"] == "contradicted":
        return f"**disagrees with the paper** (it expects a {v['claimed']} trend; the data give the opposite)"  # noqa: E501
    return (
        f"**not what the paper expects** (it expects a {v['claimed']} trend; the interval "
        "includes 0, or the numbers do not vary: no trend either way)"
    )


def _cell(m: dict) -> str:
    if m.get("mean") is None:
        return "n/a"
    return f"{m['mean']:.3g} [{m['ci_low']:.3g}, {m['ci_high']:.3g}]"


def _panel(p: dict) -> list[str]:
    lines = [
        f"### {p['id']} ({p['dataset']})",
        "",
        f"Operationalisation: {p['operationalisation']}.",
    ]
    if p["params"]:
        lines[-1] += " Dataset parameters: " + ", ".join(f"{k}={v}" for k, v in p["params"].items())
    header = ["point", "x", *(label for _, label in MEASURES.values()), "train loss", "stops"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for pt in p["points"]:
        stops = ", ".join(f"{k} {n}" for k, n in pt["stop_reasons"].items())
        cells = [pt["point"], f"{pt['x']:.3g}", *(_cell(pt[m]) for m in MEASURES),
                 _cell(pt["train_loss"]), stops]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for v in p["verdicts"]:
        lines.append(f"- {verdict_line(v)}: {agreement(v)}")
    return lines + [""]


def claim_section(summary: dict, folder: str) -> list[str]:
    """The markdown of one claim."""
    c = summary["claim"]
    command = f"artifactlab claims {c} --out {folder}{' --quick' if summary['quick'] else ''}"
    lines = [f"## Claim ({c}): {summary['statement']}", "", f"Made by `{command}`.", ""]
    lines += [f"![claim ({c})](figures/claims/claim-{c}.png)", ""]
    for p in summary["panels"]:
        lines += _panel(p)
    pooled = summary.get("pooled")
    if pooled:
        lines += [
            "### All datasets together",
            "",
            f"- {verdict_line(pooled)}: {agreement(pooled)}",
            "",
        ]
    return lines


def overview(summaries: list[dict]) -> list[str]:
    """One row per verdict: the claim, the operationalisation, the trend and the verdict."""
    lines = [
        "## Verdicts at a glance",
        "",
        "| claim | operationalisation | trend | rho [95% CI] | verdict | vs the paper |",
        "|---|---|---|---|---|---|",
    ]  # noqa: E501
    for s in summaries:
        rows = [(p["id"], v) for p in s["panels"] for v in p["verdicts"]]
        rows += [("pooled", s["pooled"])] if s.get("pooled") else []
        for pid, v in rows:
            rho = "n/a" if v["rho"] is None else f"{v['rho']:+.2f}"
            ci = "n/a" if v["ci_low"] is None else f"[{v['ci_low']:+.2f}, {v['ci_high']:+.2f}]"
            ok = {"supported": "agrees", "contradicted": "disagrees"}.get(v["verdict"], "not shown")
            if v.get("role") == "cost":
                ok = {"supported": "costs", "contradicted": "gains"}.get(v["verdict"], "no cost")
            trend = f"{v['y']} vs {v['x']}, claimed {v['claimed']}"
            cells = [f"({s['claim']})", pid, trend, f"{rho} {ci}", v["verdict"], ok]
            lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def render_page(folder: Path, shown: str | None = None) -> str:
    """The page from the summaries in ``folder`` (``shown``: the folder as the page names it)."""
    shown = shown or folder.as_posix()
    summaries = []
    for c in CLAIMS:
        path = folder / f"claim-{c}_summary.json"
        if path.is_file():
            summaries.append(json.loads(path.read_text()))
    if not summaries:
        raise InputError(
            str(folder), "holds no claim-X_summary.json", "run `artifactlab claims` first"
        )
    first = summaries[0]
    lines = [HEAD.format(seeds=first["seeds"], rule=first["rule"], folder=shown)]
    lines += overview(summaries)
    for s in summaries:
        lines += claim_section(s, shown)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m artifactlab.report.claims_doc DIR --out docs/claims.md``."""
    parser = argparse.ArgumentParser(prog="python -m artifactlab.report.claims_doc")
    parser.add_argument("folder", type=Path, help="the --out folder of `artifactlab claims`")
    parser.add_argument("--out", type=Path, default=Path("docs/claims.md"))
    args = parser.parse_args(argv)
    from artifactlab.io import write_text

    try:
        write_text(args.out, render_page(args.folder))
    except InputError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
