"""The tensor explorer in headless Chromium: it draws, and its tau slider counts as Python does.

The canvases hold one pixel per cell, so counting the pixels of a kind's colour counts
the cells of that kind.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from explorer_fixtures import hex_rgb, library_counts, world_run

from artifactlab.runs import load_run
from artifactlab.web.explorer import COLORS, explorer_page, write_explorer
from artifactlab.web.server import make_server

pytestmark = pytest.mark.browser

#: counts the pixels of each given colour over every slice canvas
COUNT_PIXELS = """(colors) => {
  const n = colors.map(() => 0);
  for (const c of document.querySelectorAll("canvas.slice")) {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4)
      colors.forEach(([r, g, b], k) => {
        if (d[i] === r && d[i + 1] === g && d[i + 2] === b && d[i + 3] === 255) n[k]++;
      });
  }
  return n;
}"""

#: the number of pixels that are not white
NOT_WHITE = """() => {
  let n = 0;
  for (const c of document.querySelectorAll("canvas.slice")) {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 765) n++;
  }
  return n;
}"""

KINDS = ["generalization", "hallucination", "training", "missed"]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return world_run(tmp_path_factory)


@pytest.fixture(scope="module")
def page_file(world, tmp_path_factory) -> Path:
    return write_explorer(world, tmp_path_factory.mktemp("explorer-page"), 0.5)


def set_tau(pg, tau: float) -> None:
    pg.eval_on_selector(
        "#tau", "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", str(tau)
    )


def pixel_counts(pg) -> dict[str, int]:
    got = pg.evaluate(COUNT_PIXELS, [hex_rgb(COLORS[k]) for k in KINDS])
    return dict(zip(KINDS, got, strict=True))


def number(pg, selector: str) -> int:
    return int(pg.text_content(selector).replace(",", ""))


def test_slider_recolours_to_the_library_counts(page, page_file, world):
    pg = page.page
    pg.goto(page_file.as_uri())
    pg.wait_for_selector("body[data-ready='1']")
    assert page.errors == []
    assert pg.evaluate(NOT_WHITE) > 0
    taus = [0.1, 0.5, 0.75, 0.95]
    lib = library_counts(world, taus)
    assert len({lib[t][0] for t in taus}) >= 3  # the thresholds give different counts
    for tau in taus:
        set_tau(pg, tau)
        assert pg.text_content("#tau-value") == str(tau)
        px = pixel_counts(pg)
        n_art, n_gen = lib[tau]
        assert (px["generalization"] + px["hallucination"], px["generalization"]) == lib[tau]
        assert number(pg, "#n-artifacts") == n_art and number(pg, "#n-generalizations") == n_gen
        assert number(pg, "#n-hallucinations") == n_art - n_gen
        assert number(pg, "#n-missed") == px["missed"]
        assert "(same)" in pg.text_content("#python-check")
    pg.select_option("#axis", "first")  # the other slicing draws the same cells
    px = pixel_counts(pg)
    assert px["generalization"] + px["hallucination"] == lib[0.95][0]
    assert px["training"] == number(pg, "#n-training") == len(load_run(world).dataset.tuples)
    assert page.errors == []


def test_hover_and_search(page, page_file, world):
    pg = page.page
    pg.goto(page_file.as_uri())
    pg.wait_for_selector("body[data-ready='1']")
    run = load_run(world)
    a, r, t = run.dataset.tuples[0].tolist()
    V, tokens = run.dataset.vocab.V, run.dataset.vocab.tokens
    box = pg.locator(f"canvas.slice[data-token='{tokens[r]}']").bounding_box()
    cell = box["width"] / V
    pg.mouse.move(box["x"] + (t + 0.5) * cell, box["y"] + (a + 0.5) * cell)
    text = pg.text_content("#hover")
    assert f"{tokens[a]} {tokens[r]} \u2192 {tokens[t]}" in text and "training tuple" in text
    pg.fill("#search", tokens[r])
    assert pg.text_content("#search-status").startswith("1 token(s) match")
    assert pg.locator("figure.match").count() == 1
    pg.check("#filter")
    assert pg.locator("figure:not(.hidden)").count() == 1
    assert page.errors == []


def test_served_live_and_screenshot(page, world, tmp_path, screenshot_dir):
    folder = tmp_path / "served"
    folder.mkdir()
    html = explorer_page(load_run(world), 0.5).html
    (folder / "index.html").write_text(html)
    server = make_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        pg = page.page
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready='1']")
        lib = library_counts(world, [0.3])[0.3]
        set_tau(pg, 0.3)
        px = pixel_counts(pg)
        assert (px["generalization"] + px["hallucination"], px["generalization"]) == lib
        pg.screenshot(path=str(screenshot_dir / "explorer.png"), full_page=False)
        assert page.errors == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_no_ground_truth_page(page, tiny_run, tmp_path):
    pg = page.page
    pg.goto(write_explorer(tiny_run, tmp_path).as_uri())
    pg.wait_for_selector("body[data-ready='1']")
    assert "has no ground truth" in pg.text_content("main")
    artifacts = pg.evaluate(COUNT_PIXELS, [hex_rgb(COLORS["artifact"])])[0]
    assert artifacts == number(pg, "#n-artifacts") > 0
    assert pg.text_content("#n-generalizations").startswith("n/a")
    assert page.errors == []


def test_sampled_view_counts_its_slices(page, world, tmp_path):
    run = load_run(world)
    V = run.dataset.vocab.V
    sampled = explorer_page(run, 0.5, sample=2, seed=3, max_cells=2 * V * V)
    (tmp_path / "sampled.html").write_text(sampled.html)
    pg = page.page
    pg.goto((tmp_path / "sampled.html").as_uri())
    pg.wait_for_selector("body[data-ready='1']")
    assert pg.locator("canvas.slice").count() == 2 and pg.is_disabled("#axis")
    for tau in (0.2, 0.6):
        set_tau(pg, tau)
        px = pixel_counts(pg)
        want = sampled.cells.counts(tau)
        assert px["generalization"] + px["hallucination"] == want["n_artifacts"]
        assert number(pg, "#n-artifacts") == want["n_artifacts"]
        assert "(same)" in pg.text_content("#python-check")
    assert page.errors == []
