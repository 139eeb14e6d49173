"""The plugin's package schema follows the resources' tables: every row, its name, its type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune import hosts, nested, settings
from pulumi_finetune.plugin import schema as package
from pulumi_finetune.plugin.values import camel, snake
from pulumi_finetune.schema import FINE_TUNING_JOB, TRAINING_FILE, Attribute, Change, Kind, Table

PULUMI_TYPES = {"string", "integer", "number", "boolean", "array", "object"}


def _resource(table: Table) -> dict[str, object]:
    resources = package.package_schema()["resources"]
    assert isinstance(resources, dict)
    found = resources[f"finetune:index:{table.resource}"]
    assert isinstance(found, dict)
    return found


def test_each_table_is_a_resource_of_the_finetune_package() -> None:
    schema = package.package_schema()
    assert schema["name"] == "finetune"
    assert set(schema["resources"]) == {
        "finetune:index:FineTuningJob",
        "finetune:index:TrainingFile",
    }
    json.dumps(schema)  # what GetSchema sends


def test_inputs_are_the_tables_arguments_and_properties_everything_but_internal_inputs() -> None:
    for table in package.TABLES:
        resource = _resource(table)
        arguments = {camel(name) for name in table.arguments}
        recorded = {camel(a.name) for a in table.attributes if a.kind is not Kind.INTERNAL}
        assert set(resource["inputProperties"]) == arguments  # type: ignore[arg-type]
        assert set(resource["properties"]) == recorded  # type: ignore[arg-type]
        assert not any(name.startswith("_") for name in recorded)


def test_names_are_pulumis_camel_case_and_map_back_to_the_rows() -> None:
    job = _resource(FINE_TUNING_JOB)["inputProperties"]
    assert {"trainingFile", "waitForCompletion", "onDestroy", "adoptJobId"} <= set(job)  # type: ignore[arg-type]
    for table in package.TABLES:
        for attr in table.attributes:
            assert snake(camel(attr.name)) == attr.name


def test_every_row_has_a_type_and_its_doc() -> None:
    for table in package.TABLES:
        for name, spec in _resource(table)["properties"].items():  # type: ignore[attr-defined]
            assert spec.get("type") in PULUMI_TYPES or spec["$ref"].startswith("#/types/"), (
                table.resource,
                name,
                spec,
            )
            assert spec["description"], name
    job = _resource(FINE_TUNING_JOB)["properties"]
    assert job["seed"]["type"] == "integer"  # type: ignore[index]
    assert job["waitForCompletion"]["type"] == "boolean"  # type: ignore[index]
    assert job["resultFiles"] == {  # type: ignore[index]
        "type": "array",
        "items": {"type": "string"},
        "description": FINE_TUNING_JOB["result_files"].doc,
    }
    assert job["metadata"]["additionalProperties"] == {"type": "string"}  # type: ignore[index]
    assert _resource(TRAINING_FILE)["properties"]["exampleCount"]["type"] == "integer"  # type: ignore[index]


def _type(ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = package.package_schema()["types"][ref["$ref"].removeprefix("#/types/")]
    return found


def test_nested_values_are_object_types_with_the_apis_fields_and_docs() -> None:
    job = _resource(FINE_TUNING_JOB)["inputProperties"]
    method = _type(job["method"])  # type: ignore[index]
    assert set(method["properties"]) == {"type", "supervised", "dpo", "reinforcement"}
    assert method["required"] == ["type"]
    assert "one of: supervised, dpo, reinforcement" in method["properties"]["type"]["description"]
    supervised = _type(_type(method["properties"]["supervised"])["properties"]["hyperparameters"])
    epochs = supervised["properties"]["n_epochs"]
    assert epochs["oneOf"] == [{"type": "string"}, {"type": "integer"}]  # "auto" or a count
    assert epochs["description"] == nested.DOCS["n_epochs"]
    dpo = _type(_type(method["properties"]["dpo"])["properties"]["hyperparameters"])
    assert dpo["properties"]["beta"]["oneOf"] == [{"type": "string"}, {"type": "number"}]
    reinforcement = _type(method["properties"]["reinforcement"])
    grader = reinforcement["properties"]["grader"]
    assert grader["discriminator"]["mapping"]["string_check"].endswith(":GraderStringCheck")
    assert len(grader["oneOf"]) == 6  # OpenAI's five, and Bedrock's lambda (a host row's own)
    lam = _type(grader["oneOf"][5])
    assert grader["discriminator"]["mapping"]["lambda"].endswith(":GraderLambda")
    assert lam["required"] == ["lambda", "type"] and "Bedrock" in lam["description"]
    check = _type(grader["oneOf"][0])
    assert check["required"] == ["input", "name", "operation", "reference", "type"]
    integration = _type(job["integrations"]["items"])  # type: ignore[index]
    assert _type(integration["properties"]["wandb"])["required"] == ["project"]
    outputs = _resource(FINE_TUNING_JOB)["properties"]
    checkpoint = _type(outputs["checkpoints"]["items"])  # type: ignore[index]
    assert checkpoint["properties"]["step_number"]["type"] == "integer"
    assert checkpoint["properties"]["metrics"]["$ref"] == outputs["metrics"]["$ref"]  # type: ignore[index]
    assert _type(outputs["metrics"])["properties"]["train_loss"]["type"] == "number"  # type: ignore[arg-type]
    assert set(_type(outputs["error"])["properties"]) == {"code", "message", "param"}  # type: ignore[arg-type]


def test_every_nested_field_and_type_has_a_doc_from_the_table() -> None:
    types = package.package_schema()["types"]
    for token, spec in types.items():
        name = token.rsplit(":", 1)[-1]
        assert spec["description"] == nested.TYPE_DOCS.get(name, f"{name} (OpenAI's shape).")
        for field, prop in spec["properties"].items():
            assert prop["description"].startswith(nested.doc(name, field) or "?"), (name, field)


def test_any_only_where_the_value_has_no_shape() -> None:
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("$ref") == "pulumi.json#/Any":
                found.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")

    walk(package.package_schema(), "")
    assert sorted(found) == [  # sent verbatim, or a JSON schema of the user's own
        "/resources/finetune:index:FineTuningJob/inputProperties/extraBody/additionalProperties",
        "/resources/finetune:index:FineTuningJob/properties/extraBody/additionalProperties",
        "/resources/finetune:index:FineTuningJob/properties/spec/additionalProperties",
        "/types/finetune:index:FineTuneReinforcementMethod/properties/response_format/"
        "additionalProperties",
    ]


def test_a_new_host_row_is_in_the_hyperparameter_types_with_no_edit_in_the_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    newcomer = hosts.Host(
        "newcomer",
        "Newcomer AI",
        hyperparameters=("n_epochs", "lora_r", "brand_new_knob"),
        method_fields={"dpo": ("reference_model",)},
    )
    monkeypatch.setattr(hosts, "HOSTS", (*hosts.HOSTS, newcomer))
    job = _resource(FINE_TUNING_JOB)["inputProperties"]
    for hyper in (
        _type(job["hyperparameters"]),  # type: ignore[index]
        _type(
            _type(_type(job["method"])["properties"]["supervised"])["properties"]["hyperparameters"]
        ),  # type: ignore[index]
    ):
        assert hyper["properties"]["lora_r"]["type"] == "integer"  # spec.HYPERPARAMETER_KINDS
        assert hyper["properties"]["lora_r"]["description"].endswith("Newcomer AI)")
        assert hyper["properties"]["brand_new_knob"] == {
            "$ref": "pulumi.json#/Any",
            "description": "`brand_new_knob` (Newcomer AI)",
        }
        assert hyper["properties"]["n_epochs"]["description"] == nested.DOCS["n_epochs"]
    dpo = _type(_type(job["method"])["properties"]["dpo"])  # type: ignore[index]
    assert "reference_model" in dpo["properties"]
    # A DPO job on a host with hyperparameters of its own takes them too (spec's rule).
    assert "brand_new_knob" in _type(dpo["properties"]["hyperparameters"])["properties"]


def test_hosts_own_hyperparameters_are_typed_and_name_the_hosts_that_take_them() -> None:
    job = _resource(FINE_TUNING_JOB)["inputProperties"]
    method = _type(job["method"])  # type: ignore[index]
    supervised = _type(_type(method["properties"]["supervised"])["properties"]["hyperparameters"])
    lora = supervised["properties"]["lora_r"]
    assert lora["type"] == "integer"
    assert lora["description"] == "LoRA rank (Nebius Token Factory, Together AI)"
    assert supervised["properties"]["train_on_inputs"]["type"] == "boolean"
    dpo = _type(_type(method["properties"]["dpo"])["properties"]["hyperparameters"])
    assert dpo["properties"]["learning_rate"]["description"].endswith("(Together AI)")
    assert "context_length" not in dpo["properties"]  # Nebius takes no DPO job


def test_required_inputs_come_from_openais_schema_and_defaults_from_the_table() -> None:
    assert _resource(FINE_TUNING_JOB)["requiredInputs"] == ["model", "trainingFile"]
    assert _resource(TRAINING_FILE)["requiredInputs"] == ["path"]
    waits = _resource(FINE_TUNING_JOB)["inputProperties"]["waitForCompletion"]  # type: ignore[index]
    assert waits["default"] is FINE_TUNING_JOB["wait_for_completion"].default


def test_a_new_row_is_in_the_schema_with_no_other_edit() -> None:
    rows = (
        Attribute("future_option", Kind.OPTION, Change.UPDATE, "an option", default="full"),
        Attribute("future_date", Kind.OUTPUT, Change.NONE, "a date", output=package.Source.API),
        Attribute("future_field", Kind.API, Change.REPLACE, "a request field", absent={}),
    )
    grown = package.resource_schema(FINE_TUNING_JOB.with_rows(*rows))
    assert grown["inputProperties"]["futureOption"]["type"] == "string"
    assert grown["inputProperties"]["futureField"]["type"] == "object"
    assert grown["properties"]["futureDate"] == {
        "$ref": "pulumi.json#/Any",
        "description": "a date",
    }
    typed = Attribute(
        "future_count",
        Kind.OUTPUT,
        Change.NONE,
        "a count",
        output=package.Source.API,
        type="integer",
    )
    grown = package.resource_schema(FINE_TUNING_JOB.with_rows(typed))
    assert grown["properties"]["futureCount"] == {"type": "integer", "description": "a count"}


def test_secret_outputs_are_secret_in_the_schema() -> None:
    for table in package.TABLES:
        props = _resource(table)["properties"]
        for attr in table.attributes:
            if attr.kind is not Kind.INTERNAL:
                assert bool(props[camel(attr.name)].get("secret")) is attr.secret  # type: ignore[index]


def test_the_api_key_config_is_secret() -> None:
    config = package.package_schema()["config"]["variables"]
    assert config["apiKey"]["secret"] is True
    assert {"apiKey", "baseUrl", "organization", "project", "trainingPrices"} <= set(config)
    assert set(config) == {*settings.CONFIG_NAMES, "trainingPrices"}  # what configure reads


def test_every_config_variable_is_documented_in_the_schema_and_the_registry_page() -> None:
    config = package.package_schema()["config"]["variables"]
    page = (
        Path(__file__).resolve().parents[2] / "docs" / "installation-configuration.md"
    ).read_text()
    for name, spec in config.items():
        assert spec["description"] != name, f"finetune:{name} has no doc (CONFIG_DOCS)"
        assert f"`finetune:{name}`" in page, f"finetune:{name} is not in the registry's page"
