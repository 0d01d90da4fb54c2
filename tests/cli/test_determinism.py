"""Same seed, same bits: the CLI as a user runs it, in its default configuration.

Each run is a fresh process with no thread variables set, as on a user's machine, so
the test sees what the default thread policy gives (one compute thread per process;
``artifacts`` evaluates blocks on worker threads and merges them in block order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXE = Path(sys.executable).parent / "artifactlab"
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    and k != "ARTIFACTLAB_THREADS"
}


def cli(*args) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [str(EXE), *map(str, args)], capture_output=True, text=True, env=CLEAN_ENV, timeout=300
    )
    assert res.returncode == 0, res.stderr
    return res


def test_three_trainings_with_one_seed_give_identical_weight_files(tmp_path):
    data = tmp_path / "t.tsv"
    cli("make-data", "random", "--vocab", 96, "--triples", 1500, "--seed", 4, "--out", data)
    weights, counts = [], []
    for i in range(3):
        run = tmp_path / f"run{i}"
        cli("train", "--data", data, "--out", run, "--seed", 7, "--max-steps", 60, "--quiet")
        weights.append((run / "model.safetensors").read_bytes())
        res = cli("artifacts", run, "--tau", 0.3, "--tau", 0.5, "--json", "--quiet")
        counts.append(json.loads(res.stdout)["n_artifacts"])
    assert weights[0] == weights[1] == weights[2]
    assert counts[0] == counts[1] == counts[2]
    other = tmp_path / "other"
    cli("train", "--data", data, "--out", other, "--seed", 8, "--max-steps", 60, "--quiet")
    assert (other / "model.safetensors").read_bytes() != weights[0]  # the seed matters
