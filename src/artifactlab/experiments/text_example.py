"""The README's worked example on real text, run as a user runs it, its outputs kept as JSON.

A real corpus (one package of the Python standard library, text no one here wrote),
byte-level BPE tokens, the toy transformer trained on its 3-token and 8-token windows by
the project's own commands, exact and estimated artifact counts side by side where both
exist (n = 3), estimates alone where enumeration is impossible (n = 8: ``V^7`` contexts),
and the models' confident continuations checked against the corpus index, by context
source. Every step is an ``artifactlab`` command; its ``--json`` output is written to
``OUT/STEP.json`` and the list of commands to ``OUT/commands.json``, which the README's
generated blocks are rendered from::

    python -m artifactlab.experiments.text_example --out docs/figures/text

Example
-------
>>> [s.name for s in steps(Path("w"))][:3]
['corpus', 'windows3', 'train3']
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: the corpus package and the sizes of the example
PACKAGE = "json"
VOCAB = 300
STEPS = 300
SAMPLES = 4000
SOURCES = "uniform,corpus,model"


@dataclass(frozen=True)
class Step:
    """One command of the example; ``json``: its standard output is kept as JSON."""

    name: str
    argv: tuple[str, ...]
    json: bool = True


def steps(work: Path) -> list[Step]:
    """The example's commands, in order, writing into ``work``."""
    w = str(work)
    tok = f"{w}/w3/tokenizer.json"
    return [
        Step("corpus", ("make-data", "stdlib", "--package", PACKAGE, "--out", f"{w}/corpus.txt",
                        "--json")),
        Step("windows3", ("make-data", "text", f"{w}/corpus.txt", "--tokenizer", "bpe",
                          "--vocab-size", str(VOCAB), "--n", "3", "--out", f"{w}/w3", "--json",
                          "--quiet")),
        Step("train3", ("train", "--data", f"{w}/w3/tuples.tsv", "--mode", "all", "--max-steps",
                        str(STEPS), "--out", f"{w}/run3", "--quiet"), json=False),
        Step("exact3", ("artifacts", f"{w}/run3", "--json", "--quiet")),
        *[Step(f"estimate3-{s}", ("artifacts", f"{w}/run3", "--estimate", "--samples",
                                  str(SAMPLES), "--source", s, "--json", "--quiet"))
          for s in SOURCES.split(",")],
        Step("windows8", ("make-data", "text", f"{w}/corpus.txt", "--tokenizer", tok, "--n", "8",
                          "--out", f"{w}/w8", "--json", "--quiet")),
        Step("train8", ("train", "--data", f"{w}/w8/tuples.tsv", "--mode", "all", "--max-steps",
                        str(STEPS), "--out", f"{w}/run8", "--quiet"), json=False),
        *[Step(f"estimate8-{s}", ("artifacts", f"{w}/run8", "--estimate", "--samples",
                                  str(SAMPLES), "--source", s, "--json", "--quiet"))
          for s in SOURCES.split(",")],
        Step("index", ("index", "build", f"{w}/corpus.txt", "--tokenizer", tok, "--out",
                       f"{w}/index", "--quiet"), json=False),
        Step("stats", ("index", "stats", f"{w}/index", "--max-n", "8", "--json")),
        *[Step(f"lm{n}", ("lm", "artifacts", "--index", f"{w}/index", "--run", f"{w}/run{n}",
                          "--context-length", str(n - 1), "--source", SOURCES, "--samples",
                          str(SAMPLES), "--json", "--quiet"))
          for n in (3, 8)],
    ]  # fmt: skip


def run(out: Path, cli: str, keep: bool = False) -> dict:
    """Run every step in a work folder; write each JSON output and ``commands.json`` to ``out``."""
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    record = []
    for step in steps(work):
        start = time.perf_counter()
        res = subprocess.run([cli, *step.argv], capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        shown = " ".join(["artifactlab", *(a.replace(str(work), "runs/text") for a in step.argv)])
        if res.returncode != 0:
            raise SystemExit(f"{shown} failed ({res.returncode}):\n{res.stderr[-2000:]}")
        if step.json:
            data = json.loads(res.stdout)
            text = json.dumps(data, indent=2).replace(str(work), "runs/text")
            (out / f"{step.name}.json").write_text(text + "\n")
        record.append({"step": step.name, "command": shown, "seconds": round(seconds, 1)})
        print(f"{seconds:7.1f} s  {shown}", file=sys.stderr, flush=True)
    (out / "commands.json").write_text(json.dumps(record, indent=2) + "\n")
    if not keep:
        shutil.rmtree(work)
    return {"steps": record}


def main(argv: list[str] | None = None) -> int:
    """``python -m artifactlab.experiments.text_example --out docs/figures/text``."""
    parser = argparse.ArgumentParser(prog="python -m artifactlab.experiments.text_example")
    parser.add_argument("--out", type=Path, default=Path("docs/figures/text"))
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("artifactlab")))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    run(args.out, args.cli, args.keep)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
