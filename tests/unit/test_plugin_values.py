"""Values between Pulumi's wire form and the providers' dictionaries."""

from __future__ import annotations

from google.protobuf import struct_pb2
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


def test_messages_read_and_written_directly_match_the_sdks_property_values() -> None:
    """`from_struct` / `to_struct` (what Check and Diff use) give exactly what the SDK's
    PropertyValues give, for every kind of value a state or an input holds."""
    import pulumi
    from pulumi.runtime.rpc import _special_output_value_sig, _special_sig_key

    from pulumi_finetune.plugin.values import from_struct, to_struct

    props = {
        "jobId": wire("ftjob-1"),
        "nEpochs": wire(3),
        "learningRate": wire(0.5),
        "paused": wire(False),
        "error": wire(None),
        "status": wire(UNKNOWN),
        "method": wire({"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n": [1, 2.5]}}}),
        "apiKey": wire("sk-secret", secret=True),
        "metadata": PropertyValue({"k": wire({"deep": 1}, secret=True)}),
        "empty": wire({}),
        "list": wire([]),
        "asset": PropertyValue(pulumi.StringAsset("text")),
    }
    message = PropertyValue.marshal_map(props)
    direct, through_sdk = from_struct(message), from_wire(PropertyValue.unmarshal_map(message))
    asset = direct.pop("asset")  # an asset is read by the SDK: equal in what it holds
    assert isinstance(asset, pulumi.StringAsset) and asset.text == through_sdk.pop("asset").text
    assert direct == through_sdk
    assert from_struct(message)["n_epochs"] == 3 and isinstance(
        from_struct(message)["n_epochs"], int
    )
    assert from_struct(message)["api_key"] == "sk-secret"

    # an output value (never sent to this provider, which accepts none) reads as the SDK reads it
    output = PropertyValue.marshal_map({"x": wire("v")})
    inner = struct_pb2.Value()
    inner.CopyFrom(output.fields["x"])
    output.fields["x"].struct_value.fields[
        _special_sig_key
    ].string_value = _special_output_value_sig
    output.fields["x"].struct_value.fields["value"].CopyFrom(inner)
    output.fields["x"].struct_value.fields["dependencies"].list_value.values.add()
    output.fields["x"].struct_value.fields["dependencies"].list_value.values[0].string_value = "u"
    output.fields["x"].struct_value.fields["secret"].bool_value = False
    assert from_struct(output) == from_wire(PropertyValue.unmarshal_map(output)) == {"x": "v"}

    token = Attribute("token", Kind.OUTPUT, Change.NONE, "t", output=Source.CREATE, secret=True)
    table = Table("T", (*FINE_TUNING_JOB.attributes, token))
    outs = {
        "job_id": "ftjob-1",
        "token": {"a": [1, 2.5, None, True]},
        "created_at": 1700000000,
        "hyperparameters": {"n_epochs": 3, "tags": ("a", 1)},
        "status": UNKNOWN,
        "when": FINE_TUNING_JOB,  # anything else goes out as its text
        "_urn": "u",
    }
    expected = PropertyValue.marshal_map(to_wire(outs, table, hidden=["_urn"]))
    assert to_struct(outs, table, hidden=["_urn"]) == expected
