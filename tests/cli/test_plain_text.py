"""User text is data: markup and escape sequences print literally; files read as a user expects.

Class 3: a path, a sweep name or a token holding rich markup (``[/x]``, ``[bold]``) or a
terminal escape sequence (``\\x1b[31m``) is printed as written, control characters
escaped; a byte-order mark, CR LF line ends and a U+2028 inside a token read as expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artifactlab.cli.options import printable
from artifactlab.cli.progress import failure_line, sweep_progress

ESC = "\x1b[31m"
TOKENS = ["[/x]", "[bold]b", f"{ESC}red", ":smile:", "u\u2028v", "plain"]


def no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\u2028" not in text, repr(text)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny run whose tokens hold markup and escape sequences, in a folder named [/x]."""
    from typer.testing import CliRunner

    from artifactlab.cli import app

    root = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    rows = {tuple(rng.choice(TOKENS, 3)) for _ in range(30)}
    data = root / "t[bold].tsv"
    data.write_text("".join("\t".join(r) + "\n" for r in sorted(rows)), encoding="utf-8")
    run = root / "r[/x]"
    args = ["train", "--data", str(data), "--out", str(run), "--d-model", "8", "--n-heads", "2",
            "--max-steps", "20", "--quiet"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return run, data


def test_printable_escapes_controls_and_keeps_markup():
    assert printable(f"a{ESC}[bold]\t\n\x7f\x9b\u2028\u202e") == (
        "a\\x1b[31m[bold]\\x09\\x0a\\x7f\\x9b\\u2028\\u202e"
    )
    assert printable("one\ntwo", keep="\n") == "one\ntwo"
    assert printable("caf\u00e9 \u4e2d") == "caf\u00e9 \u4e2d"  # printable text is untouched


def test_artifacts_prints_tokens_and_paths_literally(cli, hostile_run):
    run, _ = hostile_run
    res = cli("artifacts", run, "--quiet", "--top", 200)
    assert res.exit_code == 0, res.output
    no_raw_controls(res.stdout)
    assert "r[/x]" in res.stdout.replace("\n", "").replace(" ", "")  # the table title
    for shown in ("[/x]", "[bold]b", "\\x1b[31mred", ":smile:", "u\\u2028v"):
        assert shown in res.stdout, shown


def test_artifacts_json_keeps_the_tokens_exactly(cli, hostile_run):
    run, data = hostile_run
    res = cli("artifacts", run, "--quiet", "--json", "--top", 200, "--truth", data)
    assert res.exit_code == 0, res.output
    tokens = {t for a in json.loads(res.stdout)["top_artifacts"] for t in a["tokens"]}
    assert tokens <= set(TOKENS) and len(tokens) > 1


def test_truth_table_title_with_markup(cli, hostile_run):
    run, data = hostile_run
    res = cli("artifacts", run, "--quiet", "--truth", data)
    assert res.exit_code == 0, res.output
    assert "t[bold].tsv" in res.stdout.replace("\n", "").replace(" ", "")
    no_raw_controls(res.stdout)


def test_sweep_name_with_markup_in_the_progress_bar(cli, tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        'trial: toy-artifacts\nname: "[/x] \\e[2J"\n'
        "base: {data: {V: 6, N: 8}, model: {d_model: 8, n_heads: 2}, train: {max_steps: 5}}\n"
    )
    res = cli("sweep", "run", sweep)  # not quiet: the bar is drawn
    assert res.exit_code == 0, res.output
    no_raw_controls(res.output)
    assert "[/x] \\x1b[2J" in res.output
    res = cli("sweep", "status", sweep)
    assert res.exit_code == 0 and "[/x] \\x1b[2J" in res.stdout, res.output


def test_failure_lines_are_one_escaped_line():
    from types import SimpleNamespace

    trial = SimpleNamespace(index=3, hash="ab12", params={"data.source": f"[/x]{ESC}"})
    line = failure_line(trial, "boom\n[bold]second line")
    assert "\n" not in line and "\x1b" not in line and "[/x]\\x1b[31m" in line
    with sweep_progress("[/x]", quiet=False) as on_event:  # neither raises a MarkupError
        on_event("plan", [trial], None)
        on_event("start", [trial], None)
        on_event("failed", [trial], "[/bold] nope")


def test_output_paths_and_error_lines_are_escaped(cli, tmp_path):
    out = tmp_path / f"t{ESC}[bold].tsv"
    res = cli("make-data", "random", "--vocab", 8, "--triples", 10, "--out", out)
    assert res.exit_code == 0, res.output
    no_raw_controls(res.stdout)
    assert "t\\x1b[31m[bold].tsv" in res.stdout
    assert json.loads(cli("make-data", "random", "--vocab", 8, "--triples", 10, "--out",
                          tmp_path / "j.tsv", "--json").stdout)["tuples"] == 10  # fmt: skip
    res = cli("make-data", "random", "--vocab", 8, "--triples", 10,
              "--out", tmp_path / "no\nsuch" / f"{ESC}.tsv")  # fmt: skip
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "no\\x0asuch" in err
    no_raw_controls(err)


# --- reading -------------------------------------------------------------------------------


def test_tuples_with_a_bom_crlf_and_u2028(tmp_path):
    from artifactlab.data.tuples import load_tuples

    path = tmp_path / "t.tsv"
    path.write_bytes("\ufeffa\u2028b c d\r\n# note\r\ne f g\r\n".encode())
    ds = load_tuples(path)
    assert (
        ds.N == 2 and ds.vocab.tokens[0] == "a\u2028b" and "\ufeff" not in "".join(ds.vocab.tokens)
    )


def test_triples_and_truth_and_numeric_csv_with_a_bom(tmp_path):
    from artifactlab.data.kg import read_triples
    from artifactlab.data.truth_set import read_truth
    from artifactlab.data.tuples import Vocabulary
    from artifactlab.interp.io import read_numeric_csv

    (tmp_path / "k.txt").write_bytes("\ufeffh\tr\u2028s\tt\r\n".encode())
    assert read_triples(tmp_path / "k.txt") == [("h", "r\u2028s", "t")]
    (tmp_path / "empty.tsv").write_bytes("\ufeff\r\n  # only a comment\r\n".encode())
    ids, unknown = read_truth(tmp_path / "empty.tsv", Vocabulary(("a", "b", "c")), 3, "fail")
    assert ids.shape == (0, 3) and unknown == []
    (tmp_path / "xy.csv").write_bytes("\ufeffx,y\r\n0,1\r\n1,2\r\n".encode())
    assert read_numeric_csv(tmp_path / "xy.csv", ncols=2).tolist() == [[0.0, 1.0], [1.0, 2.0]]


def test_a_truth_file_with_a_bom_through_the_cli(cli, tiny_run, tmp_path):
    lines = (tiny_run / "train.tsv").read_text().splitlines()
    truth = tmp_path / "truth.tsv"
    truth.write_bytes(("\ufeff" + "\r\n".join(lines[:5]) + "\r\n").encode())
    res = cli("artifacts", tiny_run, "--quiet", "--json", "--truth", truth, "--unknown", "fail")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["truth"]["file"] == str(truth)
