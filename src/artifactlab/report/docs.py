"""Markdown blocks rendered from committed result files, and keeping documents in sync with them.

A document marks each generated part with a key that names a renderer and its source file::

    <!-- generated: compare-table docs/figures/compare/nations/compare.csv -->
    ... (rendered; never edit by hand) ...
    <!-- /generated -->

:func:`sync_blocks` replaces every such block with what the renderer computes now. A
block whose opening marker ends its line is a block of lines; one inside a line is
rendered inline (a verdict word in a sentence). From the repository root::

    python -m artifactlab.report.docs --check README.md BENCHMARKS.md   # exit 1 + diff if stale
    python -m artifactlab.report.docs --write README.md BENCHMARKS.md   # rewrite in place
    python -m artifactlab.report.docs --write --rerender README.md BENCHMARKS.md   # summaries too

Example
-------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "r.json").write_text('{"answer": 42}')
>>> RENDERERS["json-value"] = lambda root, path, field: str(read_json(root / path)[field])
>>> sync_blocks("It is <!-- generated: json-value r.json answer -->?<!-- /generated -->.", root)
'It is <!-- generated: json-value r.json answer -->42<!-- /generated -->.'
>>> del RENDERERS["json-value"]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import glob
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

#: a renderer: (repository root, source path as written in the key, extra key words) -> Markdown
Renderer = Callable[..., str]
RENDERERS: dict[str, Renderer] = {}

OPEN = re.compile(r"<!-- generated: (?P<key>[^>]*?) -->")
CLOSE = "<!-- /generated -->"


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under ``kind`` (the key's first word)."""

    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register


def read_json(path: Path) -> dict:
    """A JSON file (``NaN`` allowed, as Python writes it)."""
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dictionaries of strings."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def parse_key(key: str) -> tuple[str, str, list[str]]:
    """``"KIND PATH [WORD ...]"`` -> ``(kind, path, words)``; the path may be a glob."""
    words = key.split()
    if len(words) < 2:
        raise ValueError(f"generated block key {key!r} needs a renderer and a source file")
    return words[0], words[1], words[2:]


def source_files(root: Path, path: str) -> list[Path]:
    """The files a key's path names (a glob may name several), sorted; empty if none exist."""
    return sorted(Path(p) for p in glob.glob(str(root / path)) if Path(p).is_file())


def render(key: str, root: Path) -> str:
    """The Markdown a key stands for, computed now from its source file."""
    kind, path, words = parse_key(key)
    if kind not in RENDERERS:
        _load_renderers()
    if kind not in RENDERERS:
        raise ValueError(f"unknown renderer {kind!r} in key {key!r}; known: {', '.join(RENDERERS)}")
    if not source_files(root, path):
        raise FileNotFoundError(f"{path}: not found (named by the generated block {key!r})")
    return RENDERERS[kind](root, path, *words)


def blocks(text: str) -> list[tuple[str, int, int]]:
    """``(key, start, end)`` of every generated block's content, in order.

    Raises
    ------
    ValueError
        A marker is not closed, or a block opens inside another.
    """
    found, pos = [], 0
    while (m := OPEN.search(text, pos)) is not None:
        end = text.find(CLOSE, m.end())
        line = text.count("\n", 0, m.start()) + 1
        if end < 0:
            raise ValueError(f"line {line}: generated block {m['key']!r} has no {CLOSE}")
        inner = OPEN.search(text, m.end(), end)
        if inner is not None:
            raise ValueError(f"line {line}: generated block {m['key']!r} opens another inside it")
        found.append((m["key"], m.end(), end))
        pos = end + len(CLOSE)
    return found


def sync_blocks(text: str, root: str | Path | None = None) -> str:
    """``text`` with every generated block re-rendered from its source under ``root``.

    ``root`` (default: the current folder) is the folder the keys' paths are relative to.
    """
    base = Path.cwd() if root is None else Path(root)
    out, pos = [], 0
    for key, start, end in blocks(text):
        body = render(key, base).strip("\n")
        # a marker that ends its line opens a block of lines; otherwise the block is inline
        out += [text[pos:start], f"\n{body}\n" if text[start : start + 1] == "\n" else body]
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- small formatting helpers ------------------------------------------------------------


def fmt_int(x: float) -> str:
    """``13024.3`` -> ``"13,024"``."""
    return f"{x:,.0f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def differences(a: object, b: object, rel: float = 1e-9, where: str = "") -> list[str]:
    """Where two JSON-like values differ (floats within ``rel`` and ``NaN == NaN`` are equal).

    A JSON file stores NaN as ``null``, so ``None`` and ``NaN`` count as equal too.

    >>> differences({"x": [1, 2.0]}, {"x": [1, 2.5], "y": 0})
    ['y: missing on the left', 'x.1: 2.0 != 2.5']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}{k}: missing on the left" for k in b.keys() - a.keys()]
        out += [f"{where}{k}: missing on the right" for k in a.keys() - b.keys()]
        for k in a.keys() & b.keys():
            out += differences(a[k], b[k], rel, f"{where}{k}.")
        return out
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{where.rstrip('.')}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, rel, f"{where}{i}.")
        ]

    def nan_like(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    if nan_like(a) and nan_like(b):
        return []
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    if numbers and not isinstance(a, bool) and not isinstance(b, bool):
        if math.isnan(a) or math.isnan(b):
            equal = math.isnan(a) and math.isnan(b)
        else:
            equal = math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    else:
        equal = a == b
    return [] if equal else [f"{where.rstrip('.')}: {a!r:.60} != {b!r:.60}"]


def same(a: object, b: object, rel: float = 1e-9) -> bool:
    """Deep equality of JSON-like values, floats within ``rel`` and ``NaN == NaN``."""
    return not differences(a, b, rel)


# --- the command line ---------------------------------------------------------------------


def _load_renderers() -> None:
    # the renderers register themselves on import; imported here, not at the top, because
    # they import this module
    import artifactlab.report.bench_docs  # noqa: F401
    import artifactlab.report.bench_scale  # noqa: F401
    import artifactlab.report.mitigation_docs  # noqa: F401
    import artifactlab.report.result_docs  # noqa: F401
    import artifactlab.report.text_docs  # noqa: F401


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """``--check`` (exit 1 with a diff when a file is stale) or ``--write`` the files given."""
    parser = argparse.ArgumentParser(prog="python -m artifactlab.report.docs", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report stale blocks (default)")
    mode.add_argument("--write", action="store_true", help="rewrite the files in place")
    parser.add_argument("--root", type=Path, help="folder the keys are relative to (default: .)")
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="first rebuild every summary under docs/figures/ from its CSV (with --write)",
    )
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    _load_renderers()
    if args.rerender:
        if not args.write:
            parser.error(
                "--rerender rewrites the summaries under docs/figures/: use it with --write"
            )
        from artifactlab.report.result_docs import rerender_results

        for folder in rerender_results(args.root or Path.cwd()):
            print(f"{folder}: summaries rebuilt from the CSV", file=sys.stderr)
    stale = 0
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
            new = sync_blocks(text, args.root)
            if new != text and args.write:
                _write_atomic(path, new)
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
        if new == text:
            print(f"{path}: up to date", file=sys.stderr)
        elif args.write:
            print(f"{path}: rewrote {len(blocks(new))} generated blocks", file=sys.stderr)
        else:
            stale += 1
            diff = difflib.unified_diff(
                text.splitlines(True), new.splitlines(True), str(path), f"{path} (generated)"
            )
            sys.stdout.writelines(diff)
    return 1 if stale else 0


if __name__ == "__main__":
    # run the imported module's main, so that the renderers register in the same RENDERERS
    from artifactlab.report.docs import main as _main

    sys.exit(_main())
