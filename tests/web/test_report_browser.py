"""The report in headless Chromium: it loads offline, draws every figure, sorts its tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import DOCS_FIGURES, invoke, results_dir

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    """The report of one small result of every kind."""
    out = tmp_path_factory.mktemp("report-browser") / "report"
    invoke("report", results_dir(tmp_path_factory), "--out", out, "--quiet")
    return out / "index.html"


def _open(page, path: Path) -> list[str]:
    """Load the page; returns every request that is not for a local file."""
    requests: list[str] = []
    page.page.on("request", lambda r: requests.append(r.url))
    page.page.goto(path.as_uri())
    page.page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
    return [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]


def test_loads_offline_and_draws_every_figure(page, report_page, screenshot_dir):
    assert _open(page, report_page) == []
    plots = page.page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-figure]')).map(d => ({
            id: d.id, plotly: d.classList.contains('js-plotly-plot'),
            traces: (d.data || []).length,
            points: d.querySelectorAll('.scatterlayer .point').length}))"""
    )
    assert len(plots) >= 8
    for p in plots:
        assert p["plotly"] and p["traces"] > 0 and p["points"] > 0, p
    assert page.errors == []
    page.page.screenshot(path=str(screenshot_dir / "report.png"))


def test_the_interp_sections_draw_their_figures(page, tmp_path):
    # the committed outputs of interp fit, hull --experiment and double-descent
    invoke("report", DOCS_FIGURES / "interp", "--out", tmp_path / "r", "--quiet")
    assert _open(page, tmp_path / "r" / "index.html") == []
    plots = page.page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-figure]')).map(d => ({
            id: d.id, plotly: d.classList.contains('js-plotly-plot'),
            points: d.querySelectorAll('.scatterlayer .point').length}))"""
    )
    assert len(plots) == 7
    for p in plots:
        assert p["plotly"] and p["points"] > 0, p
    assert page.errors == []


def test_hover_shows_a_points_text(page, report_page):
    _open(page, report_page)
    text = page.page.evaluate(
        """() => {
            const div = document.querySelector('[data-figure$="-scatter"]');
            Plotly.Fx.hover(div, [{curveNumber: 0, pointNumber: 0}]);
            const box = div.querySelector('.hoverlayer .hovertext');
            return box ? box.textContent : null;
        }"""
    )
    assert text and "seed 0" in text
    assert page.errors == []


def _column(page, table: int, column: int) -> list[float]:
    return page.page.evaluate(
        """([t, c]) => Array.from(document.querySelectorAll('table.sortable')[t].tBodies[0].rows)
              .map(r => parseFloat(r.cells[c].getAttribute('data-value')))""",
        [table, column],
    )


def test_clicking_a_header_sorts_numbers_by_value(page, report_page):
    _open(page, report_page)
    # the claim's table: means from 462 (random) to 2,310 (siblings), shown with commas
    index, column = page.page.evaluate(
        """() => { const tables = Array.from(document.querySelectorAll('table.sortable'));
            const t = tables.findIndex(t => t.closest('section').id === 'claims-a');
            const heads = Array.from(tables[t].tHead.rows[0].cells).map(c => c.textContent);
            return [t, heads.indexOf('n_artifacts@0.5')]; }"""
    )
    assert index >= 0 and column > 0
    header = page.page.locator("table.sortable").nth(index).locator("th").nth(column)
    header.click()
    values = _column(page, index, column)
    assert len(values) > 10 and values == sorted(values) and values[0] < 1000 < values[-1]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert _column(page, index, column) == sorted(values, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    assert page.errors == []
