"""The job spec: what check says about it, and what counts as a change."""

from __future__ import annotations

from pulumi.output import Unknown

from pulumi_finetune import spec

BASE = {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-1"}


def failures(**props):
    return dict(spec.validate({**BASE, **props}))


def test_a_valid_spec_has_no_failures():
    method = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": "auto"}}}
    assert failures(method=method, seed=7, suffix="s", metadata={"team": "a"}) == {}


def test_messages_say_what_the_value_must_be():
    got = failures(
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}}
    )
    path = "method.supervised.hyperparameters.n_epochs"
    assert got == {path: 'got 0; must be "auto" or an integer from 1 to 50'}
    assert failures(seed=-1)["seed"] == "got -1; must be an integer from 0 to 2147483647"


def test_metadata_leaves_one_slot_for_the_marker():
    assert failures(metadata={f"k{i}": "v" for i in range(15)}) == {}
    assert "at most 15" in failures(metadata={f"k{i}": "v" for i in range(16)})["metadata"]
    assert "reserved" in failures(metadata={spec.MARKER_KEY: "x"})[f"metadata.{spec.MARKER_KEY}"]


def test_deprecated_hyperparameters_cannot_be_combined_with_method():
    got = failures(hyperparameters={"n_epochs": 2}, method={"type": "supervised"})
    assert "method.supervised.hyperparameters" in got["hyperparameters"]


def test_unknown_values_pass_until_known():
    assert failures(training_file=Unknown(), suffix=Unknown()) == {}
    assert failures(training_file=spec.UNKNOWN) == {}


def test_numbers_from_pulumi_arrive_as_floats_and_normalise_to_ints():
    declared = {
        **BASE,
        "seed": 7.0,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3.0}}},
    }
    normal = spec.api_spec(declared)
    assert normal["seed"] == 7 and isinstance(normal["seed"], int)
    assert spec.spec_hash(normal) == spec.spec_hash(spec.api_spec({**declared, "seed": 7}))


def test_none_and_empty_values_do_not_count_as_changes():
    assert spec.api_spec({**BASE, "metadata": {}, "suffix": None}) == spec.api_spec(BASE)
