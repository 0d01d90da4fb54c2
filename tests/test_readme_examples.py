"""Every shell example of the README, run as written in a fresh copy of the repository.

The copy holds the repository's files (what git tracks, plus new files it does not ignore)
and a link to this checkout's virtual environment, as a fresh clone has after the README's
first command. Each example runs from the copy's root with ``bash -e``; afterwards no file
that the repository tracks may have changed (examples write into ``runs/``, never over
committed results).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def examples() -> list[str]:
    """The README's ```bash blocks after the two set-up commands."""
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)[2:]


def _files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [f for f in out.stdout.splitlines() if (ROOT / f).is_file()]


def _digest(root: Path, names: list[str]) -> dict[str, str]:
    return {n: hashlib.sha256((root / n).read_bytes()).hexdigest() for n in names}


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.fail("the README examples test needs the repository's git checkout")
    copy = tmp_path_factory.mktemp("clone") / "artifactlab"
    for name in _files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    venv = Path(sys.executable).parent.parent  # the environment running these tests
    (copy / ".venv").symlink_to(venv)
    return copy


def test_the_readme_has_examples():
    assert len(examples()) >= 4
    assert all(".venv/bin/artifactlab" in block for block in examples())


@pytest.mark.parametrize("block", examples(), ids=lambda b: b.split()[1] if b.split() else b)
def test_readme_example_runs_as_written(fresh_copy, block):
    names = [n for n in _files() if not n.startswith("runs/")]
    before = _digest(fresh_copy, names)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    res = subprocess.run(
        ["bash", "-e", "-c", block], cwd=fresh_copy, capture_output=True, text=True,
        timeout=600, env=env,
    )  # fmt: skip
    assert res.returncode == 0, f"{block}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    assert "Traceback" not in res.stderr
    changed = [n for n, h in _digest(fresh_copy, names).items() if before[n] != h]
    assert changed == [], f"the example changed files the repository tracks: {changed}"
