"""The documents agree with the code: committed summaries, generated blocks, links, keys.

- every committed ``*_summary.json`` equals what the code computes now from its CSV;
- README.md and BENCHMARKS.md have no stale generated block;
- the user documents name no issue numbers and link nowhere outside the repository;
- every generated block's key names a renderer and a file that exists.

Each check also runs on a copy with one number changed, to show that it can fail.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from artifactlab.report import bench_docs, result_docs  # noqa: F401 (they register renderers)
from artifactlab.report.docs import (
    RENDERERS,
    blocks,
    differences,
    parse_key,
    source_files,
    sync_blocks,
)
from artifactlab.report.result_docs import dd_summary, figure_summary

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "BENCHMARKS.md")
#: fields that record when and where a summary was made, not what it says
PROVENANCE = {"sweep_file", "scale", "provenance", "command", "created"}

FIGURE_SUMMARIES = sorted(ROOT.glob("docs/figures/**/fig[0-9]_summary.json"))
COMPARE_SUMMARIES = sorted(ROOT.glob("docs/figures/compare/*/compare_summary.json"))


def _user_docs() -> list[Path]:
    return [ROOT / d for d in DOCS] + sorted((ROOT / "docs").glob("*.md"))


def _content(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in PROVENANCE}


def _figure_differences(summary_path: Path) -> list[str]:
    committed = json.loads(summary_path.read_text())
    csv_path = summary_path.with_name(summary_path.name.replace("_summary.json", ".csv"))
    result_docs._figure_summary.cache_clear()
    return differences(_content(committed), _content(figure_summary(csv_path)))


def _compare_differences(summary_path: Path) -> list[str]:
    from artifactlab.experiments.compare import summarise

    committed = json.loads(summary_path.read_text())
    return differences(committed, summarise(summary_path.with_name("compare.csv")))


# --- (a) committed summaries equal what the code computes from the committed CSVs -------


def test_the_committed_summaries_are_all_found():
    assert len(FIGURE_SUMMARIES) >= 4 and len(COMPARE_SUMMARIES) >= 4


@pytest.mark.parametrize("path", FIGURE_SUMMARIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_figure_summary_equals_the_code_on_its_csv(path):
    # stale: re-render with `artifactlab reproduce FIG --out DIR --render-only`
    assert _figure_differences(path) == []


@pytest.mark.parametrize("path", COMPARE_SUMMARIES, ids=lambda p: str(p.parent.name))
def test_compare_summary_equals_the_code_on_its_csv(path):
    # stale: re-render with artifactlab.experiments.compare.render(folder, title)
    assert _compare_differences(path) == []


def test_double_descent_summary_equals_the_code_on_its_csv():
    path = ROOT / "docs/figures/interp/dd/double_descent_summary.json"
    committed = json.loads(path.read_text())
    computed = dd_summary(path)
    assert differences({k: committed[k] for k in computed}, computed) == []


def test_hull_summary_equals_its_csv():
    from artifactlab.report.docs import read_csv

    folder = ROOT / "docs/figures/interp/hull"
    committed = json.loads((folder / "hull_summary.json").read_text())
    rows = [{k: float(v) for k, v in r.items()} for r in read_csv(folder / "hull_rate.csv")]
    assert differences(committed["results"], rows) == []
    config = committed["config"]
    assert [(r["dim"], r["n_train"]) for r in rows] == [
        (d, n) for d in config["dims"] for n in config["n_trains"]
    ]


def test_fit_summary_equals_its_csvs():
    from artifactlab.report.docs import read_csv

    folder = ROOT / "docs/figures/interp/fit"
    committed = json.loads((folder / "fit_summary.json").read_text())

    def typed(rows):
        return [{k: None if v == "" else (v if k == "method" else float(v)) for k, v in r.items()}
                for r in rows]  # fmt: skip

    assert differences(committed["results"], typed(read_csv(folder / "fit.csv"))) == []
    assert differences(committed["pieces"], typed(read_csv(folder / "pieces.csv"))) == []


def test_a_changed_number_in_a_summary_is_caught(tmp_path):
    source = ROOT / "docs/figures/fig2_summary.json"
    shutil.copy(source.with_name("fig2.csv"), tmp_path / "fig2.csv")
    summary = json.loads(source.read_text())
    assert _figure_differences(source) == []  # the code may move on; this copy is the baseline
    summary["points"][1]["mean_artifacts"] += 1
    (tmp_path / "fig2_summary.json").write_text(json.dumps(summary))
    assert _figure_differences(tmp_path / "fig2_summary.json") == [
        "points.1.mean_artifacts: 13887.0 != 13886.0"
    ]


def test_a_changed_verdict_in_a_summary_is_caught(tmp_path):
    source = ROOT / "docs/figures/fig2_summary.json"
    shutil.copy(source.with_name("fig2.csv"), tmp_path / "fig2.csv")
    summary = json.loads(source.read_text())
    summary["claims"]["ratio_5_to_20"]["verdict"] = "not supported"
    (tmp_path / "fig2_summary.json").write_text(json.dumps(summary))
    assert _figure_differences(tmp_path / "fig2_summary.json") == [
        "claims.ratio_5_to_20.verdict: 'not supported' != 'partly supported'"
    ]


def test_a_changed_csv_is_caught(tmp_path):
    folder = ROOT / "docs/figures/compare/nations"
    shutil.copy(folder / "compare_summary.json", tmp_path)
    lines = (folder / "compare.csv").read_text().splitlines(True)
    header = lines[0].rstrip("\n").split(",")
    column = header.index("generalizations@0.5")
    cells = lines[1].rstrip("\n").split(",")
    cells[column] = str(float(cells[column]) + 1)
    lines[1] = ",".join(cells) + "\n"
    (tmp_path / "compare.csv").write_text("".join(lines))
    assert _compare_differences(tmp_path / "compare_summary.json")


# --- (b) no stale generated block --------------------------------------------------------


@pytest.mark.parametrize("name", DOCS)
def test_generated_blocks_are_up_to_date(name):
    text = (ROOT / name).read_text()
    assert blocks(text), f"{name} has no generated blocks"
    assert sync_blocks(text, ROOT) == text, (
        f"{name} is stale: run `python -m artifactlab.report.docs --write {name}`"
    )


def test_a_hand_edited_number_in_a_generated_block_is_caught():
    key = "figure-table docs/figures/fig2.csv"
    text = sync_blocks(f"## Fig. 2\n\n<!-- generated: {key} -->\n<!-- /generated -->\n", ROOT)
    assert "| ratio to `N` | 52.1x |" in text
    edited = text.replace("52.1x", "52.2x", 1)
    assert sync_blocks(edited, ROOT) == text != edited


def test_a_changed_source_file_makes_a_block_stale(tmp_path):
    (tmp_path / "docs/figures").mkdir(parents=True)
    csv_path = tmp_path / "docs/figures/fig2.csv"
    shutil.copy(ROOT / "docs/figures/fig2.csv", csv_path)
    key = "verdict docs/figures/fig2.csv ratio_5_to_20"
    text = f"x <!-- generated: {key} -->partly supported<!-- /generated --> y"
    result_docs._figure_summary.cache_clear()
    assert sync_blocks(text, tmp_path) == text
    lines = csv_path.read_text().splitlines(True)
    column = lines[0].rstrip("\n").split(",").index("ratio@0.5")
    for i, line in enumerate(lines[1:], start=1):  # every trial inside the paper's 5-20x band
        cells = line.rstrip("\n").split(",")
        cells[column] = "10.0"
        lines[i] = ",".join(cells) + "\n"
    csv_path.write_text("".join(lines))
    result_docs._figure_summary.cache_clear()
    assert sync_blocks(text, tmp_path) == text.replace("partly supported", "supported")
    result_docs._figure_summary.cache_clear()


def test_an_unclosed_block_is_refused():
    with pytest.raises(ValueError, match="line 2"):
        sync_blocks("a\n<!-- generated: verdict docs/figures/fig2.csv x -->\nb\n", ROOT)


# --- (c) no issue numbers, no links outside the repository -------------------------------

ISSUE = re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE)
OUTSIDE = re.compile(r"\]\((\.\./|/(?!/)|file:)")


def _offences(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if ISSUE.search(line) or OUTSIDE.search(line):
            found.append(f"{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", _user_docs(), ids=lambda p: p.name)
def test_no_issue_numbers_and_no_links_outside_the_repository(path):
    assert _offences(path.read_text()) == []


def test_an_issue_number_or_an_outside_link_is_caught():
    assert _offences("## Batched training (issue 3)\n")
    assert _offences("see [SPEC](../shared/SPEC.md)\n")
    assert not _offences("see [BENCHMARKS.md](BENCHMARKS.md) and [docs](docs/figures/)\n")


# --- (d) every key names a renderer and an existing file ---------------------------------


@pytest.mark.parametrize("name", DOCS)
def test_every_generated_key_names_a_renderer_and_an_existing_file(name):
    for key, _, _ in blocks((ROOT / name).read_text()):
        kind, path, _ = parse_key(key)
        assert kind in RENDERERS, key
        assert source_files(ROOT, path), f"{name}: {key!r} names no existing file"


def test_a_key_naming_a_missing_file_is_caught():
    key = "compare-table docs/figures/compare/nowhere/compare.csv"
    text = f"<!-- generated: {key} -->x<!-- /generated -->"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        sync_blocks(text, ROOT)


def test_the_threads_record_renders_its_ratios(tmp_path):
    record = {
        "benchmark": "threads",
        "command": "python benchmarks/threads.py",
        "rows": [],
        "ratios": [
            {
                "command": "train",
                "condition": "idle",
                "default_over_best": 1.1,
                "within_1_25": True,
            },
            {
                "command": "sweep",
                "condition": "busy",
                "default_over_best": 1.6,
                "within_1_25": False,
            },
        ],
    }
    (tmp_path / "threads.json").write_text(json.dumps(record))
    text = sync_blocks(
        "<!-- generated: bench-threads threads.json -->\n<!-- /generated -->", tmp_path
    )
    assert "| `train` | idle | 1.10 | yes |" in text
    assert "| `sweep` | busy | 1.60 | **no** |" in text
