"""``artifactlab report``: discovery, the page, its PNGs, the rebuilt commands, bad input."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import sqlite3
import sys
import types
from pathlib import Path

import pytest
from report_fixtures import DOCS_FIGURES, build, page_data, refused, results_dir, run

from artifactlab.web import report_write
from artifactlab.web.report import collect, discover
from artifactlab.web.report_figures import Figure, Trace, plotly_figure
from artifactlab.web.report_model import Cell, Table
from artifactlab.web.report_page import table_html, verdict_class

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return results_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def built(results, tmp_path_factory) -> tuple[Path, dict]:
    """The report of every result, built once: its folder and the --json output."""
    return build(results, tmp_path_factory.mktemp("report-out") / "report")


# --- discovery ------------------------------------------------------------------------------


def test_every_kind_is_found_once(results):
    found = {(f.kind, f.path.relative_to(results).as_posix()) for f in discover(results)}
    assert found == {
        ("train", "run3"),
        ("train", "run4"),
        ("reproduce", "repro/fig2_summary.json"),
        ("compare", "cmp/compare_summary.json"),
        ("mitigate", "mit/mitigate_summary.json"),
        ("claims", "claims/claim-a_summary.json"),
        ("sweep", "sw/mysweep"),
        ("sweep", "tables/mysweep.csv"),
    }


def test_stores_are_not_walked_and_depth_limits_the_walk(results):
    # the stores' trial folders are run folders too, but belong to their sweeps
    assert not any("trials" in f.path.parts for f in discover(results))
    assert discover(results.parent, depth=1) == []  # every result is 2 levels down
    assert len(discover(results.parent, depth=2)) == len(discover(results)) == 8


def test_a_single_result_folder_is_its_own_section(results):
    for folder, kind in (("run3", "train"), ("sw/mysweep", "sweep"), ("mit", "mitigate")):
        sections = collect(results / folder, 3)
        assert [(s.kind, s.label) for s in sections] == [(kind, Path(folder).name)]


def test_the_committed_docs_figures_give_every_section_with_checked_commands():
    # docs/figures/text/work (a run folder) is git-ignored: it is there only once made
    sections = [s for s in collect(DOCS_FIGURES, 3) if s.kind != "train"]
    kinds = [s.kind for s in sections]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "reproduce": 9,
        "claims": 4,
        "compare": 6,
        "mitigate": 3,
        "interp": 3,  # checked in test_report_interp.py
    }
    for s in (s for s in sections if s.kind != "interp"):
        assert s.figures and s.tables and s.provenance, s.id
        assert [c.how.startswith("rebuilt") for c in s.commands] == [True], s.id
    fig2 = next(s for s in sections if s.label == "fig2")
    assert fig2.commands[0].text == "artifactlab reproduce fig2 --out " + str(DOCS_FIGURES)
    assert fig2.provenance["git revision"] == "706bd44868a7616764b040283847d21f5ba82d73"


# --- the page ---------------------------------------------------------------------------------


def test_report_writes_a_self_contained_page_and_a_png_per_figure(built):
    out, info = built
    text = (out / "index.html").read_text()
    figures = page_data(out)["figures"]
    assert len(figures) == len(info["figures"]) >= 8
    for fid, spec in figures.items():
        assert (out / "figures" / f"{fid}.png").read_bytes()[:8] == PNG
        assert spec["data"] and any(t["x"] for t in spec["data"])
        assert f'data-figure="{fid}"' in text and f'href="figures/{fid}.png"' in text
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        Path(p).name for p in info["figures"]
    )
    # nothing is fetched: no external scripts, styles or images; plotly.js is inlined
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', text)
    assert "Plotly.newPlot" in text and "plotly.js" in text.lower()


def test_every_section_has_a_nav_link_provenance_and_commands(built):
    out, info = built
    text = (out / "index.html").read_text()
    assert len(info["sections"]) == 8
    for s in info["sections"]:
        assert f'<a href="#{s["id"]}"' in text and f'id="{s["id"]}"' in text
    assert text.count("provenance (as recorded)") == 8
    assert "machine this report was built on" in text
    assert text.count('<table class="sortable">') >= 10


def test_verdicts_are_quoted_from_the_summaries(built, results):
    from artifactlab.experiments.claims import verdict_line

    text = html.unescape((built[0] / "index.html").read_text())
    summary = json.loads((results / "claims" / "claim-a_summary.json").read_text())
    for panel in summary["panels"]:
        for v in panel["verdicts"]:
            assert f"[{panel['id']}] {verdict_line(v)}" in text
    fig2 = json.loads((results / "repro" / "fig2_summary.json").read_text())
    verdict = fig2["claims"]["ratio_5_to_20"]["verdict"]
    assert f"ratio_5_to_20: {verdict} (" in text


def test_the_commands_are_rebuilt_exactly(built, results):
    text = html.unescape((built[0] / "index.html").read_text())
    expected = [
        f"artifactlab reproduce fig2 --scale tiny --seeds 1 --out {results / 'repro'}",
        f"artifactlab compare --data grammar --models ngram --seeds 1 --out {results / 'cmp'}",
        f"artifactlab mitigate --data siblings --method penalty --seeds 2 --steps 20 "
        f"--strengths 1 --out {results / 'mit'}",
        f"artifactlab claims a --out {results / 'claims'}",
        f"artifactlab sweep run {results / 'sw' / 'mysweep.yaml'}",
    ]
    for command in expected:
        assert f"<code>{command}</code>" in text, command


def test_the_rebuilt_train_command_trains_the_same_configs(built, results, tmp_path):
    text = html.unescape((built[0] / "index.html").read_text())
    line = re.search(r"<code>(artifactlab train [^<]*--out \S*run3 [^<]*)</code>", text).group(1)
    words = shlex.split(line)[1:]
    words[words.index("--out") + 1] = str(tmp_path / "again")
    assert run(*words, "--quiet").exit_code == 0
    old = json.loads((results / "run3" / "config.json").read_text())
    new = json.loads((tmp_path / "again" / "config.json").read_text())
    for key in ("model", "train", "seed", "model_preset", "data"):
        assert new[key] == old[key], key


def test_overwrite_replaces_a_report(built, results, tmp_path):
    out = tmp_path / "r"
    assert run("report", results / "cmp", "--out", out, "--quiet").exit_code == 0
    first = (out / "index.html").read_text()
    res = run("report", results / "repro", "--out", out, "--quiet", "--overwrite")
    assert res.exit_code == 0 and (out / "index.html").read_text() != first
    assert "compare" not in {p.name.split("-")[0] for p in (out / "figures").iterdir()}


def test_a_parquet_table_is_a_sweep(results, tmp_path):
    pytest.importorskip("pyarrow")
    folder = tmp_path / "p"
    folder.mkdir()
    res = run(
        "sweep",
        "export",
        results / "sw" / "mysweep.yaml",
        "--format",
        "parquet",
        "--out",
        folder / "t.parquet",
    )
    assert res.exit_code == 0, res.output
    sections = collect(folder, 0)
    assert [(s.kind, s.label) for s in sections] == [("sweep", "t.parquet")]
    assert len(sections[0].tables[0].rows) == 2


# --- --explorer -----------------------------------------------------------------------------


def test_explorer_pages_for_3_token_runs_only(results, tmp_path, monkeypatch):
    calls = []

    def write_explorer(run_dir: Path, out_dir: Path) -> Path:
        calls.append(run_dir)
        out_dir.mkdir(parents=True)
        (out_dir / "index.html").write_text("<html></html>")
        return out_dir / "index.html"

    stand_in = types.ModuleType("artifactlab.web.explorer")
    stand_in.write_explorer = write_explorer
    monkeypatch.setitem(sys.modules, "artifactlab.web.explorer", stand_in)
    res = run("report", results, "--out", tmp_path / "r", "--explorer", "--quiet", "--json")
    assert res.exit_code == 0, res.output
    assert calls == [results / "run3"]
    page = tmp_path / "r" / "explorer" / "train-run3" / "index.html"
    assert json.loads(res.stdout)["explorers"] == [str(page)]
    assert 'href="explorer/train-run3/index.html"' in (tmp_path / "r" / "index.html").read_text()


def test_a_run_the_explorer_refuses_gets_a_note(results, tmp_path, monkeypatch):
    from artifactlab.errors import InputError

    def write_explorer(run_dir: Path, out_dir: Path) -> Path:
        raise InputError(str(run_dir), "too large to explore")

    stand_in = types.ModuleType("artifactlab.web.explorer")
    stand_in.write_explorer = write_explorer
    monkeypatch.setitem(sys.modules, "artifactlab.web.explorer", stand_in)
    res = run("report", results / "run3", "--out", tmp_path / "r", "--explorer", "--quiet")
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("note: no tensor explorer for ") and "too large" in res.stderr
    assert "no tensor explorer: " in (tmp_path / "r" / "index.html").read_text()


def test_explorer_missing_is_one_line(results, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "artifactlab.web.explorer", None)  # import fails
    res = run("report", results / "run3", "--out", tmp_path / "r", "--explorer", "--quiet")
    assert res.exit_code == 2 and res.stderr.startswith("error: --explorer:")
    assert not (tmp_path / "r").exists()


# --- bad input: one line, exit code 2, nothing written ----------------------------------------


def test_a_missing_folder(tmp_path):
    out = tmp_path / "r"
    refused(run("report", tmp_path / "nope", "--out", out, "--quiet"), out, "nope: does not exist")


def test_a_folder_without_results(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.csv").write_text("a,b\n1,2\n")
    out = tmp_path / "r"
    res = run("report", tmp_path / "empty", "--out", out)
    refused(res, out, f"no results found in {tmp_path / 'empty'}:", "run train, sweep run")


def test_a_store_of_an_unknown_format(results, tmp_path):
    folder = tmp_path / "sw"
    shutil.copytree(results / "sw", folder)
    with sqlite3.connect(folder / "mysweep" / "results.sqlite") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'store_format'")
    out = tmp_path / "r"
    refused(
        run("report", folder, "--out", out, "--quiet"), out, "store format 99", "reads format 1"
    )


def test_a_damaged_summary(results, tmp_path):
    folder = tmp_path / "cmp"
    shutil.copytree(results / "cmp", folder)
    (folder / "compare_summary.json").write_text("{not json")
    out = tmp_path / "r"
    refused(
        run("report", folder, "--out", out, "--quiet"),
        out,
        "compare_summary.json: is not valid JSON",
    )


def test_an_out_that_cannot_be_a_folder(results, tmp_path):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "r"
    refused(run("report", results / "run3", "--out", out, "--quiet"), out, "is not a folder")


def test_an_existing_out_or_one_holding_the_results(results, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "keep.txt").write_text("x")
    res = run("report", results / "run3", "--out", tmp_path / "r")
    assert res.exit_code == 2 and "not empty" in res.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["keep.txt"]
    res = run("report", results / "run3", "--out", results, "--overwrite")
    assert res.exit_code == 2 and "holds the results being reported" in res.stderr
    assert (results / "run3" / "config.json").is_file()


def test_an_out_that_is_not_writable(results, tmp_path, monkeypatch):
    def denied(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report_write, "write_text", denied)
    out = tmp_path / "r"
    refused(run("report", results / "run3", "--out", out, "--quiet"), out, "Permission denied")
    assert list(tmp_path.iterdir()) == []  # the staged folder is gone too


def test_depth_must_be_a_count(results, tmp_path):
    res = run("report", results, "--out", tmp_path / "r", "--depth", "-1")
    assert res.exit_code == 2 and "--depth" in res.stderr


# --- pieces -------------------------------------------------------------------------------------


def test_user_text_is_escaped_and_cells_carry_their_sort_value():
    table = Table("<t>", ["a&b"], [[Cell("1,234", 1234.0)], [Cell("<x>", None)]])
    out = table_html(table)
    assert "<h3>&lt;t&gt;</h3>" in out and "a&amp;b" in out and "<td>&lt;x&gt;</td>" in out
    assert '<td data-value="1234.0">1,234</td>' in out


def test_verdict_classes():
    assert verdict_class("-> contradicted") == "contradicted"
    assert verdict_class("x: partly supported (6/15)") == "partly"
    assert verdict_class("rho ... -> inconclusive") == "inconclusive"
    assert verdict_class("no verdict here") == ""


def test_plotly_json_has_no_nan_and_keeps_hover():
    fig = Figure(
        "f",
        "t",
        "x",
        "y",
        [
            Trace(
                "a",
                [1, 2],
                [float("nan"), 1.0],
                hover=["p", "q"],
                y_err=([0.1, float("inf")], [0.2, 0.3]),
            )
        ],
    )
    spec = plotly_figure(fig)
    json.dumps(spec, allow_nan=False)
    trace = spec["data"][0]
    assert trace["y"] == [None, 1.0] and trace["error_y"]["arrayminus"] == [0.1, None]
    assert trace["hovertext"] == ["p", "q"]


@pytest.mark.parametrize(
    ("version", "said"),
    [("9.0.0", "was written by artifactlab 9.0.0, newer than this one"),
     ("banana", "records an unknown artifactlab version 'banana'")],
)  # fmt: skip
def test_a_run_of_an_unknown_version(results, tmp_path, version, said):
    run_dir = tmp_path / "run3"
    shutil.copytree(results / "run3", run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    config["provenance"]["version"] = version
    (run_dir / "config.json").write_text(json.dumps(config))
    out = tmp_path / "r"
    refused(run("report", run_dir, "--out", out, "--quiet"), out, "config.json", said)


def test_a_table_of_trials_from_a_newer_release(results, tmp_path):
    source = next(p for p in (results / "tables").glob("*.csv"))
    lines = source.read_text().splitlines()
    head = lines[0].split(",")
    assert "version" in head
    col = head.index("version")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[col] = "2.0"
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / source.name).write_text(
        "\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n"
    )
    out = tmp_path / "r"
    res = run("report", tmp_path / "tables", "--out", out, "--quiet")
    refused(res, out, "written by artifactlab 2.0")
