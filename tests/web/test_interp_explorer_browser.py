"""The interpolation explorer in headless Chromium: its numbers are the lab's numbers.

The page computes the interpolating polynomial, the piecewise-linear fit, the not-a-knot
spline and their inside / outside errors in JavaScript; every check here compares them
with :func:`artifactlab.web.interp_explorer.lab_errors` (``artifactlab.interp.fit1d``) for
the same points, to ``RTOL`` relative (``ATOL`` absolute, for errors that are 0).
"""

from __future__ import annotations

import pytest

from artifactlab.web.interp_explorer import ERRORS, METHODS, lab_errors, write_interp_explorer

pytestmark = pytest.mark.browser

RTOL, ATOL = 1e-6, 1e-12


@pytest.fixture(scope="module")
def runge_page(tmp_path_factory):
    """The default page: 11 even Runge points, bands of 0.5 (``interp explore``'s defaults)."""
    return write_interp_explorer(tmp_path_factory.mktemp("interp") / "runge.html")


def open_page(page, path):
    page.page.goto(path.as_uri())
    page.page.wait_for_function("window.interpLab !== undefined && window.interpState !== null")
    return page.page


def state(p) -> dict:
    return p.evaluate("window.interpState")


def assert_matches_python(p, target="runge", band=0.5) -> dict:
    """The page's errors (state and table cells) equal fit1d's for the page's points."""
    s = state(p)
    want = lab_errors(s["x"], s["y"], target, band)
    for method, short in METHODS.items():
        for key, suffix in ERRORS.items():
            got = s["errors"][method][key]
            assert got == pytest.approx(want[method][key], rel=RTOL, abs=ATOL), (method, key)
            cell = p.get_attribute(f"#err-{short}-{suffix}", "data-value")
            assert float(cell) == got
    return s


def screen(p, x, y) -> tuple[float, float]:
    pos = p.evaluate("([x, y]) => window.interpLab.toScreen(x, y)", [x, y])
    return pos["x"], pos["y"]


def test_loads_and_matches_python(page, runge_page):
    p = open_page(page, runge_page)
    assert p.locator("#plot .scatterlayer .point").count() == 11  # the training points
    assert p.locator("#plot .scatterlayer .trace").count() == 5  # target, 3 fits, points
    s = assert_matches_python(p)
    assert s["bc_type"] == "not-a-knot" and (s["lo"], s["hi"]) == (-1.0, 1.0)
    assert p.get_attribute("#ref-check", "class") == "ok"
    assert page.errors == []


def test_dragging_a_point_changes_the_errors_as_python_does(page, runge_page, screenshot_dir):
    p = open_page(page, runge_page)
    before = state(p)
    x0, y0 = screen(p, before["x"][3], before["y"][3])
    p.mouse.move(x0, y0)
    p.mouse.down()
    p.mouse.move(x0 + 40, y0 - 80, steps=4)
    p.mouse.up()
    after = assert_matches_python(p)
    assert after["x"][3] > before["x"][3] and after["y"][3] > before["y"][3]
    assert after["x"][:3] == before["x"][:3] and after["x"][4:] == before["x"][4:]
    for method in METHODS:
        assert after["errors"][method]["interp_mse"] != before["errors"][method]["interp_mse"]
    p.screenshot(path=str(screenshot_dir / "interp.png"))
    assert page.errors == []


def test_click_adds_and_shift_click_removes_a_point(page, runge_page):
    p = open_page(page, runge_page)
    before = state(p)
    p.mouse.click(*screen(p, 0.1, 1.2))
    added = assert_matches_python(p)
    assert len(added["x"]) == 12 and added["x"][-1] == pytest.approx(0.1, abs=0.01)
    p.keyboard.down("Shift")
    p.mouse.click(*screen(p, added["x"][-1], added["y"][-1]))
    p.keyboard.up("Shift")
    removed = assert_matches_python(p)
    assert removed["x"] == before["x"] and removed["y"] == before["y"]
    p.click("#remove-last")
    assert len(assert_matches_python(p)["x"]) == 10
    p.click("#reset")
    assert state(p)["x"] == before["x"]
    assert page.errors == []


def test_small_and_uneven_point_sets_match_python(page, runge_page):
    # 2 points: the spline is a line; 3: a parabola (SciPy's not-a-knot cases); then uneven
    p = open_page(page, runge_page)
    sets = [([-0.3, 0.6], [0.2, 0.9]), ([0.4, -0.8, 0.1], [0.1, 0.5, 1.3]),
            ([-1.0, -0.9, 0.05, 0.3, 0.95], [0.0, 0.1, 0.9, 0.4, 0.06])]  # fmt: skip
    for xs, ys in sets:
        p.evaluate("([x, y]) => window.interpLab.setPoints(x, y)", [xs, ys])
        assert_matches_python(p)
    p.evaluate("window.interpLab.setPoints([0.0, 0.0, 0.5], [1.0, 2.0, 3.0])")
    assert state(p)["valid"] is False and p.text_content("#err-spline-inside") == "-"
    assert page.errors == []


@pytest.mark.parametrize("target", ["sine", "abs"])
def test_other_targets_with_noise_match_python(page, tmp_path, target):
    path = write_interp_explorer(
        tmp_path / "p.html", target=target, n=8, noise=0.05, seed=1, spacing="uniform", band=0.3
    )
    p = open_page(page, path)
    assert_matches_python(p, target, 0.3)
    assert p.get_attribute("#ref-check", "class") == "ok"
    assert page.errors == []
