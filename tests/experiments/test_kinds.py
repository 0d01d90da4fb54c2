"""Contract tests: every registered trial kind behaves as the sweep runner expects."""

import copy

import pytest

from artifactlab.experiments.kinds import SectionError, TrialOutput
from artifactlab.experiments.registry import TRIAL_KINDS


@pytest.fixture(params=sorted(TRIAL_KINDS))
def kind(request):
    return TRIAL_KINDS[request.param]


def test_validate_is_canonical_and_idempotent(kind):
    config = kind.validate(copy.deepcopy(kind.example))
    assert kind.validate(copy.deepcopy(config)) == config
    assert config["seed"] == kind.example["seed"]


def test_validate_rejects_unknown_sections_and_keys(kind):
    with pytest.raises(SectionError) as info:
        kind.validate({**kind.example, "nonsense": {}})
    assert info.value.loc == ("nonsense",)
    section = next(k for k, v in kind.example.items() if isinstance(v, dict))
    bad = {**kind.example, section: {**kind.example[section], "no_such_key": 1}}
    with pytest.raises(SectionError) as info:
        kind.validate(bad)
    assert info.value.loc == (section, "no_such_key") and "unknown key" in info.value.problem


def test_seeds_share_a_group_and_runs_are_reproducible(kind):
    a = kind.validate({**kind.example, "seed": 0})
    b = kind.validate({**kind.example, "seed": 1})
    assert kind.group_key(a) == kind.group_key(b)
    first = kind.run_group([a, b])
    again = kind.run_group([a, b])
    assert all(isinstance(out, TrialOutput) and out.error is None for out in first)
    assert [o.metrics for o in first] == [o.metrics for o in again]
    assert first[0].metrics != first[1].metrics  # the seed matters


def test_every_declared_metric_is_reported(kind):
    config = kind.validate(copy.deepcopy(kind.example))
    out = kind.run_group([config])[0]
    reported = {name.split("@")[0] + ("@tau" if "@" in name else "") for name in out.metrics}
    assert reported == set(kind.metrics)
    assert out.files and all(isinstance(v, bytes) and v for v in out.files.values())
