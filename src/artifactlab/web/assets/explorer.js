/* The tensor explorer of artifactlab.web.explorer: a 3-token run's completion tensor
   M[a, b, t] = p(t | a b), one <canvas> per slice and one canvas pixel per cell (scaled
   up with image-rendering: pixelated). The tau slider recolours every cell from the
   embedded float64 probabilities with the library's rule: a cell is an artifact when it
   is not a training n-gram and p > tau (strict). Plain JavaScript, no library. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const V = D.V, VV = V * V, TOK = D.tokens;
  const TRAIN = 1, TRUTH = 2; // cell flags
  const PX = Math.max(1, Math.min(16, Math.floor(240 / V))); // screen pixels per cell
  const el = (id) => document.getElementById(id);

  function typed(b64, Type) {
    const bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }
  const keys = typed(D.cells.keys, Uint32Array);
  const probs = typed(D.cells.probs, Float64Array);
  const flags = typed(D.cells.flags, Uint8Array);
  const K = keys.length;

  // colours as the 32-bit words of a little-endian ImageData (RGBA bytes)
  function rgb(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [n >> 16, (n >> 8) & 255, n & 255];
  }
  const pack = (r, g, b) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  const C = {};
  for (const k of Object.keys(D.colors)) C[k] = pack(...rgb(D.colors[k]));
  const ART = D.has_truth ? C.generalization : C.artifact;
  const HALL = D.has_truth ? C.hallucination : C.artifact;
  const GREYS = new Uint32Array(65); // a cell under tau, shaded by p / tau
  const low = rgb(D.colors.below)[0];
  for (let i = 0; i <= 64; i++) {
    const v = Math.round(255 - ((255 - low) * i) / 64);
    GREYS[i] = pack(v, v, v);
  }

  const state = { tau: D.tau, axis: D.axis, matches: [], filter: false, drawMs: 0, draws: 0 };
  let views = [], slot = new Int32Array(0), pix = new Int32Array(0), counts = {};

  function groups(axis) {
    const seen = new Uint8Array(V);
    for (const t of D.seen[axis]) seen[t] = 1;
    const order = D.sample ? D.sample.slice() : [...Array(V).keys()];
    return [
      ["tokens seen in this position in the training data", order.filter((t) => seen[t])],
      ["tokens never seen in this position (unobserved contexts)", order.filter((t) => !seen[t])],
    ];
  }

  function makeView(token, index, parent) {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    const name = document.createElement("span");
    name.textContent = (state.axis === "relation" ? "relation " : "first token ") + TOK[token];
    const n = document.createElement("span");
    cap.append(name, " \u00b7 ", n, " artifacts");
    const frame = document.createElement("div");
    frame.className = "frame";
    const canvas = document.createElement("canvas");
    const overlay = document.createElement("canvas");
    for (const c of [canvas, overlay]) {
      c.width = V;
      c.height = V;
      c.style.width = c.style.height = V * PX + "px";
    }
    canvas.className = "slice";
    overlay.className = "overlay";
    canvas.dataset.view = index;
    canvas.dataset.token = TOK[token];
    frame.append(canvas, overlay);
    fig.append(cap, frame);
    parent.append(fig);
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(V, V);
    return {
      token, fig, n, canvas, overlay, ctx, image,
      octx: overlay.getContext("2d"), u32: new Uint32Array(image.data.buffer), count: 0,
    };
  }

  function build() {
    const box = el("slices");
    box.textContent = "";
    views = [];
    for (const [title, tokens] of groups(state.axis)) {
      if (!tokens.length) continue;
      const h = document.createElement("h3");
      h.textContent = `${title}: ${tokens.length}`;
      box.append(h);
      for (const t of tokens) views.push(makeView(t, views.length, box));
    }
    const rows = state.axis === "relation" ? "first token (subject)" : "second token";
    el("axis-note").textContent =
      `Each slice: rows are the ${rows}, columns the target (object), in vocabulary order.`;
    layout();
  }

  function layout() { // where each stored cell goes: its view and its pixel
    const pos = new Int32Array(V).fill(-1);
    views.forEach((v, i) => (pos[v.token] = i));
    slot = new Int32Array(K);
    pix = new Int32Array(K);
    for (let i = 0; i < K; i++) {
      const key = keys[i], hi = Math.floor(key / VV), mid = Math.floor(key / V) % V, t = key % V;
      if (D.sample) { slot[i] = pos[D.sample[hi]]; pix[i] = mid * V + t; }
      else if (state.axis === "relation") { slot[i] = pos[mid]; pix[i] = hi * V + t; }
      else { slot[i] = pos[hi]; pix[i] = mid * V + t; }
    }
  }

  function redraw() {
    const t0 = performance.now(), tau = state.tau;
    for (const v of views) { v.u32.fill(C.empty); v.count = 0; }
    let nArt = 0, nGen = 0, nMiss = 0, nTrain = 0;
    for (let i = 0; i < K; i++) {
      const f = flags[i], p = probs[i], v = views[slot[i]];
      let w;
      if (f & TRAIN) { w = C.training; nTrain++; }
      else if (p > tau) {
        nArt++;
        v.count++;
        if (f & TRUTH) { nGen++; w = ART; } else w = HALL;
      } else if (f & TRUTH) { nMiss++; w = C.missed; }
      else w = GREYS[Math.min(64, Math.round((64 * p) / tau))];
      v.u32[pix[i]] = w;
    }
    for (const v of views) {
      v.ctx.putImageData(v.image, 0, 0);
      v.n.textContent = v.count.toLocaleString("en");
    }
    counts = {
      n_artifacts: nArt,
      n_generalizations: D.has_truth ? nGen : null,
      n_hallucinations: D.has_truth ? nArt - nGen : null,
      n_missed: D.has_truth ? nMiss : null,
      n_training: nTrain,
    };
    showCounts();
    state.drawMs = performance.now() - t0;
    state.draws++;
  }

  function showCounts() {
    const text = (x) => (x === null ? "n/a" : x.toLocaleString("en"));
    el("n-artifacts").textContent = text(counts.n_artifacts);
    el("n-generalizations").textContent = text(counts.n_generalizations);
    el("n-hallucinations").textContent = text(counts.n_hallucinations);
    el("n-missed").textContent = text(counts.n_missed);
    el("n-training").textContent = text(counts.n_training);
    el("tau-value").textContent = String(state.tau);
    const check = el("python-check"), py = D.python, i = py.taus.indexOf(state.tau);
    if (i < 0) {
      check.textContent = "(the library's counts are embedded at the slider's steps only)";
      check.className = "";
      return;
    }
    const same = py.n_artifacts[i] === counts.n_artifacts &&
      (!py.n_generalizations || py.n_generalizations[i] === counts.n_generalizations);
    const gen = py.n_generalizations ? `, ${py.n_generalizations[i]} generalizations` : "";
    check.textContent = `library (${py.source}): ${py.n_artifacts[i]} artifacts${gen}` +
      (same ? " (same)" : " (DIFFERENT)");
    check.className = same ? "" : "mismatch";
  }

  function find(key) { // index of a stored cell, or -1
    let lo = 0, hi = K - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, k = keys[mid];
      if (k === key) return mid;
      if (k < key) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  function describe(index, row, col) {
    const tok = views[index].token;
    const [a, b] = state.axis === "relation" ? [row, tok] : [tok, row];
    const key = D.sample ? D.sample.indexOf(tok) * VV + row * V + col : a * VV + b * V + col;
    const i = find(key), p = i < 0 ? null : probs[i], f = i < 0 ? 0 : flags[i];
    let kind = "empty";
    if (f & TRAIN) kind = "training tuple";
    else if (p !== null && p > state.tau) {
      kind = D.has_truth ? (f & TRUTH ? "generalization" : "hallucination") : "artifact";
    } else if (f & TRUTH) kind = "held-out truth, missed";
    const prob = p === null ? `p \u2264 ${D.floor}` : `p = ${p.toPrecision(4)}`;
    return `${TOK[a]} ${TOK[b]} \u2192 ${TOK[col]}: ${prob} (${kind})`;
  }

  function onHover(e) {
    const c = e.target, tip = el("tooltip");
    if (!c.classList || !c.classList.contains("slice")) { tip.style.display = "none"; return; }
    const r = c.getBoundingClientRect();
    const col = Math.min(V - 1, Math.floor(((e.clientX - r.left - c.clientLeft) / c.clientWidth) * V));
    const row = Math.min(V - 1, Math.floor(((e.clientY - r.top - c.clientTop) / c.clientHeight) * V));
    if (col < 0 || row < 0) return;
    const text = describe(Number(c.dataset.view), row, col);
    el("hover").textContent = text;
    tip.textContent = text;
    tip.style.display = "block";
    tip.style.left = e.clientX + 14 + "px";
    tip.style.top = e.clientY + 14 + "px";
  }

  function onClick(e) { // enlarge a slice, or shrink it back
    const c = e.target;
    if (!c.classList || !c.classList.contains("slice")) return;
    const v = views[Number(c.dataset.view)], big = v.fig.classList.toggle("zoom");
    const size = big ? Math.max(V * PX, Math.min(720, V * 12)) : V * PX;
    for (const x of [v.canvas, v.overlay]) x.style.width = x.style.height = size + "px";
  }

  function applySearch() {
    const q = el("search").value.trim().toLowerCase();
    let m = [];
    if (q) {
      const all = [...Array(V).keys()];
      m = all.filter((t) => TOK[t].toLowerCase() === q);
      if (!m.length) m = all.filter((t) => TOK[t].toLowerCase().includes(q));
    }
    state.matches = m;
    state.filter = el("filter").checked;
    const names = m.slice(0, 5).map((t) => TOK[t]).join(", ") + (m.length > 5 ? ", ..." : "");
    el("search-status").textContent = q ? `${m.length} token(s) match${m.length ? ": " + names : ""}` : "";
    const hit = new Uint8Array(V);
    for (const t of m) hit[t] = 1;
    const anySlice = views.some((v) => hit[v.token]);
    for (const v of views) {
      v.fig.classList.toggle("match", !!hit[v.token]);
      v.fig.classList.toggle("hidden", state.filter && anySlice && !hit[v.token]);
      const o = v.octx;
      o.clearRect(0, 0, V, V);
      if (!m.length) continue;
      if (state.filter) { // dim everything but the matching rows and columns
        o.fillStyle = "rgba(255,255,255,0.8)";
        o.fillRect(0, 0, V, V);
        for (const t of m) { o.clearRect(0, t, V, 1); o.clearRect(t, 0, 1, V); }
      } else {
        o.fillStyle = "rgba(255,190,0,0.35)";
        for (const t of m) { o.fillRect(0, t, V, 1); o.fillRect(t, 0, 1, V); }
      }
    }
  }

  function setup() {
    const slider = el("tau");
    slider.step = D.step;
    slider.min = String(D.floor);
    slider.max = String(D.tau_max);
    slider.value = String(D.tau);
    state.tau = parseFloat(slider.value);
    slider.addEventListener("input", () => { state.tau = parseFloat(slider.value); redraw(); });
    const axis = el("axis");
    for (const a of D.axes) {
      const opt = document.createElement("option");
      opt.value = a;
      opt.textContent = a === "relation" ? "middle token (relation)" : "first token";
      axis.append(opt);
    }
    axis.value = state.axis;
    axis.disabled = D.axes.length < 2;
    axis.addEventListener("change", () => {
      state.axis = axis.value;
      build();
      redraw();
      applySearch();
    });
    el("search").addEventListener("input", applySearch);
    el("filter").addEventListener("change", applySearch);
    el("slices").addEventListener("mousemove", onHover);
    el("slices").addEventListener("mouseleave", () => (el("tooltip").style.display = "none"));
    el("slices").addEventListener("click", onClick);
  }

  setup();
  build();
  redraw();
  window.artifactlabExplorer = {
    state, redraw, describe,
    counts: () => Object.assign({}, counts),
    setTau(t) { el("tau").value = String(t); el("tau").dispatchEvent(new Event("input")); },
  };
  document.body.dataset.ready = "1";
  performance.mark("explorer-drawn");
})();
