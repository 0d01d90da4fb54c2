"""Time in_hull (1,000 test vs 10,000 train points, d = 100) against one fresh LP per point.

Run: ``python benchmarks/hull_speed.py [--ref-n 5] [--hard-n 40]``. The reference is timed on
``--ref-n`` points and extrapolated to 1,000; the hard case (half the points convex combinations
of 10 training points, half 0.3 * Gaussian) on ``--hard-n`` points and extrapolated. The record
goes to ``docs/benchmarks/hull_speed.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import add_out_option, args_record, machine, write_result

from artifactlab.interp.hull import hull_membership, in_hull_reference


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref-n", type=int, default=5)
    parser.add_argument("--hard-n", type=int, default=40)
    add_out_option(parser, "hull_speed")
    args = parser.parse_args()
    started, info = time.perf_counter(), machine()
    rng = np.random.default_rng(0)
    n, d, m = 10_000, 100, 1_000
    X = rng.standard_normal((n, d))
    P = rng.standard_normal((m, d))
    res, secs = timed(lambda: hull_membership(X, P))
    print(f"gaussian: {m} points in {secs:.2f} s, inside {res.inside.sum()}, stages {res.stages}")
    ref, ref_secs = timed(lambda: [in_hull_reference(X, p) for p in P[: args.ref_n]])
    assert list(res.inside[: args.ref_n]) == ref
    per = ref_secs / args.ref_n
    print(f"reference: {args.ref_n} points in {ref_secs:.2f} s = {per:.2f} s/point, ")
    print(f"  extrapolated {per * m:.0f} s for {m}; speed-up {per * m / secs:.0f}x")
    half = args.hard_n // 2
    idx = rng.integers(0, n, (half, 10))
    combos = np.einsum("mk,mkd->md", rng.dirichlet(np.ones(10), half), X[idx])
    H = np.vstack([combos, 0.3 * rng.standard_normal((args.hard_n - half, d))])
    hard, hard_secs = timed(lambda: hull_membership(X, H))
    per_hard = hard_secs / args.hard_n
    print(
        f"hard: {args.hard_n} points in {hard_secs:.2f} s ({per_hard:.2f} s/point, "
        f"extrapolated {per_hard * m:.0f} s for {m}), inside {hard.inside.sum()}, "
        f"stages {hard.stages}"
    )
    ref_h, _ = timed(
        lambda: [in_hull_reference(X, p) for p in H[:2]] + [in_hull_reference(X, H[-1])]
    )
    assert ref_h == [*hard.inside[:2], hard.inside[-1]]
    print(f"speed-up vs reference on hard points: {per / per_hard:.1f}x")
    result = {
        "args": args_record(args),
        "machine": info,
        "data": {"n_train": n, "d": d, "n_test": m, "seed": 0},
        "gaussian": {"points": m, "seconds": secs, "inside": int(res.inside.sum()),
                     "stages": {k: int(v) for k, v in res.stages.items()}},
        "reference": {"points": args.ref_n, "seconds": ref_secs, "seconds_per_point": per,
                      "extrapolated_seconds": per * m, "speedup_gaussian": per * m / secs},
        "hard": {"points": args.hard_n, "seconds": hard_secs, "seconds_per_point": per_hard,
                 "extrapolated_seconds": per_hard * m, "inside": int(hard.inside.sum()),
                 "stages": {k: int(v) for k, v in hard.stages.items()},
                 "speedup_per_point": per / per_hard},
        "checked_against_reference": {"gaussian": args.ref_n, "hard": 3},
    }  # fmt: skip
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
