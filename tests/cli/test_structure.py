"""The shape of the CLI package: the only importer of typer and rich, and quick to start."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import artifactlab

PACKAGE = Path(artifactlab.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_cli_package_imports_typer_or_rich():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] != "cli" and _imports(p) & {"typer", "rich", "click"}
    ]
    assert offenders == []


def test_nothing_imports_the_cli_package():
    offenders = []
    for p in PACKAGE.rglob("*.py"):
        rel = p.relative_to(PACKAGE)
        if rel.parts[0] in ("cli", "__main__.py"):
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "artifactlab.cli"
            ):
                offenders.append(str(rel))
    assert offenders == []


def test_building_the_command_tree_imports_no_torch():
    code = "import sys, artifactlab.cli; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_help_and_version_start_fast():
    # CPU time of the whole process (user + system): on a busy machine wall time also
    # counts the time spent waiting for a core, which is not the command's start-up
    exe = Path(sys.executable).parent / "artifactlab"
    for args in (["--help"], ["--version"], ["train", "--help"]):
        best = min(_cpu_seconds([str(exe), *args]) for _ in range(3))
        assert best < 1.5, (args, best)
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"artifactlab {artifactlab.__version__}"


def _cpu_seconds(cmd: list[str]) -> float:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_utime + usage.ru_stime


def test_no_import_loop_between_the_runner_and_the_ray_backend():
    root = PACKAGE / "experiments"
    assert "artifactlab.experiments.runner" not in _module_imports(root / "ray_backend.py")
    assert "artifactlab.experiments.ray_backend" in _module_imports(root / "runner.py")


def _module_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
