"""The system Chromium for the browser tests, the screenshots and the explorer benchmark.

The browser is ``ARTIFACTLAB_CHROMIUM`` or the first ``chromium`` / ``chromium-browser``
on ``PATH`` (Debian's ``chromium`` package); it is driven by Playwright with
``executable_path``, so Playwright's own browser download is never needed.

Example
-------
>>> "--headless" in FLAGS and "--disable-background-networking" in FLAGS
True
"""

from __future__ import annotations

import os
import shutil

#: launch flags: headless, and none of Chromium's own network traffic (a closed network
#: refuses it, many connections at a time)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    given = os.environ.get("ARTIFACTLAB_CHROMIUM")
    if given:
        return given
    return shutil.which("chromium") or shutil.which("chromium-browser")
