"""Tensor explorer at V = 200: page size, build time, load and redraw time in headless Chromium.

Two runs on a seeded random triple set (V = 200 tokens, N = 2,000 triples, no ground
truth): the attention-only ``ToyTransformer`` (d_model 32, 2 heads) *briefly trained*
(``--steps`` full-batch Adam steps, default 150, so that its probabilities are peaked as
a trained model's are) and the same model *random-initialised* (no step). For each, the
page (all 200 slices of 200 x 200 cells, 8,000,000 cells) is built with
:func:`artifactlab.web.explorer.write_explorer` and loaded ``--repeat`` times in a fresh
page of headless Chromium (:mod:`artifactlab.web.browser`: the system Chromium and its
flags), from the file. Measured:

``load_ms``
    Navigation start to the end of the first full draw (the page's
    ``performance.mark('explorer-drawn')``, after decoding the data, laying out the 200
    canvases and colouring every cell).
``axis_switch_ms``
    Switching the slices from middle to first token (or back): 200 canvases rebuilt,
    every cell placed and drawn again.
``redraw_ms``
    One slider move (set the value, dispatch ``input``): the page's own time for
    recolouring and repainting every cell (``state.drawMs``), and the time the
    ``page.evaluate`` call around it took (which adds Playwright's round trip). The
    page's artifact count after each move is checked against
    :func:`~artifactlab.tensor.completion.evaluate_completion` at that tau.

Each is measured on the machine as it is (``quiet``) and beside a process holding one core
(``loaded``, :class:`threads.BusyCore`).

Run: ``python benchmarks/explorer_load.py [--repeat 5] [--steps 150]``; the record goes
to ``docs/benchmarks/explorer_load.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import add_out_option, args_record, machine, write_result
from threads import BusyCore

TAUS = ["0.1", "0.3", "0.7", "0.9"]

SWITCH = """() => {
  const el = document.getElementById("axis"), t0 = performance.now();
  el.value = el.value === "relation" ? "first" : "relation";
  el.dispatchEvent(new Event("change"));
  return performance.now() - t0;
}"""

MOVE = """(t) => {
  const el = document.getElementById("tau"), t0 = performance.now();
  el.value = t;
  el.dispatchEvent(new Event("input"));
  return [performance.now() - t0, window.artifactlabExplorer.state.drawMs,
          window.artifactlabExplorer.counts().n_artifacts];
}"""


def make_run(root: Path, V: int, N: int, steps: int) -> tuple[Path, dict]:
    """A run folder of the toy transformer on random triples, trained ``steps`` steps."""
    import torch

    from artifactlab.data import random_triples
    from artifactlab.models import ToyTransformer, ToyTransformerConfig
    from artifactlab.runs import save_run
    from artifactlab.train import TrainConfig, train

    torch.manual_seed(0)
    ds = random_triples(V=V, N=N, seed=0)
    model = ToyTransformer(ToyTransformerConfig(V=V, d_model=32, n_heads=2), seed=0)
    cfg = TrainConfig(max_steps=max(steps, 1), loss_tol=None if steps else 1e9)  # 0 steps: stop
    result = train(model, ds.tuples, cfg)
    path = save_run(root / f"run-{steps}", model, ds, cfg, result, seed=0)
    return path, {"V": V, "N": N, "steps": result.steps, "final_loss": result.loss}


def load_times(browser, page_file: Path, repeat: int) -> dict:
    """Load the page ``repeat`` times; time the first draw and a few slider moves."""
    loads, redraws, calls, switches, counts = [], [], [], [], {}
    for _ in range(repeat):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        pg.goto(page_file.as_uri(), wait_until="load")
        pg.wait_for_selector("body[data-ready='1']", timeout=120_000)
        loads.append(pg.evaluate("performance.getEntriesByName('explorer-drawn')[0].startTime"))
        for tau in TAUS:
            call, draw, n = pg.evaluate(MOVE, tau)
            calls.append(call)
            redraws.append(draw)
            counts[tau] = n
        switches.append(pg.evaluate(SWITCH))
        ctx.close()
        if errors:
            raise SystemExit(f"page errors: {errors}")
    return {
        "load_ms": {"runs": loads, "median": statistics.median(loads), "min": min(loads)},
        "redraw_ms": {"runs": redraws, "median": statistics.median(redraws), "max": max(redraws)},
        "slider_call_ms": {"median": statistics.median(calls), "max": max(calls)},
        "axis_switch_ms": {"runs": switches, "median": statistics.median(switches)},
        "n_artifacts_in_page": counts,
    }


def measure(browser, root: Path, steps: int, repeat: int) -> dict:
    """Build one run's page and time it in the browser."""
    from artifactlab.runs import load_run
    from artifactlab.web.explorer import explorer_page, write_explorer

    run_dir, info = make_run(root, 200, 2000, steps)
    start = time.perf_counter()
    page_file = write_explorer(run_dir, root / f"page-{steps}")
    build = time.perf_counter() - start
    page = explorer_page(load_run(run_dir), 0.5)
    library = {t: page.data["python"]["n_artifacts"][page.data["python"]["taus"].index(float(t))]
               for t in TAUS}  # fmt: skip
    out = {
        "model": "briefly trained" if steps else "random-initialised",
        **info,
        "build_seconds": build,
        "file_bytes": page_file.stat().st_size,
        "cells_stored": page.summary()["cells_stored"],
        "cells_drawn": 200**3,
        **load_times(browser, page_file, repeat),
        "n_artifacts_evaluate_completion": library,
    }
    if out["n_artifacts_in_page"] != library:
        raise SystemExit(f"the page counts {out['n_artifacts_in_page']}, the library {library}")
    print(
        f"{out['model']}: {out['file_bytes'] / 1e6:.2f} MB, {out['cells_stored']:,} cells "
        f"stored, build {build:.2f} s, load {out['load_ms']['median']:.0f} ms, redraw "
        f"{out['redraw_ms']['median']:.1f} ms (median of {repeat})",
        file=sys.stderr,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="page loads per model")
    parser.add_argument("--steps", type=int, default=150, help="training steps of the model")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--conditions", default="quiet,loaded",
                        help="quiet (the machine as it is), loaded (one core busy)")  # fmt: skip
    add_out_option(parser, "explorer_load")
    args = parser.parse_args()
    started, info = time.perf_counter(), machine()
    import torch
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(args.threads)
    from artifactlab.web.browser import FLAGS, chromium_path

    exe = chromium_path()
    if exe is None:
        raise SystemExit("no chromium on PATH")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=FLAGS)
        version = browser.version
        results = []
        for condition in args.conditions.split(","):  # quiet, then beside a busy core
            with BusyCore() if condition == "loaded" else contextlib.nullcontext():
                for steps in (args.steps, 0):
                    root = Path(tmp) / condition
                    results.append({"condition": condition,
                                    **measure(browser, root, steps, args.repeat)})  # fmt: skip
        browser.close()
    result = {
        "args": args_record(args),
        "machine": {**info, "chromium": version, "chromium_path": exe},
        "data": {"world": "random triples", "V": 200, "N": 2000, "seed": 0, "truth": None},
        "results": results,
    }
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
