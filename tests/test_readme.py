"""The README's set-up commands: the test command is exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_starts_with_two_commands():
    text = (ROOT / "README.md").read_text()
    first_blocks = text.split("\n\n")[1:3]
    assert all(block.startswith("```bash") for block in first_blocks)
    setup, tests = readme_commands()
    assert "artifactlab reproduce fig2" in setup and "artifactlab reproduce fig3" in setup
    assert '".[test]"' in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_torch_pin_is_overridable():
    for command in readme_commands():
        assert '"torch==${ARTIFACTLAB_TORCH:-2.13.0}"' in command
