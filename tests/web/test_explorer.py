"""The tensor explorer without a browser: embedded data, counts, the command, the server."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from explorer_fixtures import library_counts, quad_run, world_run
from typer.testing import CliRunner
from user_errors import assert_user_error as user_error

from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.runs import load_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.dense import completion_dense
from artifactlab.web.explorer import COLORS, explorer_page, write_explorer
from artifactlab.web.explorer_data import FLOOR, TRAIN, TRUTH, build_cells, slider_steps
from artifactlab.web.server import make_server

TAUS = [0.05, 0.3, 0.5, 0.77, 0.95]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return world_run(tmp_path_factory)


@pytest.fixture(scope="module")
def world_page(world):
    return explorer_page(load_run(world), 0.5)


def embedded(html: str) -> dict:
    """The page's JSON, its typed arrays decoded."""
    text = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    data = json.loads(text.group(1))
    cells = data["cells"]
    for name, dtype in (("keys", "<u4"), ("probs", "<f8"), ("flags", "<u1")):
        cells[name] = np.frombuffer(base64.b64decode(cells[name]), dtype=dtype)
    return data


def invoke(*args) -> object:
    from artifactlab.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


# --- the embedded data --------------------------------------------------------------------


def test_embedded_cells_are_exactly_the_cells_that_can_colour(world, world_page):
    data, cells = embedded(world_page.html), world_page.cells
    run = load_run(world)
    V = run.dataset.vocab.V
    assert data["V"] == V and data["tokens"] == list(run.dataset.vocab.tokens)
    assert data["has_truth"] and data["truth_source"].endswith("truth.tsv")
    keys, probs, flags = (data["cells"][k] for k in ("keys", "probs", "flags"))
    np.testing.assert_array_equal(keys, cells.keys)
    np.testing.assert_array_equal(probs, cells.probs)  # float64, bit for bit
    assert np.all(np.diff(keys.astype(np.int64)) > 0)
    D = DataTensor.from_tuples(run.dataset.tuples, V)
    assert set(keys[(flags & TRAIN) != 0].tolist()) == set(D.keys().tolist())
    assert ((flags & TRUTH) != 0).sum() > 0 and not np.any((flags & TRAIN) & (flags & TRUTH))
    plain = flags == 0
    assert np.all(probs[plain] > FLOOR)
    dense = completion_dense(run.model.next_token_fn(), V, 3).reshape(-1).numpy()
    np.testing.assert_allclose(probs, dense[keys.astype(np.int64)], rtol=1e-6, atol=1e-9)
    clear = np.abs(dense - FLOOR) > 1e-9  # away from the floor: no rounding question
    above = set(np.flatnonzero((dense > FLOOR) & clear).tolist())
    assert above <= set(keys.tolist())
    assert data["python"]["taus"] == slider_steps() and data["step"] == "0.01"


def test_counts_equal_the_library_at_many_taus(world, world_page):
    lib = library_counts(world, TAUS)
    py = embedded(world_page.html)["python"]
    assert py["source"] == "evaluate_completion"
    for tau in TAUS:
        got = world_page.cells.counts(tau)
        assert (got["n_artifacts"], got["n_generalizations"]) == lib[tau], tau
        assert got["n_hallucinations"] == lib[tau][0] - lib[tau][1]
        i = py["taus"].index(tau)
        assert (py["n_artifacts"][i], py["n_generalizations"][i]) == lib[tau]
    assert lib[0.05][0] > lib[0.95][0] > 0  # the slider moves the count


def test_strict_comparison_in_float64_at_the_threshold():
    """p = tau exactly is no artifact; one ulp below tau it is, as in evaluate_completion."""
    ds = TupleDataset(Vocabulary(("a", "b", "c")), np.array([[0, 1, 2]]))
    logits = torch.tensor([[0.3, 0.1, 1.7]], dtype=torch.float32)
    p = float(torch.softmax(logits.double(), 1)[0, 2])
    fn = lambda ctx: logits.expand(len(ctx), 3)  # noqa: E731
    cells = build_cells(fn, ds)
    D = DataTensor.from_tuples(ds.tuples, 3)
    below, above = np.nextafter(p, 0), np.nextafter(p, 1)
    for tau in (below, p, above, float(np.float32(p))):
        lib = evaluate_completion(fn, D, [tau], top_k=0).n_artifacts[tau]
        assert cells.counts(tau)["n_artifacts"] == lib, tau
    assert cells.counts(below)["n_artifacts"] == 8 and cells.counts(p)["n_artifacts"] == 0


def test_a_tau_off_the_slider_grid_is_kept_exactly(world):
    page = explorer_page(load_run(world), 0.555)
    data = embedded(page.html)
    assert data["step"] == "any" and data["tau"] == 0.555 and 0.555 in data["python"]["taus"]
    i = data["python"]["taus"].index(0.555)
    assert data["python"]["n_artifacts"][i] == page.cells.counts(0.555)["n_artifacts"]


def test_a_crowded_tensor_raises_the_floor_and_says_so(world):
    run = load_run(world)
    fn = run.model.next_token_fn()
    full = build_cells(fn, run.dataset)
    most = int(((full.probs > 0.3) & (full.flags == 0)).sum())
    small = build_cells(fn, run.dataset, max_stored=most)
    assert FLOOR < small.floor <= 0.3 and small.floor in slider_steps()
    assert len(small.keys) < len(full.keys) and "the slider starts at" in small.notes[0]
    assert int(((small.probs > small.floor) & (small.flags == 0)).sum()) <= most
    for tau in (small.floor, 0.5, 0.9):
        assert small.counts(tau) == full.counts(tau)


def test_a_run_without_ground_truth_says_so(tiny_run, tmp_path):
    path = write_explorer(tiny_run, tmp_path, 0.5, name="page.html")
    html = path.read_text()
    data = embedded(html)
    assert not data["has_truth"] and data["truth_source"] is None
    body = html.split("<script")[0]
    assert "has no ground truth" in body and COLORS["artifact"] in body
    assert COLORS["hallucination"] not in body  # the legend has no labels to show
    run = load_run(tiny_run)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    rep = evaluate_completion(run.model.next_token_fn(), D, TAUS, top_k=0)
    page = explorer_page(run, 0.5)
    for tau in TAUS:
        assert page.cells.counts(tau)["n_artifacts"] == rep.n_artifacts[tau]
        assert page.cells.counts(tau)["n_generalizations"] is None


def test_sampled_view_is_seeded_and_counts_its_slices(world):
    run = load_run(world)
    V = run.dataset.vocab.V
    a = explorer_page(run, 0.5, sample=3, seed=1, max_cells=3 * V * V)
    b = explorer_page(run, 0.5, sample=3, seed=1, max_cells=3 * V * V)
    assert a.cells.sample.tolist() == b.cells.sample.tolist() and len(a.cells.sample) == 3
    assert set(a.cells.sample.tolist()) <= set(a.cells.seen["relation"])  # relations first
    data = embedded(a.html)
    assert data["axes"] == ["relation"] and data["python"]["source"].startswith("ExplorerCells")
    dense = completion_dense(run.model.next_token_fn(), V, 3).numpy()
    sub = dense[:, a.cells.sample, :]  # (subject, sampled relation, object)
    D = DataTensor.from_tuples(run.dataset.tuples, V)
    train = np.zeros((V, V, V), dtype=bool)
    train[tuple(D.coords.T)] = True
    for tau in TAUS:
        expected = int(((sub > tau) & ~train[:, a.cells.sample, :]).sum())
        assert a.cells.counts(tau)["n_artifacts"] == expected


# --- the command line ---------------------------------------------------------------------


def test_cli_writes_the_page_and_reports_counts(world, tmp_path):
    out = tmp_path / "explorer.html"
    res = invoke("explore", world, "--no-serve", "--out", out, "--tau", "0.3", "--json", "-q")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    lib = library_counts(world, [0.3])[0.3]
    assert (info["n_artifacts"], info["n_generalizations"]) == lib
    assert info["url"] is None and Path(info["page"]) == out and out.stat().st_size == info["bytes"]
    user_error(invoke("explore", world, "--no-serve", "--out", out), "already exists")
    assert invoke("explore", world, "--no-serve", "--out", out, "--overwrite").exit_code == 0


def test_cli_refuses_bad_input(world, tmp_path, tmp_path_factory):
    user_error(invoke("explore", tmp_path, "--no-serve"), "is not a run folder")
    user_error(invoke("explore", quad_run(tmp_path_factory), "--no-serve"), "3-token tuples")
    err = user_error(invoke("explore", world, "--no-serve", "--max-cells", "1000"), "--sample")
    assert "29^3 = 24,389 cells are too many to draw (limit 1,000)" in err
    user_error(invoke("explore", world, "--no-serve", "--sample", "0"), "--sample")
    user_error(invoke("explore", world, "--no-serve", "--sample", "99"), "--sample")
    user_error(invoke("explore", world, "--no-serve", "--tau", "1.5"), "--tau")
    user_error(invoke("explore", world, "--no-serve", "--slice-by", "last"), "--slice-by")
    user_error(invoke("explore", world, "--no-serve", "--truth", tmp_path / "nope.tsv"), "nope")


def test_cli_port_in_use(world):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = invoke("explore", world, "--port", port, "-q")
    user_error(res, f"port {port} is in use on 127.0.0.1; pick another with --port")


def test_cli_serves_until_interrupted(world):
    env = {**os.environ, "ARTIFACTLAB_THREADS": "1"}
    cmd = [sys.executable, "-m", "artifactlab", "explore", str(world), "--port", "0", "-q"]
    # started as a shell starts a background job: with SIGINT ignored, which Ctrl-C must undo
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        page_line = proc.stdout.readline()
        url_line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", url_line)
        assert match, (page_line, url_line, proc.poll())
        folder = Path(page_line.rsplit("-> ", 1)[1].strip()).parent
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200 and b'id="n-artifacts"' in resp.read()
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read()
    assert not folder.exists()  # the temporary folder goes with the server


# --- the server ---------------------------------------------------------------------------


@pytest.fixture()
def served(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<p>the page</p>")
    (tmp_path / "secret.txt").write_text("SECRET")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    server = make_server(root, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def get(server, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    headers = {"Host": host} if host else {}
    conn.request("GET", path, headers=headers)  # http.client sends the path as is
    resp = conn.getresponse()
    out = resp.status, resp.read()
    conn.close()
    return out


def test_server_serves_its_own_files_only(served):
    assert get(served, "/") == (200, b"<p>the page</p>")
    assert get(served, "/index.html")[0] == 200
    for path in (
        "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt",
        "/a/../../secret.txt", "//etc/passwd", "/%2f%2fetc/passwd", "/..\\secret.txt",
        "/link.txt", "/%00", "/%ff",
    ):  # fmt: skip
        status, body = get(served, path)
        assert status in (403, 404) and b"SECRET" not in body, path
    assert get(served, "/etc/passwd")[0] == 404
    assert get(served, "/missing.html")[0] == 404
    assert get(served, "/", host="evil.example:80")[0] == 403  # DNS rebinding


def test_server_is_bound_to_loopback_only(served):
    host, port = served.server_address
    assert host == "127.0.0.1" and served.url == f"http://127.0.0.1:{port}/"
    others = ["127.0.0.2"]  # another loopback address: Linux answers the whole 127/8
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # sends nothing: only picks the outgoing address
            others.append(probe.getsockname()[0])
    except OSError:
        pass
    for address in others:
        if address.startswith("127.0.0.1") or address == "0.0.0.0":
            continue
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, address
