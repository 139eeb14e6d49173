"""The plugin's package schema follows the resources' tables: every row, its name, its type."""

from __future__ import annotations

import json

from pulumi_finetune import settings
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
            assert spec.get("type") in PULUMI_TYPES or spec == {
                "$ref": "pulumi.json#/Any",
                "description": spec["description"],
            }, (table.resource, name, spec)
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
