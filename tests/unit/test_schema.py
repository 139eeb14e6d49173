"""Each resource is one table: held against OpenAI's schemas and the hand-written Args and typed
outputs, and enough on its own for check, diff, update and the outputs to handle a new row."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

import pulumi_finetune
from pulumi_finetune import FineTuningJob, FineTuningJobArgs, TrainingFile, TrainingFileArgs
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.providers.common import TableProvider
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.providers.job import FineTuningJobProvider, job_outputs
from pulumi_finetune.schema import (
    FINE_TUNING_JOB,
    TRAINING_FILE,
    Attribute,
    Change,
    Kind,
    Source,
    Table,
)

SCHEMAS = Path(pulumi_finetune.__file__).parent / "schemas"
DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
RESOURCES = [
    (FINE_TUNING_JOB, FineTuningJobArgs, FineTuningJob),
    (TRAINING_FILE, TrainingFileArgs, TrainingFile),
]


def openai_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema


# -- the tables against OpenAI's schemas (derived by scripts/derive_schemas.py) ------------------


def test_every_field_of_the_create_job_request_is_one_row_that_replaces() -> None:
    request = openai_schema("fine_tuning_job_create.json")["properties"]
    names = [attr.name for attr in FINE_TUNING_JOB.attributes]
    for field in request:
        assert names.count(field) == 1, field
        assert FINE_TUNING_JOB[field].kind is Kind.API, field
        assert FINE_TUNING_JOB[field].change is Change.REPLACE, field
    assert set(FINE_TUNING_JOB.api_fields) == set(request)


@pytest.mark.parametrize(
    ("table", "schema"), [(FINE_TUNING_JOB, "fine_tuning_job.json"), (TRAINING_FILE, "file.json")]
)
def test_every_field_of_the_api_object_is_an_output_or_named_as_ignored(
    table: Table, schema: str
) -> None:
    properties = set(openai_schema(schema)["properties"])
    from_api = [attr.api_field for attr in table.api_outputs]
    assert len(from_api) == len(set(from_api))
    assert set(from_api) | set(table.ignored_api_fields) == properties
    assert not set(from_api) & set(table.ignored_api_fields)


# -- the tables against the hand-written resource classes -----------------------------------------


@pytest.mark.parametrize(("table", "args", "resource"), RESOURCES)
def test_every_argument_has_an_args_field_and_a_param_line(
    table: Table, args: type[Any], resource: type[Any]
) -> None:
    assert [f.name for f in fields(args)] == list(table.arguments)
    for name in table.arguments:
        assert f":param {name}:" in (resource.__doc__ or ""), name


@pytest.mark.parametrize(("table", "args", "resource"), RESOURCES)
def test_every_output_has_a_typed_attribute(
    table: Table, args: type[Any], resource: type[Any]
) -> None:
    typed = set(resource.__annotations__)
    assert set(table.outputs) <= typed
    assert typed <= set(table.outputs) | set(table.arguments)


def test_required_arguments_are_those_openai_requires() -> None:
    required = {f.name for f in fields(FineTuningJobArgs) if f.default is MISSING}
    assert required == set(openai_schema("fine_tuning_job_create.json")["required"])


def test_check_computes_every_output_the_table_says_it_does() -> None:
    result = TrainingFileProvider().check({}, {**TRAINING_FILE.placeholders(), "path": str(DATA)})
    assert result.failures == []
    computed = [a.name for a in TRAINING_FILE.attributes if a.output is Source.CHECK]
    assert computed and all(result.inputs[name] is not None for name in computed)
    assert result.inputs["purpose"] == "fine-tune"


# -- a new row is enough --------------------------------------------------------------------------


def provider_for(table: Table, base: type[TableProvider]) -> TableProvider:
    provider_class = type("ExtendedProvider", (base,), {"table": table})
    provider: TableProvider = provider_class()
    return provider


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(key="sk-local-" + secrets.token_hex(16), clock_speed=500.0) as server:
        yield server


def configured(provider: TableProvider, endpoint: LocalEndpoint) -> TableProvider:
    # the key is bound to the endpoint's origin (a base_url elsewhere would get no key)
    config = {"finetune:apiKey": endpoint.key, "finetune:baseUrl": endpoint.url}
    provider.configure(ConfigureRequest(Config(config, "test")))
    return provider


def job_inputs(endpoint: LocalEndpoint, **props: Any) -> dict[str, Any]:
    file_provider = configured(TrainingFileProvider(), endpoint)
    checked = file_provider.check({}, {"path": str(DATA), "base_url": endpoint.url})
    training_file = file_provider.create(checked.inputs).id
    return {
        **FINE_TUNING_JOB.placeholders(),
        "model": MODEL,
        "training_file": training_file,
        "base_url": endpoint.url,
        "_resource_key": f"test/dev/job-{secrets.token_hex(4)}",
        "_stack_instance": secrets.token_hex(8),
        "_owned_job": {"job_id": "", "created_at": 0},
        **props,
    }


def test_a_new_request_field_is_checked_diffed_and_sent_once_its_row_is_added(
    endpoint: LocalEndpoint,
) -> None:
    # As if `suffix` were new: OpenAI added it to the request, scripts/derive_schemas.py took
    # it into the request schema, and the table does not have its row yet.
    before = Table(
        FINE_TUNING_JOB.resource,
        tuple(a for a in FINE_TUNING_JOB.attributes if a.name != "suffix"),
        FINE_TUNING_JOB.ignored_api_fields,
    )
    after = before.with_rows(Attribute("suffix", Kind.API, Change.REPLACE, "model name suffix"))
    old_provider = configured(provider_for(before, FineTuningJobProvider), endpoint)
    new_provider = configured(provider_for(after, FineTuningJobProvider), endpoint)
    news = job_inputs(endpoint, suffix="bot", wait_for_completion=True)

    rejected = old_provider.check({}, news).failures
    assert [(f.property, f.reason) for f in rejected] == [
        ("", "suffix: unknown argument 'suffix' of FineTuningJob")
    ]

    checked = new_provider.check({}, news)
    assert checked.failures == []
    created = new_provider.create(checked.inputs)
    assert created.outs["spec"]["suffix"] == "bot"
    assert created.outs["status"] == "succeeded"
    assert ":bot:" in created.outs["fine_tuned_model"]  # the API got it

    olds = created.outs
    same = new_provider.diff(created.id, olds, checked.inputs)
    assert not same.changes
    renamed = new_provider.diff(created.id, olds, {**checked.inputs, "suffix": "bot2"})
    assert renamed.changes and renamed.replaces == ["suffix"]
    unknown = new_provider.diff(created.id, olds, {**checked.inputs, "suffix": Unknown()})
    assert unknown.replaces == ["suffix"]
    assert not old_provider.diff(created.id, olds, {**checked.inputs, "suffix": "bot2"}).changes


def test_a_new_option_is_defaulted_updated_in_place_and_copied_once_its_row_is_added() -> None:
    row = Attribute("poll_seconds", Kind.OPTION, Change.UPDATE, "poll interval", default=5.0)
    provider = provider_for(FINE_TUNING_JOB.with_rows(row), FineTuningJobProvider)
    news = {"model": MODEL, "training_file": "file-1"}

    checked = provider.check({}, news)
    assert checked.failures == [] and checked.inputs["poll_seconds"] == 5.0
    olds = {**checked.inputs, "job_id": "ftjob-1", "status": "running", "spec": {**news}}
    unset = {**checked.inputs, "poll_seconds": None}
    assert not provider.diff("ftjob-1", olds, unset).changes  # unset means the default
    changed = {**checked.inputs, "poll_seconds": 10.0}
    diff = provider.diff("ftjob-1", olds, changed)
    assert diff.changes and diff.replaces == []
    outs = provider.update("ftjob-1", olds, changed).outs
    assert outs["poll_seconds"] == 10.0 and outs["status"] == "running"


def test_a_new_output_is_a_placeholder_and_written_from_the_api_once_its_row_is_added() -> None:
    row = Attribute("user_provided_suffix", Kind.OUTPUT, Change.NONE, "as sent", output=Source.API)
    table = FINE_TUNING_JOB.with_rows(row)
    assert "user_provided_suffix" in table.placeholders()
    job = {"id": "ftjob-1", "object": "fine_tuning.job", "status": "queued"}
    assert job_outputs(job, table)["user_provided_suffix"] is None
    outs = job_outputs({**job, "user_provided_suffix": "bot"}, table)
    assert outs["user_provided_suffix"] == "bot" and outs["job_id"] == "ftjob-1"
    assert "object" not in outs and "id" not in outs


# -- diff stays local and normalised --------------------------------------------------------------


def test_diff_sees_pulumi_floats_as_the_ints_recorded_and_unknowns_as_replaces() -> None:
    provider = FineTuningJobProvider()  # not configured: diff makes no request
    declared = {"model": MODEL, "training_file": "file-1", "seed": 7}
    olds = {**declared, "seed": 7, "spec": {**declared}, "hyperparameters": {"n_epochs": 3}}
    assert not provider.diff("ftjob-1", olds, {**declared, "seed": 7.0}).changes
    assert provider.diff("ftjob-1", olds, {**declared, "seed": Unknown()}).replaces == ["seed"]
    updated = provider.diff("ftjob-1", olds, {**declared, "on_destroy": "keep"})
    assert updated.changes and updated.replaces == []
