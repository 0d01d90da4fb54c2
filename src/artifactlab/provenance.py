"""Provenance recorded with every result: package version, git revision, time.

Example
-------
>>> sorted(provenance())
['created', 'git_revision', 'python', 'torch', 'version']
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from pathlib import Path

import torch

from artifactlab import __version__


def git_revision() -> str | None:
    """The git commit of the package source, or None outside a checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance() -> dict[str, str | None]:
    """Version, git revision, Python and torch versions, and a UTC timestamp."""
    return {
        "version": __version__,
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
