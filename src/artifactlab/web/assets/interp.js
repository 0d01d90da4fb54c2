/* The interpolation explorer (artifactlab.web.interp_explorer): plain JavaScript on plotly.js.
 *
 * Reimplements the interp lab's three interpolants and its scores, following
 * artifactlab/interp/fit1d.py and the SciPy classes it uses:
 *   poly-interp  BarycentricInterpolator: weights 1 / prod_k (C (x_j - x_k)), C = 4 / (max - min),
 *                evaluated by the second (true) barycentric formula;
 *   linear       interp1d(kind="linear", fill_value="extrapolate"): the end segments continue;
 *   spline       CubicSpline(bc_type="not-a-knot", extrapolate=True): slopes from a tridiagonal
 *                solve (a line for 2 points, a parabola for 3, as SciPy), end cubics continue;
 *   scores       evaluate_fit: MSE on 2001 points of [lo, hi] (inside), MSE and max |error| on
 *                1000 points in each of [lo - band, lo) and (hi, hi + band] (outside).
 * State for tests: window.interpState (points, range, errors); helpers in window.interpLab.
 */
(function () {
  "use strict";

  const DATA = JSON.parse(document.getElementById("data").textContent);
  const TARGETS = {
    runge: (x) => 1.0 / (1.0 + 25.0 * x * x),
    sine: (x) => Math.sin(Math.PI * x),
    abs: (x) => Math.abs(x),
  };
  const SUFFIX = { interp_mse: "inside", extrap_mse: "outside", extrap_max: "outmax" };
  const COLORS = { "poly-interp": "#d62728", linear: "#1f77b4", spline: "#2ca02c" };
  const HIT_PX = 10; // a press this close to a point grabs it
  const CLICK_PX = 4; // a press that moves less than this is a click
  const REF_RTOL = 1e-6;
  const truth = TARGETS[DATA.target];

  /* ---- numerics ---------------------------------------------------------------------- */

  /** numpy.linspace(start, stop, num, endpoint): start + i * step, the end point exact. */
  function linspace(start, stop, num, endpoint) {
    const div = endpoint ? num - 1 : num;
    const step = (stop - start) / div;
    const out = new Array(num);
    for (let i = 0; i < num; i++) out[i] = i * step + start;
    if (endpoint && num > 1) out[num - 1] = stop;
    return out;
  }

  /** Points sorted by x (stable); null when two x are equal (fit1d refuses them). */
  function sortedXY(xs, ys) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);
    const x = order.map((i) => xs[i]);
    const y = order.map((i) => ys[i]);
    for (let i = 1; i < x.length; i++) if (x[i] === x[i - 1]) return null;
    return { x: x, y: y };
  }

  /** Index i with x[i-1] < t <= x[i] (numpy.searchsorted, side "left"). */
  function searchLeft(x, t) {
    let lo = 0;
    let hi = x.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The interpolating polynomial in barycentric form (SciPy's scaled weights). */
  function fitPoly(x, y) {
    const n = x.length;
    const cap = 4.0 / (x[n - 1] - x[0]);
    const w = x.map((xj, j) => {
      let prod = 1.0;
      for (let k = 0; k < n; k++) if (k !== j) prod *= cap * (xj - x[k]);
      return 1.0 / prod;
    });
    return function (t) {
      let num = 0.0;
      let den = 0.0;
      for (let j = 0; j < n; j++) {
        const d = t - x[j];
        if (d === 0) return y[j];
        const c = w[j] / d;
        num += c * y[j];
        den += c;
      }
      return num / den;
    };
  }

  /** Piecewise linear; beyond the data the first and last segments continue. */
  function fitLinear(x, y) {
    const n = x.length;
    return function (t) {
      const i = Math.min(Math.max(searchLeft(x, t), 1), n - 1);
      const slope = (y[i] - y[i - 1]) / (x[i] - x[i - 1]);
      return slope * (t - x[i - 1]) + y[i - 1];
    };
  }

  /** Solve a tridiagonal system (Thomas algorithm): sub, diag, sup, rhs of length n. */
  function solveTridiagonal(sub, diag, sup, rhs) {
    const n = diag.length;
    const c = new Array(n);
    const d = new Array(n);
    c[0] = sup[0] / diag[0];
    d[0] = rhs[0] / diag[0];
    for (let i = 1; i < n; i++) {
      const m = diag[i] - sub[i] * c[i - 1];
      c[i] = sup[i] / m;
      d[i] = (rhs[i] - sub[i] * d[i - 1]) / m;
    }
    const s = new Array(n);
    s[n - 1] = d[n - 1];
    for (let i = n - 2; i >= 0; i--) s[i] = d[i] - c[i] * s[i + 1];
    return s;
  }

  /** Slopes of the not-a-knot cubic spline at the knots (SciPy CubicSpline's system). */
  function splineSlopes(x, y) {
    const n = x.length;
    const dx = [];
    const m = [];
    for (let i = 0; i < n - 1; i++) {
      dx.push(x[i + 1] - x[i]);
      m.push((y[i + 1] - y[i]) / dx[i]);
    }
    if (n === 2) return [m[0], m[0]];
    if (n === 3) {
      // both ends not-a-knot on 3 points: the parabola through them (as SciPy)
      const sub = [0, dx[1], 1];
      const diag = [1, 2 * (dx[0] + dx[1]), 1];
      const sup = [1, dx[0], 0];
      const rhs = [2 * m[0], 3 * (dx[0] * m[1] + dx[1] * m[0]), 2 * m[1]];
      return solveTridiagonal(sub, diag, sup, rhs);
    }
    const sub = new Array(n).fill(0);
    const diag = new Array(n).fill(0);
    const sup = new Array(n).fill(0);
    const rhs = new Array(n).fill(0);
    for (let i = 1; i < n - 1; i++) {
      sub[i] = dx[i];
      diag[i] = 2 * (dx[i - 1] + dx[i]);
      sup[i] = dx[i - 1];
      rhs[i] = 3 * (dx[i] * m[i - 1] + dx[i - 1] * m[i]);
    }
    const d0 = x[2] - x[0];
    diag[0] = dx[1];
    sup[0] = d0;
    rhs[0] = ((dx[0] + 2 * d0) * dx[1] * m[0] + dx[0] * dx[0] * m[1]) / d0;
    const d1 = x[n - 1] - x[n - 3];
    diag[n - 1] = dx[n - 3];
    sub[n - 1] = d1;
    rhs[n - 1] =
      (dx[n - 2] * dx[n - 2] * m[n - 3] + (2 * d1 + dx[n - 2]) * dx[n - 3] * m[n - 2]) / d1;
    return solveTridiagonal(sub, diag, sup, rhs);
  }

  /** The not-a-knot cubic spline; beyond the data the end cubics continue. */
  function fitSpline(x, y) {
    const n = x.length;
    const s = splineSlopes(x, y);
    const coef = [];
    for (let i = 0; i < n - 1; i++) {
      const h = x[i + 1] - x[i];
      const m = (y[i + 1] - y[i]) / h;
      const t = (s[i] + s[i + 1] - 2 * m) / h;
      coef.push([t / h, (m - s[i]) / h - t, s[i], y[i]]);
    }
    return function (t) {
      // interval i with x[i] <= t < x[i+1]; the end intervals extend outwards
      let i = searchLeft(x, t);
      if (i < n && x[i] === t) i += 1;
      i = Math.min(Math.max(i - 1, 0), n - 2);
      const c = coef[i];
      const d = t - x[i];
      return ((c[0] * d + c[1]) * d + c[2]) * d + c[3];
    };
  }

  const FITTERS = { "poly-interp": fitPoly, linear: fitLinear, spline: fitSpline };

  /** evaluate_fit: {interp_mse, extrap_mse, extrap_max} of predict against the target. */
  function evaluate(predict, lo, hi, band, nGrid) {
    const inside = linspace(lo, hi, nGrid, true);
    const k = Math.max(Math.floor(nGrid / 2), 2);
    const left = linspace(lo - band, lo, k, false);
    const right = linspace(hi + band, hi, k, false).reverse();
    let sumIn = 0.0;
    for (const t of inside) sumIn += (predict(t) - truth(t)) ** 2;
    let sumOut = 0.0;
    let maxOut = 0.0;
    for (const t of left.concat(right)) {
      const e = predict(t) - truth(t);
      sumOut += e * e;
      maxOut = Math.max(maxOut, Math.abs(e));
    }
    return { interp_mse: sumIn / inside.length, extrap_mse: sumOut / (2 * k), extrap_max: maxOut };
  }

  /** Fits and errors of all three methods for points (xs, ys); null for repeated x. */
  function scores(xs, ys, band) {
    const xy = sortedXY(xs, ys);
    if (xy === null || xy.x.length < 2) return null;
    const lo = xy.x[0];
    const hi = xy.x[xy.x.length - 1];
    const fits = {};
    const errors = {};
    for (const name of Object.keys(FITTERS)) {
      fits[name] = FITTERS[name](xy.x, xy.y);
      errors[name] = evaluate(fits[name], lo, hi, band, DATA.n_grid);
    }
    return { x: xy.x, y: xy.y, lo: lo, hi: hi, fits: fits, errors: errors };
  }

  /* ---- page state and drawing -------------------------------------------------------- */

  const gd = document.getElementById("plot");
  const state = { x: DATA.points.x.slice(), y: DATA.points.y.slice() };
  window.interpState = null;

  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
  }

  function showErrors(result) {
    for (const method of DATA.methods) {
      for (const key of Object.keys(SUFFIX)) {
        const cell = document.getElementById("err-" + method.id + "-" + SUFFIX[key]);
        const v = result ? result.errors[method.name][key] : null;
        cell.textContent = v === null ? "-" : fmt(v);
        cell.dataset.value = v === null ? "" : String(v);
      }
    }
  }

  function curveGrid(result) {
    const [x0, x1] = DATA.view.x;
    const grid = linspace(x0, x1, 801, true).concat(result ? result.x : []);
    return grid.sort((a, b) => a - b);
  }

  function bandShapes(result) {
    if (!result) return [];
    const [x0, x1] = DATA.view.x;
    const rect = (a, b, color) => ({
      type: "rect", xref: "x", yref: "paper", x0: a, x1: b, y0: 0, y1: 1,
      fillcolor: color, line: { width: 0 }, layer: "below",
    });
    const band = DATA.band;
    return [
      rect(Math.min(x0, result.lo - band), result.lo - band, "#f4f4f4"),
      rect(result.lo - band, result.lo, "#e2e2e2"),
      rect(result.hi, result.hi + band, "#e2e2e2"),
      rect(result.hi + band, Math.max(x1, result.hi + band), "#f4f4f4"),
    ];
  }

  function traces(result) {
    const grid = curveGrid(result);
    const out = [{
      x: grid, y: grid.map(truth), name: "target (" + DATA.target + ")", mode: "lines",
      line: { color: "black", dash: "dash", width: 1 },
    }];
    for (const method of DATA.methods) {
      const f = result ? result.fits[method.name] : () => NaN;
      out.push({
        x: grid, y: grid.map((t) => f(t)), name: method.label, mode: "lines",
        line: { color: COLORS[method.name], width: 2 },
      });
    }
    out.push({
      x: state.x.slice(), y: state.y.slice(), name: "training points", mode: "markers",
      marker: { color: "black", size: 10, line: { color: "white", width: 1 } },
    });
    return out;
  }

  function layout(result) {
    return {
      xaxis: { range: DATA.view.x.slice(), fixedrange: true, title: { text: "x" } },
      yaxis: { range: DATA.view.y.slice(), fixedrange: true, title: { text: "y" } },
      dragmode: false, hovermode: false, shapes: bandShapes(result),
      margin: { l: 60, r: 20, t: 20, b: 50 },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    };
  }

  function showStatus(result) {
    const status = document.getElementById("status");
    document.getElementById("n-points").textContent = state.x.length + " points";
    if (result === null) {
      status.textContent = "Two points share an x value: the interpolants need distinct x.";
      status.className = "bad";
      document.getElementById("data-range").textContent = "";
      return;
    }
    status.textContent = "";
    status.className = "";
    const short = (v) => String(Number(v.toPrecision(3)));
    document.getElementById("data-range").textContent = "\u00b7 data range [" + short(result.lo) +
      ", " + short(result.hi) + "], extrapolation bands of width " + short(DATA.band);
  }

  /** Recompute every fit and error from state, write them into the page, redraw. */
  function update() {
    const result = scores(state.x, state.y, DATA.band);
    window.interpState = {
      target: DATA.target, band: DATA.band, bc_type: DATA.bc_type,
      x: state.x.slice(), y: state.y.slice(), valid: result !== null,
      lo: result ? result.lo : null, hi: result ? result.hi : null,
      errors: result ? result.errors : null,
    };
    showErrors(result);
    showStatus(result);
    Plotly.react(gd, traces(result), layout(result), { displayModeBar: false, responsive: true });
    return window.interpState;
  }

  /** Compare the page's numbers for the embedded points with the lab's (Python) numbers. */
  function checkReference() {
    const result = scores(DATA.points.x, DATA.points.y, DATA.band);
    let worst = 0.0;
    for (const method of Object.keys(DATA.reference)) {
      for (const key of Object.keys(SUFFIX)) {
        const ref = DATA.reference[method][key];
        const got = result.errors[method][key];
        if (ref === null && !Number.isFinite(got)) continue; // both overflowed (JSON null)
        worst = Math.max(worst, Math.abs(got - ref) / Math.max(Math.abs(ref), 1e-300));
      }
    }
    const el = document.getElementById("ref-check");
    const ok = worst <= REF_RTOL;
    el.className = ok ? "ok" : "bad";
    el.textContent = (ok ? "Matches" : "Does not match") + " artifactlab.interp.fit1d for the " +
      "initial points (largest relative difference " + worst.toExponential(1) + ").";
    return worst;
  }

  /* ---- mouse: drag, click to add, shift-click to remove ------------------------------ */

  function axes() {
    return { xa: gd._fullLayout.xaxis, ya: gd._fullLayout.yaxis };
  }

  /** Data coordinates to client (viewport) pixels. */
  function toScreen(x, y) {
    const { xa, ya } = axes();
    const box = gd.getBoundingClientRect();
    return { x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y) };
  }

  /** A mouse event's position in data coordinates, clamped to the view; null off the plot. */
  function toData(e, clamp) {
    const { xa, ya } = axes();
    const box = gd.getBoundingClientRect();
    const px = e.clientX - box.left - xa._offset;
    const py = e.clientY - box.top - ya._offset;
    const off = px < 0 || px > xa._length || py < 0 || py > ya._length;
    if (off && !clamp) return null;
    const cx = Math.min(Math.max(px, 0), xa._length);
    const cy = Math.min(Math.max(py, 0), ya._length);
    return { x: xa.p2l(cx), y: ya.p2l(cy) };
  }

  function nearestPoint(e) {
    let best = -1;
    let bestDist = HIT_PX;
    for (let i = 0; i < state.x.length; i++) {
      const p = toScreen(state.x[i], state.y[i]);
      const dist = Math.hypot(p.x - e.clientX, p.y - e.clientY);
      if (dist <= bestDist) {
        best = i;
        bestDist = dist;
      }
    }
    return best;
  }

  function removePoint(i) {
    if (state.x.length <= 2) return;
    state.x.splice(i, 1);
    state.y.splice(i, 1);
    update();
  }

  function track(onMove, onUp) {
    const up = (e) => {
      window.removeEventListener("mousemove", onMove, true);
      window.removeEventListener("mouseup", up, true);
      onUp(e);
    };
    window.addEventListener("mousemove", onMove, true);
    window.addEventListener("mouseup", up, true);
  }

  function onMouseDown(e) {
    if (e.button !== 0 || toData(e, false) === null) return;
    e.preventDefault();
    e.stopPropagation();
    const hit = nearestPoint(e);
    if (hit >= 0 && e.shiftKey) {
      removePoint(hit);
    } else if (hit >= 0) {
      const move = (ev) => {
        const p = toData(ev, true);
        state.x[hit] = p.x;
        state.y[hit] = p.y;
        update();
      };
      track(move, move);
    } else {
      const start = { x: e.clientX, y: e.clientY };
      track(() => {}, (ev) => {
        if (Math.hypot(ev.clientX - start.x, ev.clientY - start.y) > CLICK_PX) return;
        const p = toData(ev, false);
        if (p === null) return;
        state.x.push(p.x);
        state.y.push(p.y);
        update();
      });
    }
  }

  function setPoints(xs, ys) {
    state.x = xs.slice();
    state.y = ys.slice();
    return update();
  }

  gd.addEventListener("mousedown", onMouseDown, true);
  document.getElementById("reset").addEventListener("click", () => {
    setPoints(DATA.points.x, DATA.points.y);
  });
  document.getElementById("remove-last").addEventListener("click", () => {
    removePoint(state.x.length - 1);
  });

  window.interpLab = {
    fitters: FITTERS, evaluate: evaluate, scores: scores, linspace: linspace,
    setPoints: setPoints, toScreen: toScreen, checkReference: checkReference,
  };
  update();
  checkReference();
})();
