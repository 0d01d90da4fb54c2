"""``artifactlab report`` on the interp lab's folders: interp fit, hull and double-descent."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from report_fixtures import DOCS_FIGURES, build, invoke, page_data, refused, run

from artifactlab.cli.report import lend_parsers
from artifactlab.web.report import collect, discover
from artifactlab.web.report_commands import CHECKED_INTERP

PNG = b"\x89PNG\r\n\x1a\n"
INTERP = DOCS_FIGURES / "interp"


@pytest.fixture(scope="module")
def interp(tmp_path_factory) -> Path:
    """Tiny outputs of interp fit, hull --experiment and double-descent (a few seconds)."""
    root = tmp_path_factory.mktemp("interp-results") / "interp"
    invoke("interp", "fit", "--target", "sine", "--n", 5, "--methods", "linear,spline,relu",
           "--width", 4, "--widths", "2,4", "--seeds", 2, "--steps", 20, "-q", "--out",
           root / "fit")  # fmt: skip
    invoke("interp", "hull", "--experiment", "--dims", "1,2,4", "--n-trains", "5,20",
           "--n-test", 10, "-q", "--out", root / "hull")  # fmt: skip
    invoke("interp", "double-descent", "--samples", 6, "--features-max", 12, "--seeds", 2,
           "--n-points", 4, "--with-artifacts", "--artifacts-vocab", 4, "--artifacts-triples",
           10, "--artifacts-steps", 5, "-q", "--out", root / "dd")  # fmt: skip
    return root


@pytest.fixture(scope="module")
def built(interp, tmp_path_factory) -> tuple[Path, dict]:
    return build(interp, tmp_path_factory.mktemp("interp-report") / "report")


def test_each_interp_folder_is_one_result(interp):
    found = {(f.kind, f.name, f.path.relative_to(interp).as_posix()) for f in discover(interp)}
    assert found == {
        ("interp", "fit", "fit/fit_summary.json"),
        ("interp", "hull_rate", "hull/hull_rate.csv"),
        ("interp", "double_descent", "dd/double_descent_summary.json"),
    }  # fit.csv, pieces.csv, artifacts.csv, ... are parts of them, not sweep tables
    assert [(s.kind, s.label) for s in collect(interp / "fit", 0)] == [("interp", "fit")]


def test_the_report_draws_every_interp_figure(built):
    out, info = built
    assert [s["kind"] for s in info["sections"]] == ["interp"] * 3
    assert {s["title"].split(":")[0]: s["figures"] for s in info["sections"]} == {
        "interp fit": 3,
        "interp hull --experiment": 2,
        "interp double-descent": 2,
    }
    figures = page_data(out)["figures"]
    assert len(figures) == len(info["figures"]) == 7
    for fid, spec in figures.items():
        assert (out / "figures" / f"{fid}.png").read_bytes()[:8] == PNG
        assert any(x is not None for t in spec["data"] for x in t["x"]), fid
        json.dumps(spec, allow_nan=False)
    curves = figures["interp-fit-curves"]
    assert len(curves["layout"]["yaxis"]["range"]) == 2  # the data's scale, as fit.png
    assert figures["interp-fit-errors"]["layout"]["xaxis"]["type"] == "category"  # methods
    assert {t["name"] for t in curves["data"]} >= {"target", "linear", "spline", "relu", "data"}


def test_tables_and_lines_are_the_files_own(built, interp):
    out, _ = built
    text = html.unescape((out / "index.html").read_text())
    assert text.count('<table class="sortable">') == 5  # fit, pieces, hull, dd, artifacts
    rows = (interp / "hull" / "hull_rate.csv").read_text().splitlines()[1:]
    for row in rows:
        d, n, rate = row.split(",")
        assert f"d = {d}, n_train = {n}: rate {float(rate):.4g} inside the hull" in text
    dd = json.loads((interp / "dd" / "double_descent_summary.json").read_text())
    verdict = "yes" if dd["double_descent"] else "no"
    assert f"double descent: {verdict} (true when" in text
    assert f"at the threshold ({dd['threshold_features']})" in text
    fit = json.loads((interp / "fit" / "fit_summary.json").read_text())
    relu = next(r for r in fit["results"] if r["method"] == "relu")
    assert f"relu (width 4): {relu['n_pieces']} linear pieces, {relu['n_pieces_inside']}" in text
    assert "no command is recorded for this result." not in text  # each is rebuilt
    assert "not recorded: " not in text and "why no command" not in text
    assert "10 test points per cell, seed 0, tolerance 1e-09" in text
    assert "first seed 0, 4 log-spaced feature counts, 1000 held-out points per seed" in text
    # in-process, the recorded command line is the test runner's: it is not shown
    assert "command line (as recorded)" not in text


def test_the_rebuilt_fit_command_fits_the_same_config(built, interp, tmp_path):
    text = html.unescape((built[0] / "index.html").read_text())
    line = re.search(r"<code>(artifactlab interp fit [^<]*)</code>", text).group(1)
    assert line == (
        "artifactlab interp fit --target sine --n 5 --methods linear,spline,relu --width 4 "
        f"--widths 2,4 --seeds 2 --steps 20 --out {interp / 'fit'}"
    )
    words = shlex.split(line)[1:]
    words[words.index("--out") + 1] = str(tmp_path / "again")
    res = run(*words, "--quiet")
    assert res.exit_code == 0, res.output
    old = json.loads((interp / "fit" / "fit_summary.json").read_text())
    new = json.loads((tmp_path / "again" / "fit_summary.json").read_text())
    assert new["config"] == old["config"]


def _code(text: str, name: str) -> str:
    return re.search(rf"<code>(artifactlab interp {name} [^<]*)</code>", text).group(1)


def _rerun(line: str, out: Path) -> None:
    words = shlex.split(line)[1:]
    words[words.index("--out") + 1] = str(out)
    res = run(*words, "--quiet")
    assert res.exit_code == 0, res.output


def test_the_rebuilt_hull_command_writes_the_same_table(built, interp, tmp_path):
    text = html.unescape((built[0] / "index.html").read_text())
    line = _code(text, "hull")
    assert line == (
        "artifactlab interp hull --experiment --dims 1,2,4 --n-trains 5,20 --n-test 10 "
        f"--out {interp / 'hull'}"
    )
    _rerun(line, tmp_path / "again")
    assert (tmp_path / "again" / "hull_rate.csv").read_bytes() == (
        interp / "hull" / "hull_rate.csv"
    ).read_bytes()
    old = json.loads((interp / "hull" / "hull_summary.json").read_text())
    new = json.loads((tmp_path / "again" / "hull_summary.json").read_text())
    assert new["config"] == old["config"] and new["results"] == old["results"]


def test_the_rebuilt_dd_command_writes_the_same_tables(built, interp, tmp_path):
    text = html.unescape((built[0] / "index.html").read_text())
    line = _code(text, "double-descent")
    assert line == (
        "artifactlab interp double-descent --with-artifacts --samples 6 --features-max 12 "
        "--seeds 2 --n-points 4 --artifacts-vocab 4 --artifacts-triples 10 --artifacts-steps 5 "
        f"--out {interp / 'dd'}"
    )
    _rerun(line, tmp_path / "again")
    for name in ("double_descent.csv", "artifacts.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (interp / "dd" / name).read_bytes()
    old = json.loads((interp / "dd" / "double_descent_summary.json").read_text())
    new = json.loads((tmp_path / "again" / "double_descent_summary.json").read_text())
    assert new["config"] == old["config"]


def test_hull_and_dd_show_their_config_and_provenance(interp):
    lend_parsers()
    sections = {s.label: s for s in collect(interp, 1)}
    for label, summary in (("hull", "hull_summary.json"), ("dd", "double_descent_summary.json")):
        section = sections[label]
        recorded = json.loads((interp / label / summary).read_text())
        assert section.provenance["package version"] == recorded["provenance"]["version"]
        assert section.provenance["created"] == recorded["provenance"]["created"]
        assert "command line (as recorded)" not in section.provenance  # the test runner's argv
        for key, value in recorded["config"].items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            assert section.settings[key] == ("" if value is None else str(shown)), key
        assert [c.how for c in section.commands] == [CHECKED_INTERP.format(name=summary)]


def _older(interp: Path, root: Path) -> Path:
    """The hull and dd folders as written before they recorded config and provenance."""
    for name in ("hull", "dd"):
        shutil.copytree(interp / name, root / name)
    (root / "hull" / "hull_summary.json").unlink()
    path = root / "dd" / "double_descent_summary.json"
    summary = json.loads(path.read_text())
    for key in ("config", "command", "provenance"):
        del summary[key]
    path.write_text(json.dumps(summary))
    return root


def test_older_hull_and_dd_folders_still_report(interp, tmp_path):
    old = _older(interp, tmp_path / "old")
    out, info = build(old, tmp_path / "report")
    assert [s["figures"] for s in info["sections"]] == [2, 2]
    text = html.unescape((out / "index.html").read_text())
    assert text.count("no command is recorded for this result.") == 2
    assert text.count("not recorded: this interp ") == 2
    assert "why no command: hull_rate.csv does not record --n-test or --seed" in text
    assert "why no command: the summary does not record --seed or --n-points" in text


@pytest.mark.parametrize(
    ("folder", "change"),
    [
        ("fit", {"n": "ten"}),  # the parser refuses it
        ("hull", {"n_test": "ten"}),
        ("hull", {"tol": -1.0}),  # parses, but the command refuses it
        ("hull", {"extra": 1}),  # no option gives it
        ("dd", {"n_test": 500}),  # no option sets it
        ("dd", {"artifacts_vocab": 8}),  # without --with-artifacts
        ("dd", {"kind": "poly"}),
    ],
)
def test_a_config_no_command_gives_gets_no_command(interp, tmp_path, folder, change):
    copy = tmp_path / folder
    shutil.copytree(interp / folder, copy)
    name = {"fit": "fit_summary.json", "hull": "hull_summary.json"}.get(
        folder, "double_descent_summary.json"
    )
    summary = json.loads((copy / name).read_text())
    if folder == "dd":
        summary["config"]["with_artifacts"] = False
        for key in ("artifacts_vocab", "artifacts_triples", "artifacts_steps"):
            summary["config"][key] = None
    summary["config"] |= change
    (copy / name).write_text(json.dumps(summary))
    lend_parsers()
    (section,) = collect(copy, 0)
    assert not section.commands and section.settings and section.provenance["package version"]


def test_a_hull_config_of_other_cells_gets_no_command(interp, tmp_path):
    copy = tmp_path / "hull"
    shutil.copytree(interp / "hull", copy)
    summary = json.loads((copy / "hull_summary.json").read_text())
    summary["config"]["dims"] = [1, 2]
    (copy / "hull_summary.json").write_text(json.dumps(summary))
    lend_parsers()
    (section,) = collect(copy, 0)
    assert not section.commands
    assert section.lines[-1].startswith("why no command: the config in hull_summary.json")


def test_the_committed_interp_folders_are_three_sections():
    lend_parsers()
    sections = collect(DOCS_FIGURES, 3)
    interp = {s.label: s for s in sections if s.kind == "interp"}
    assert sorted(interp) == ["interp/dd", "interp/fit", "interp/hull"]
    assert [len(interp[k].figures) for k in sorted(interp)] == [2, 3, 2]
    fit = interp["interp/fit"]
    assert [c.text for c in fit.commands] == [f"artifactlab interp fit --out {INTERP / 'fit'}"]
    assert fit.provenance["git revision"] == "d53aea9f985fe9fada113b64d302c3ae6be8cf88"
    assert fit.provenance["command line (as recorded)"].startswith("artifactlab interp fit ")
    assert [c.text for c in interp["interp/hull"].commands] == [
        f"artifactlab interp hull --experiment --out {INTERP / 'hull'}"
    ]
    assert [c.text for c in interp["interp/dd"].commands] == [
        f"artifactlab interp double-descent --with-artifacts --out {INTERP / 'dd'}"
    ]
    for label, name in (("interp/dd", "double-descent"), ("interp/hull", "hull")):
        s = interp[label]
        assert s.tables and s.provenance["package version"] and s.provenance["git revision"]
        recorded = s.provenance["command line (as recorded)"]
        assert recorded.startswith(f"artifactlab interp {name} ")
    assert interp["interp/dd"].verdicts[0].startswith("double descent: yes")


# --- broken files: one line, exit code 2, nothing written --------------------------------------


@pytest.mark.parametrize(
    ("folder", "name", "content", "said"),
    [
        ("fit", "fit_summary.json", "{not json", "fit_summary.json: is not valid JSON"),
        ("fit", "fit_summary.json", '{"config": [], "data": {}, "results": []}', "not an object"),
        ("dd", "double_descent_summary.json", '{"samples": 6}', "(no double_descent, peak"),
        ("hull", "hull_rate.csv", "dim,n_train,rate\n1,5,0.5\n2,5,x\n", "hull_rate.csv:3: has a"),
        ("hull", "hull_rate.csv", "d,n,r\n1,5,0.5\n", "not the columns dim, n_train, rate"),
        ("hull", "hull_summary.json", "{not json", "hull_summary.json: is not valid JSON"),
        ("hull", "hull_summary.json", '{"config": []}', "its config is not an object"),
        ("hull", "hull_summary.json", '{"results": []}', "(no config)"),
    ],
)
def test_a_broken_interp_file(interp, tmp_path, folder, name, content, said):
    copy = tmp_path / folder
    shutil.copytree(interp / folder, copy)
    (copy / name).write_text(content)
    out = tmp_path / "r"
    refused(run("report", copy, "--out", out, "--quiet"), out, said)


def test_a_dd_config_that_is_not_an_object(interp, tmp_path):
    copy = tmp_path / "dd"
    shutil.copytree(interp / "dd", copy)
    path = copy / "double_descent_summary.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"config": [1]}))
    out = tmp_path / "r"
    refused(run("report", copy, "--out", out, "--quiet"), out, "its config is not an object")
