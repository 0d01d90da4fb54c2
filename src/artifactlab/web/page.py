"""One self-contained HTML page: embedded JSON data, inlined scripts and styles.

Example
-------
>>> html = render_page("t", "<p>x</p>", data={"a": 1}, plotly=False)
>>> '<script id="data" type="application/json">{"a": 1}</script>' in html
True
"""

from __future__ import annotations

import html as _html
import json
from functools import cache
from importlib import resources
from typing import Any

BASE_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
td:first-child, th:first-child { text-align: left; }
code, pre { background: #f6f6f6; padding: 0.1em 0.3em; }
pre { padding: 0.6em; overflow-x: auto; }
nav a { margin-right: 1em; }
.verdict { font-weight: 600; }
"""


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the ``plotly`` package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def asset(name: str) -> str:
    """The text of one of the package's own files in ``artifactlab/web/assets``."""
    return resources.files("artifactlab.web").joinpath("assets", name).read_text(encoding="utf-8")


def _json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` can close it)."""
    return json.dumps(data, allow_nan=False).replace("</", "<\\/")


def render_page(
    title: str,
    body: str,
    data: Any = None,
    scripts: tuple[str, ...] = (),
    css: str = "",
    plotly: bool = True,
) -> str:
    """A whole HTML document.

    Parameters
    ----------
    title : str
        The page title (escaped).
    body : str
        HTML for the body, already escaped where it holds user text.
    data : Any
        Embedded as JSON in ``<script id="data">``; read it with
        ``JSON.parse(document.getElementById('data').textContent)``.
    scripts : tuple of str
        JavaScript sources inlined after the body, in order.
    css : str
        Extra CSS after the base style.
    plotly : bool
        Inline the plotly.js bundle before the scripts.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_html.escape(title)}</title>",
        f"<style>{BASE_CSS}{css}</style>",
        "</head><body>",
        body,
    ]
    if data is not None:
        parts.append(f'<script id="data" type="application/json">{_json_for_script(data)}</script>')
    if plotly:
        parts.append(f"<script>{plotly_js()}</script>")
    parts.extend(f"<script>{s}</script>" for s in scripts)
    parts.append("</body></html>")
    return "\n".join(parts)
