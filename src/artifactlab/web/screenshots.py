"""The README's screenshots, made as a user makes the pages: by the shipped commands.

Every page is written by an ``artifactlab`` command into a work folder (``--work``,
default ``runs/screens``, replaced) (a report of the
committed claim results, the tensor explorer of a small run on the ``family`` world, the
interpolation explorer), then opened from its file in headless Chromium
(:mod:`artifactlab.web.browser`) and saved as a PNG; the commands and their times go to
``OUT/commands.json``::

    python -m artifactlab.web.screenshots --out docs/figures/screens

Needs the test extras (Playwright) and a system Chromium.

Example
-------
>>> [s.name for s in SHOTS]
['report', 'explorer', 'interp']
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

#: the world and training of the explorer's run (a few seconds on one core)
WORLD = ("family", "n_families=2")
TRAIN = ("--d-model", "16", "--n-heads", "2", "--max-steps", "300", "--quiet")


@dataclass(frozen=True)
class Shot:
    """One page: the file it is written to (in the work folder) and when it is drawn."""

    name: str
    page: str
    ready: str


SHOTS = (
    Shot("report", "report/index.html", "document.querySelectorAll('.js-plotly-plot').length > 0"),
    Shot("explorer", "explorer.html", "document.body.dataset.ready === '1'"),
    Shot(
        "interp", "interp.html", "window.interpState !== undefined && window.interpState !== null"
    ),
)


def commands(work: Path, results: Path) -> list[tuple[str, ...]]:
    """The commands that write the pages, in order."""
    w = str(work)
    return [
        ("report", str(results), "--out", f"{w}/report", "--quiet"),
        ("make-data", "world", WORLD[0], "-p", WORLD[1], "--out", f"{w}/family"),
        ("train", "--data", f"{w}/family/train.tsv", "--out", f"{w}/run", *TRAIN),
        ("explore", f"{w}/run", "--tau", "0.5", "--no-serve", "--out", f"{w}/explorer.html",
         "--quiet"),
        ("interp", "explore", "--out", f"{w}/interp.html"),
    ]  # fmt: skip


def run_commands(cli: str, work: Path, results: Path) -> list[dict]:
    """Run each command; stop at the first that fails, with its standard error."""
    record = []
    for argv in commands(work, results):
        start = time.perf_counter()
        res = subprocess.run([cli, *argv], capture_output=True, text=True, check=False)
        shown = " ".join(["artifactlab", *(a.replace(str(work), "runs/screens") for a in argv)])
        if res.returncode != 0:
            raise SystemExit(f"{shown} failed ({res.returncode}):\n{res.stderr[-2000:]}")
        record.append({"command": shown, "seconds": round(time.perf_counter() - start, 1)})
        print(f"{record[-1]['seconds']:7.1f} s  {shown}", file=sys.stderr, flush=True)
    return record


def capture(work: Path, out: Path, width: int = 1280, height: int = 900) -> list[str]:
    """Open each page from its file and save ``OUT/NAME.png`` (the first screen of it)."""
    from playwright.sync_api import sync_playwright

    from artifactlab.web.browser import FLAGS, chromium_path

    exe = chromium_path()
    if exe is None:
        raise SystemExit("no chromium on PATH (install Debian's chromium)")
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        for shot in SHOTS:
            page.goto((work / shot.page).resolve().as_uri())
            page.wait_for_function(shot.ready)
            page.wait_for_timeout(500)  # let Plotly finish its transitions
            path = out / f"{shot.name}.png"
            page.screenshot(path=str(path))
            written.append(str(path))
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m artifactlab.web.screenshots --out docs/figures/screens``."""
    parser = argparse.ArgumentParser(prog="python -m artifactlab.web.screenshots")
    parser.add_argument("--out", type=Path, default=Path("docs/figures/screens"))
    parser.add_argument("--results", type=Path, default=Path("docs/figures/claims"),
                        help="the result folder the report screenshot shows")  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("runs/screens"),
                        help="where the pages are written (replaced)")  # fmt: skip
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("artifactlab")))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    record = run_commands(args.cli, work, args.results)
    capture(work, args.out)
    (args.out / "commands.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
