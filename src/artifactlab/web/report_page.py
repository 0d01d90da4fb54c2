"""The report's HTML: a header with the build machine, a nav, one ``<section>`` per result.

Every piece of user text (paths, names, tokens, commands) is escaped. Figures are empty
``<div data-figure=ID>`` elements that ``assets/report.js`` fills from the embedded JSON
(``{"figures": {ID: {"data", "layout"}}}``); tables carry ``data-value`` on each cell,
the value the script sorts by.

Example
-------
>>> from artifactlab.web.report_model import Cell, Table
>>> html = table_html(Table("t", ["a <b>"], [[Cell("1,234", 1234.0)]]))
>>> '<th scope="col">a &lt;b&gt;</th>' in html, 'data-value="1234.0"' in html
(True, True)
>>> verdict_class("[a1] rho -0.8 -> supported"), verdict_class("x: partly supported (6/15)")
('supported', 'partly')
"""

from __future__ import annotations

from html import escape
from typing import Any

from artifactlab.web.report_model import Section, Table

#: the sections' kinds in the order the nav lists them, with their headings
KIND_TITLES = {
    "reproduce": "Figures (reproduce)",
    "claims": "Claims",
    "compare": "Comparisons (compare)",
    "mitigate": "Mitigations (mitigate)",
    "sweep": "Sweeps",
    "interp": "Interpolation lab (interp)",
    "train": "Run folders (train)",
}

CSS = """
header p { margin: 0.2em 0; }
nav { border: 1px solid #ddd; background: #fafafa; padding: 0.4em 0.6em; margin: 0.8em 0;
      font-size: 0.9em; }
nav .group { margin: 0.15em 0; }
nav .group strong { margin-right: 0.6em; }
section.result { border-top: 2px solid #888; margin-top: 2em; padding-top: 0.5em; }
section.result h2 { margin-bottom: 0.2em; }
.kind { font-size: 0.7em; background: #eef; border-radius: 3px; padding: 0.1em 0.4em;
        vertical-align: middle; margin-right: 0.4em; }
.subtitle { color: #555; font-size: 0.9em; margin-top: 0; }
ul.verdicts { padding-left: 1.2em; }
li.verdict { margin: 0.15em 0; }
li.verdict.supported { color: #066106; }
li.verdict.contradicted { color: #a00; }
li.verdict.partly, li.verdict.inconclusive { color: #8a5a00; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; flex: 1 1 520px; min-width: 420px; border: 1px solid #e3e3e3; }
figure .plot { width: 100%; min-height: 420px; }
figcaption { font-size: 0.8em; padding: 0.2em 0.5em; color: #555; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
.table-wrap { overflow-x: auto; max-height: 32em; overflow-y: auto; }
.table-wrap td { white-space: nowrap; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; font-size: 0.9em; }
dl.kv dt { font-weight: 600; }
dl.kv dd { margin: 0; font-family: monospace; word-break: break-all; }
.how { font-size: 0.85em; color: #555; margin-top: -0.6em; }
"""

_VERDICTS = (
    ("partly supported", "partly"),
    ("contradicted", "contradicted"),
    ("inconclusive", "inconclusive"),
    ("supported", "supported"),
)


def verdict_class(line: str) -> str:
    """The CSS class of a verdict line: the verdict word it states last."""
    best = (-1, "")
    for word, cls in _VERDICTS:  # "partly supported" first: it wins over its own "supported"
        start = line.rfind(word)
        if start >= 0 and start + len(word) > best[0]:
            best = (start + len(word), cls)
    return best[1]


def _dl(items: dict[str, str]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items.items())
    return f'<dl class="kv">{rows}</dl>'


def table_html(table: Table) -> str:
    """A sortable table (``class="sortable"``): headers are buttons for ``report.js``."""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td data-value="{escape(str(c.value), quote=True)}">{escape(c.text)}</td>'
            if c.value is not None
            else f"<td>{escape(c.text)}</td>"
            for c in row
        )
        body.append(f"<tr>{cells}</tr>")
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<h3>{escape(table.title)}</h3>{note}<div class="table-wrap"><table class="sortable">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _figures_html(section: Section) -> str:
    items = []
    for fig in section.figures:
        fid = escape(fig.id, quote=True)
        items.append(
            f'<figure><div class="plot" id="plot-{fid}" data-figure="{fid}"></div><figcaption>'
            f'{escape(fig.title)} (<a href="figures/{fid}.png">static PNG</a>)'
            + (f". {escape(fig.caption)}" if fig.caption else "")
            + "</figcaption></figure>"
        )
    return f'<div class="figures">{"".join(items)}</div>' if items else ""


def _config_html(section: Section) -> str:
    parts = []
    if section.settings:
        parts.append(_dl(section.settings))
    if section.config_text:
        parts.append(f"<p>sweep file as recorded:</p><pre>{escape(section.config_text)}</pre>")
    if not parts:
        return ""
    return f"<details><summary>configuration</summary>{''.join(parts)}</details>"


def _commands_html(section: Section) -> str:
    if not section.commands:
        return "<h3>commands</h3><p>no command is recorded for this result.</p>"
    items = [
        f'<pre><code>{escape(c.text)}</code></pre><p class="how">{escape(c.how)}</p>'
        for c in section.commands
    ]
    return "<h3>commands</h3>" + "".join(items)


def section_html(section: Section) -> str:
    """One result as a ``<section>``: heading, lines, verdicts, figures, tables, records."""
    heading = escape(section.label or section.title)
    source = escape(str(section.path))
    parts = [
        f'<section class="result kind-{section.kind}" id="{escape(section.id, quote=True)}">',
        f'<h2><span class="kind">{section.kind}</span>{heading}</h2>',
        f'<p class="subtitle">{escape(section.title)} (read from <code>{source}</code>)</p>',
        *(f"<p>{escape(line)}</p>" for line in section.lines),
    ]
    if section.verdicts:
        items = "".join(
            f'<li class="verdict {verdict_class(v)}">{escape(v)}</li>' for v in section.verdicts
        )
        parts.append(
            f'<h3>verdicts (as the summary states them)</h3><ul class="verdicts">{items}</ul>'
        )
    parts += [
        f'<p><a href="{escape(href, quote=True)}">{escape(label)}</a></p>'
        for label, href in section.links
    ]
    parts.append(_figures_html(section))
    parts += [table_html(t) for t in section.tables]
    parts.append(_config_html(section))
    if section.provenance:
        parts.append("<h3>provenance (as recorded)</h3>" + _dl(section.provenance))
    parts.append(_commands_html(section))
    parts.append('<p><a href="#top">back to the top</a></p></section>')
    return "\n".join(p for p in parts if p)


def nav_html(sections: list[Section]) -> str:
    """Links to every section, grouped by kind."""
    groups = []
    for kind, heading in KIND_TITLES.items():
        links = [
            f'<a href="#{escape(s.id, quote=True)}" title="{escape(s.title, quote=True)}">'
            f"{escape(s.label or s.title)}</a>"
            for s in sections
            if s.kind == kind
        ]
        if links:
            groups.append(
                f'<div class="group"><strong>{escape(heading)}</strong>{"".join(links)}</div>'
            )
    return f'<nav id="nav" aria-label="sections">{"".join(groups)}</nav>'


def header_html(info: dict[str, Any], machine: dict[str, str]) -> str:
    """The page's header: what was reported, the report's own command, the build machine."""
    lines = [
        '<header id="top"><h1>artifactlab report</h1>',
        f"<p>{info['n_sections']} results found in <code>{escape(info['source'])}</code> "
        f"(searched {info['depth']} folder levels below it); built {escape(info['built'])}.</p>",
        "<p>Everything below is read from saved result files: nothing was retrained, and every "
        "verdict is quoted from the summary file its command wrote.</p>",
    ]
    if info.get("command"):
        lines.append(f"<p>report command: <code>{escape(info['command'])}</code></p>")
    lines += [f"<p>{escape(note)}</p>" for note in info.get("notes", [])]
    lines.append(
        f"<details><summary>machine this report was built on</summary>{_dl(machine)}</details>"
    )
    return "\n".join(lines) + "</header>"
