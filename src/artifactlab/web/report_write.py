"""Writing a report folder: the PNG copies, the optional explorer pages, then ``index.html``.

Everything is written into the staged folder that :func:`artifactlab.web.report.build_report`
renames onto ``OUT`` once complete.

Example
-------
>>> from artifactlab.web.report_model import Section
>>> runs = [Section("a", "train", "t", Path("run")), Section("b", "sweep", "s", Path("s"))]
>>> [s.id for s in explorer_runs(runs, lambda path: 3)]
['a']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.io import OutputError, json_safe, write_text
from artifactlab.web.page import asset, render_page
from artifactlab.web.report_figures import draw_png, plotly_figure
from artifactlab.web.report_model import Section
from artifactlab.web.report_page import CSS, header_html, nav_html, section_html


def explorer_runs(sections: list[Section], length: Callable[[Path], int | None]) -> list[Section]:
    """The run-folder sections whose tuples have 3 tokens (``length(path)`` is their ``n``)."""
    return [s for s in sections if s.kind == "train" and length(s.path) == 3]


def _write_explorers(
    tmp: Path, sections: list[Section], notes: list[str], progress: Any
) -> list[str]:
    """Write an explorer page per 3-token run; a run the explorer refuses gets a note instead."""
    from artifactlab.web.report_sections import run_tuple_length

    runs = explorer_runs(sections, run_tuple_length)
    if not runs:
        return []
    try:
        from artifactlab.web.explorer import write_explorer
    except ImportError as err:
        raise InputError(
            "--explorer",
            f"the tensor explorer is not available ({err})",
            "build the report without --explorer",
        ) from None
    written = []
    with progress(len(runs), "explorer pages") as advance:
        for section in runs:
            try:
                page = Path(write_explorer(section.path, tmp / "explorer" / section.id))
            except OutputError:
                raise
            except InputError as err:  # a run the explorer cannot show (too large, say)
                notes.append(f"no tensor explorer for {section.path}: {err.message}")
                section.lines.append(f"no tensor explorer: {err.message}")
                advance(1)
                continue
            rel = Path(os.path.relpath(page, tmp)).as_posix()
            section.links.append((f"tensor explorer of {section.path.name}", rel))
            written.append(rel)
            advance(1)
    return written


def write_report(
    tmp: Path,
    sections: list[Section],
    info: dict[str, Any],
    machine: dict[str, str],
    explorer: bool,
    progress: Any,
) -> dict[str, list[str]]:
    """Write the figures' PNGs, the explorer pages (``explorer``) and ``index.html`` into ``tmp``.

    Returns the written files relative to ``tmp``: ``figures`` and ``explorers``.
    """
    figures = [fig for s in sections for fig in s.figures]
    pngs = []
    with progress(len(figures), "drawing figures") as advance:
        for fig in figures:
            draw_png(fig, tmp / "figures" / f"{fig.id}.png")
            pngs.append(f"figures/{fig.id}.png")
            advance(1)
    explorers = _write_explorers(tmp, sections, info["notes"], progress) if explorer else []
    if explorer and not explorers:
        info["notes"].append(
            "--explorer: no run folder of 3-token tuples was found, "
            "so no explorer page was written."
        )
    body = "\n".join(
        [
            header_html(info, machine),
            nav_html(sections),
            "<main>",
            *(section_html(s) for s in sections),
            "</main>",
        ]
    )
    data = json_safe({"figures": {fig.id: plotly_figure(fig) for fig in figures}})
    page = render_page(
        "artifactlab report", body, data=data, scripts=(asset("report.js"),), css=CSS
    )
    write_text(tmp / "index.html", page)
    return {"figures": pngs, "explorers": explorers}
