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

from artifactlab.web.report import collect, discover

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
    assert text.count("no command is recorded for this result.") == 2  # hull and dd
    assert text.count("not recorded: interp ") == 2
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


def test_the_committed_interp_folders_are_three_sections():
    sections = collect(DOCS_FIGURES, 3)
    interp = {s.label: s for s in sections if s.kind == "interp"}
    assert sorted(interp) == ["interp/dd", "interp/fit", "interp/hull"]
    assert [len(interp[k].figures) for k in sorted(interp)] == [2, 3, 2]
    fit = interp["interp/fit"]
    assert [c.text for c in fit.commands] == [f"artifactlab interp fit --out {INTERP / 'fit'}"]
    assert fit.provenance["git revision"] == "d53aea9f985fe9fada113b64d302c3ae6be8cf88"
    assert fit.provenance["command line (as recorded)"].startswith("artifactlab interp fit ")
    for label in ("interp/dd", "interp/hull"):
        s = interp[label]
        assert s.tables and not s.commands and "not recorded" in s.provenance["provenance"]
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
    ],
)
def test_a_broken_interp_file(interp, tmp_path, folder, name, content, said):
    copy = tmp_path / folder
    shutil.copytree(interp / folder, copy)
    (copy / name).write_text(content)
    out = tmp_path / "r"
    refused(run("report", copy, "--out", out, "--quiet"), out, said)
