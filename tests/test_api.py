"""The quickstart API, the README's Python example, LICENSE, CITATION.cff and the glossary."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import artifactlab
from artifactlab import api
from artifactlab.errors import InputError
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion

ROOT = Path(__file__).resolve().parents[1]
CORPUS = "mice eat cheese\nmouse eats cheese\ncats eat mice\n"
PAPER = "Generalization is hallucination through the lens of tensor completions"

#: the keys `artifactlab artifacts --json` prints (with --truth: the "truth" object's too)
ARTIFACTS_JSON_KEYS = [
    "run", "V", "n", "n_train", "n_contexts", "n_observed_contexts", "tau", "n_artifacts",
    "n_artifacts_observed_contexts", "ratio", "consistency", "mean_kl", "max_kl",
    "train_accuracy", "argmax_in_fiber", "top_artifacts", "truth", "n_truth",
    "n_truth_in_train", "generalizations", "hallucinations", "recall", "n_test",
    "n_test_in_train", "test_accuracy", "test_cross_entropy",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> api.TrainedModel:
    path = tmp_path_factory.mktemp("quickstart") / "corpus.txt"
    path.write_text(CORPUS)
    return api.fit(api.load_tuples(path), model="attn", seed=0, d_model=16, n_heads=2)


def _readme_quickstart() -> tuple[str, str | None]:
    """The README's quickstart code block and the output block after it (None if absent)."""
    text = (ROOT / "README.md").read_text()
    section = re.search(r"\n## Quickstart \(Python\)\n(.*?)\n## ", text, re.S)
    assert section, "README.md has no '## Quickstart (Python)' section"
    code = re.search(r"```python\n(.*?)```", section.group(1), re.S)
    assert code, "the quickstart section has no ```python block"
    output = re.search(r"```python\n.*?```.*?```text\n(.*?)```", section.group(1), re.S)
    return code.group(1), output.group(1) if output else None


def test_readme_quickstart_runs_and_prints_what_the_readme_shows(tmp_path):
    code, shown = _readme_quickstart()
    assert "import artifactlab" in code and "print(" in code
    (tmp_path / "quickstart.py").write_text(code)
    res = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    if shown is not None:
        assert res.stdout == shown


def test_readme_quickstart_sits_after_the_opening_paragraphs():
    text = (ROOT / "README.md").read_text()
    opening = text.index("\nartifactlab is a toolkit for measuring")
    quickstart = text.index("\n## Quickstart (Python)\n")
    assert opening < quickstart < text.index("\n## What it does\n")
    assert text[opening:quickstart].count("\n## ") == 0


def test_the_module_example_is_the_readme_example():
    code, shown = _readme_quickstart()
    doc = api.__doc__ or ""
    for line in code.splitlines():
        call = re.match(r"(\w+) = (al\.\w+\(.*\))$", line)
        if call and not call.group(2).startswith("al.load_tuples"):
            assert f">>> {line}" in doc, line
    if shown is not None:
        assert shown.strip() in doc


def test_import_artifactlab_does_not_import_torch():
    probe = "import sys, artifactlab; print(artifactlab.__version__, 'torch' in sys.modules)"
    res = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["0.1.0", "False"]


def test_version_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert artifactlab.__version__ == project["version"]


def test_lazy_exports_survive_importing_the_train_subpackage():
    import artifactlab.train  # binds the attribute `train` of the package to the subpackage

    assert artifactlab.fit is api.fit and artifactlab.evaluate is api.evaluate
    assert artifactlab.load_tuples is api.load_tuples
    assert {"fit", "evaluate", "load_tuples", "Completion"} <= set(dir(artifactlab))
    with pytest.raises(AttributeError):
        artifactlab.no_such_name  # noqa: B018


def test_evaluate_agrees_with_the_library(trained):
    completion = api.evaluate(trained, taus=(0.5, 0.9), top_k=50)
    D = DataTensor.from_tuples(trained.dataset.tuples, trained.dataset.vocab.V)
    report = evaluate_completion(trained.model.next_token_fn(), D, (0.5, 0.9), top_k=50)
    assert completion.n_artifacts == report.n_artifacts
    assert completion.ratio == report.ratio
    assert completion.n_contexts == 6**2 and completion.n_observed_contexts == 3
    assert len(completion.artifacts) == min(50, report.n_artifacts[0.5])
    training = {tuple(trained.dataset.vocab.decode(r)) for r in trained.dataset.tuples}
    probs = [a.prob for a in completion.artifacts]
    assert probs == sorted(probs, reverse=True)
    for a in completion.artifacts:
        assert a.tokens not in training and a.prob > 0.5
        ids = torch.tensor([[trained.dataset.vocab.index[t] for t in a.context]])
        p = torch.softmax(trained.model.next_token_logits(ids), -1)[0]
        assert math.isclose(p[trained.dataset.vocab.index[a.token]].item(), a.prob, rel_tol=1e-5)


def test_completion_repr_and_json(trained):
    completion = api.evaluate(trained, taus=(0.9, 0.5), top_k=7)
    text = repr(completion)
    assert text.startswith("Completion(model='attn', seed=0, V=6, n=3, n_train=3, contexts=36")
    assert "tau=0.5:" in text and "tau=0.9:" in text
    assert "... and 2 more in .artifacts" in text
    data = json.loads(completion.to_json())
    assert data == completion.to_dict()
    assert data["taus"] == [0.5, 0.9] and set(data["n_artifacts"]) == {"0.5", "0.9"}
    assert data["top_artifacts"][0]["tokens"] == list(completion.artifacts[0].tokens)


def test_to_json_writes_null_for_non_finite_numbers(trained):
    completion = api.evaluate(trained)
    broken = api.Completion(
        **{**completion.__dict__, "consistency": {"mean_kl": math.nan, "max_kl": math.inf}}
    )
    text = broken.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["consistency"] == {"mean_kl": None, "max_kl": None}


def test_tokens_are_printed_literally():
    artifact = api.DecodedArtifact(("a\tb", "c\x1b"), "d", 0.75)
    assert str(artifact) == "a\\tb c\\x1b d  p=0.750"


def test_fit_passes_model_and_training_options(trained):
    assert trained.model.cfg.d_model == 16 and trained.model.cfg.n_ctx == 3
    assert trained.train_config.seed == 0 and trained.train_config.loss_tol == 0.01
    assert trained.result.stop_reason == "loss_tol"
    assert trained.params_total == sum(p.numel() for p in trained.model.parameters())
    again = api.fit(trained.dataset, seed=0, d_model=16, n_heads=2, max_steps=2)
    assert again.result.steps == 2 and again.result.stop_reason == "max_steps"
    assert "params_total=" in repr(again) and "stop_reason='max_steps'" in repr(again)


@pytest.mark.parametrize(
    "kwargs, where",
    [
        ({"model": "gpt"}, "model"),
        ({"dmodel": 16}, "option dmodel"),
        ({"V": 9}, "option V"),
        ({"seed": 1.5}, "seed"),
        ({"lr": -1.0}, "--lr"),
    ],
)
def test_fit_refuses_bad_input(trained, kwargs, where):
    with pytest.raises(InputError) as info:
        api.fit(trained.dataset, **kwargs)
    assert info.value.where == where


def test_the_count_model_is_fitted_in_closed_form_without_artifacts(trained):
    counts = api.fit(trained.dataset, model="ngram")
    assert counts.result.stop_reason == "closed_form" and counts.params_total == 0
    completion = api.evaluate(counts, taus=(0.5,))
    assert completion.n_artifacts == {0.5: 0} and completion.artifacts == ()


def test_save_writes_a_run_folder_that_loads_back(trained, tmp_path):
    from artifactlab.runs import load_run

    run = load_run(trained.save(tmp_path / "run"))
    ctx = torch.tensor([[0, 1], [5, 5]])
    expected = trained.model.next_token_logits(ctx)
    assert torch.allclose(run.model.next_token_logits(ctx), expected)
    assert np.array_equal(run.dataset.tuples, trained.dataset.tuples)


def test_license_is_the_licence_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the artifactlab authors" in text
    assert "Permission is hereby granted, free of charge" in text


def test_citation_cff_cites_the_software_and_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert str(cff["version"]) == project["version"] and cff["license"] == "MIT"
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])
    paper = cff["preferred-citation"]
    assert paper["title"] == PAPER
    assert paper["type"] and paper["authors"]


def _glossary_anchors() -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', (ROOT / "docs" / "glossary.md").read_text()))


def test_every_reported_key_has_a_glossary_entry():
    anchors = _glossary_anchors()
    completion_keys = list(
        api.Completion(
            "attn", 0, 2, 3, 1, 4, 1, (0.5,), {0.5: 0}, {0.5: 0}, {"mean_kl": 0.0}, ()
        ).to_dict()
    )
    consistency_keys = ["mean_kl", "max_kl", "train_accuracy", "argmax_in_fiber"]
    keys = {*ARTIFACTS_JSON_KEYS, *consistency_keys, *completion_keys}
    assert "tau" in anchors
    missing = sorted(keys - anchors)
    assert not missing, f"docs/glossary.md has no entry for {missing}"


def test_glossary_links_resolve_and_stay_in_the_repository():
    text = (ROOT / "docs" / "glossary.md").read_text()
    anchors = _glossary_anchors()
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert targets
    for target in targets:
        assert target.startswith("#"), f"glossary link {target!r} leaves the page"
        assert target[1:] in anchors, f"glossary link {target!r} has no anchor"
    for term in ("artifact", "tau", "ratio", "n_contexts", "n_observed_contexts", "n_ctx"):
        assert term in anchors
