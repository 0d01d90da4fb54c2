"""The README's set-up commands: the test command is exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_the_readme_sweep_file_is_valid_and_its_error_example_is_real(tmp_path):
    from artifactlab.errors import InputError
    from artifactlab.experiments.sweep_file import load_sweep

    text = (ROOT / "README.md").read_text()
    example = re.search(r"A complete sweep file.*?```yaml\n(.+?)```", text, re.S).group(1)
    path = tmp_path / "lr-sweep.yaml"
    path.write_text(example)
    sweep = load_sweep(path)
    assert len(sweep.trials) == 32 and "expands to 2 x 2 x 2 x 4 = 32 trials" in text
    path.write_text(example.replace("- {model.d_model: 32}", "- {model.d_model: 30}"))
    with pytest.raises(InputError) as info:
        load_sweep(path)
    quoted = info.value.message.replace(str(tmp_path) + "/", "")
    assert f"`{quoted}`" in " ".join(text.split())
