"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright.

The browser is ``ARTIFACTLAB_CHROMIUM`` or the first ``chromium``/``chromium-browser`` on
``PATH``. Without one the browser tests are skipped, unless ``ARTIFACTLAB_REQUIRE_BROWSER=1``
(set by ``.ci/run``, which installs Debian's chromium), where a missing browser fails.
Screenshots go to ``ARTIFACTLAB_SCREENSHOTS`` (default ``runs/screenshots``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from artifactlab.web.browser import FLAGS, chromium_path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session."""
    exe = chromium_path()
    required = os.environ.get("ARTIFACTLAB_REQUIRE_BROWSER") == "1"
    if exe is None:
        if required:
            pytest.fail("no chromium found and ARTIFACTLAB_REQUIRE_BROWSER=1")
        pytest.skip("no chromium on PATH (install Debian's chromium, or set ARTIFACTLAB_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            raise
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A fresh page that records console errors and uncaught exceptions."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def page(browser: object) -> Iterator[Page]:
    """A new page (1280x900) in a fresh context; ``page.errors`` collects console errors."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield Page(ctx.new_page())
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where the browser tests save their screenshots."""
    path = Path(os.environ.get("ARTIFACTLAB_SCREENSHOTS", "runs/screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
