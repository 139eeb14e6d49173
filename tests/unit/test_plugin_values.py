"""Values between Pulumi's wire form and the providers' dictionaries."""

from __future__ import annotations

from pulumi.provider.experimental.property_value import PropertyValue

from pulumi_finetune.plugin.values import camel, from_wire, plain, snake, to_wire, wire
from pulumi_finetune.schema import FINE_TUNING_JOB, Attribute, Change, Kind, Source, Table
from pulumi_finetune.spec import UNKNOWN


def test_whole_numbers_come_in_as_ints_and_go_out_as_floats() -> None:
    assert plain(PropertyValue(3.0)) == 3 and isinstance(plain(PropertyValue(3.0)), int)
    assert plain(PropertyValue(0.5)) == 0.5
    assert wire(3).value == 3.0 and isinstance(wire(3).value, float)
    assert plain(wire({"method": {"n_epochs": 3, "tags": ["a", 1]}})) == {
        "method": {"n_epochs": 3, "tags": ["a", 1]}
    }


def test_an_unknown_is_the_providers_sentinel_both_ways() -> None:
    assert plain(PropertyValue.computed()) == UNKNOWN
    assert wire(UNKNOWN).marshal().string_value == UNKNOWN  # what the engine reads as unknown


def test_top_level_names_are_renamed_nested_ones_keep_openais_shape() -> None:
    props = from_wire({"trainingFile": wire("file-1"), "method": wire({"n_epochs": 2})})
    assert props == {"training_file": "file-1", "method": {"n_epochs": 2}}
    assert camel("_wait_interrupted") == "_waitInterrupted"
    assert snake("_waitInterrupted") == "_wait_interrupted"


def test_hidden_inputs_are_left_out_and_secret_outputs_wrapped() -> None:
    token = Attribute("token", Kind.OUTPUT, Change.NONE, "t", output=Source.CREATE, secret=True)
    table = Table("T", (*FINE_TUNING_JOB.attributes, token))
    out = to_wire({"job_id": "ftjob-1", "token": "s", "_urn": "u"}, table, hidden=["_urn"])
    assert set(out) == {"jobId", "token"}
    assert out["token"].is_secret and not out["jobId"].is_secret
