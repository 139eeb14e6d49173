"""API shapes: each host row picks its module; Together's shape translates OpenAI's create body
into a body Together's OpenAPI description accepts, and Together's objects (its statuses, ISO
times, `model_output_name`, events, checkpoints, files) back into OpenAI's, as the spec
(`tests/data/together/openapi-fine-tunes.json`, an excerpt of togethercomputer/openapi) has
them; what its wire cannot carry is refused in check, naming the host."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pulumi_finetune import hosts, identity, shapes
from pulumi_finetune import spec as jobspec
from pulumi_finetune.client import Client
from pulumi_finetune.settings import Settings
from pulumi_finetune.shapes import together
from pulumi_finetune.shapes.openai import OpenAI
from pulumi_finetune.shapes.together import Together

SPEC = Path(__file__).resolve().parents[1] / "data" / "together" / "openapi-fine-tunes.json"
OPENAI_STATUSES = {"validating_files", "queued", "running", "succeeded", "failed", "cancelled"}
# FinetuneResponseTruncated's example in the spec.
SPEC_EXAMPLE = {
    "id": "ft-01234567890123456789",
    "status": "completed",
    "created_at": "2023-05-17T17:35:45.123Z",
    "updated_at": "2023-05-17T18:46:23.456Z",
    "user_id": "user_01234567890123456789",
    "owner_address": "user@example.com",
    "total_price": 1500,
    "token_count": 850000,
    "events": [],
    "model": "meta-llama/Llama-2-7b-hf",
    "model_output_name": "mynamespace/meta-llama/Llama-2-7b-hf-32162631",
    "n_epochs": 3,
    "training_file": "file-01234567890123456789",
    "wandb_project_name": "my-finetune-project",
}


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC.read_text())
    return document


def _schema(ref: str) -> dict[str, Any]:
    return {"$ref": ref, "components": _document()["components"]}


def _valid(instance: Any, ref: str) -> None:
    jsonschema.Draft202012Validator(_schema(ref)).validate(instance)


def _create_schema() -> dict[str, Any]:
    body = _document()["paths"]["/fine-tunes"]["post"]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


def test_each_row_names_its_shape_and_every_other_host_speaks_openais() -> None:
    for host in hosts.HOSTS:
        shape = shapes.for_host(host)
        assert shape.host is host
        assert isinstance(shape, Together if host.shape == "together" else OpenAI)
    assert isinstance(shapes.for_host(hosts.TOGETHER), Together)
    assert isinstance(shapes.for_host(hosts.NEBIUS), OpenAI)


def test_every_together_status_maps_to_one_of_openais() -> None:
    enum = _document()["components"]["schemas"]["FinetuneJobStatus"]["enum"]
    assert set(together.STATUSES) == set(enum)
    assert set(together.STATUSES.values()) <= OPENAI_STATUSES
    assert together.STATUSES["completed"] == "succeeded"
    assert together.STATUSES["error"] == "failed"
    # a cancel once asked for is final: never adopted, waited on or cancelled again
    assert together.STATUSES["cancel_requested"] == "cancelled"
    assert {together.STATUSES[s] for s in ("compressing", "uploading")} == {"running"}


def _openai_body(**extra: Any) -> dict[str, Any]:
    hyper = {
        "n_epochs": 2,
        "batch_size": "auto",
        "learning_rate": 0.0001,
        "n_checkpoints": 2,
        "warmup_ratio": 0.1,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
    }
    return {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "training_file": "file-abc",
        "validation_file": "file-def",
        "suffix": "notes",
        "seed": 7,
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
        "metadata": {jobspec.MARKER_KEY: "marker"},
        **extra,
    }


def test_the_create_body_is_one_together_documents() -> None:
    body = together.create_body(_openai_body(from_checkpoint="ft-old:10"))
    schema = _create_schema()
    jsonschema.Draft202012Validator({**schema, "components": _document()["components"]}).validate(
        body
    )
    assert set(body) <= set(schema["properties"]), set(body) - set(schema["properties"])
    assert body == {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "training_file": "file-abc",
        "validation_file": "file-def",
        "suffix": "notes",
        "random_seed": 7,
        "training_method": {"method": "sft", "train_on_inputs": "auto"},
        "training_type": {"type": "Lora", "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05},
        "n_epochs": 2,
        "learning_rate": 0.0001,
        "n_checkpoints": 2,
        "warmup_ratio": 0.1,
        "from_checkpoint": "ft-old:10",
    }  # "auto" is Together's default (not sent); metadata has nowhere to go


def test_full_training_and_dpo_translate_to_their_objects() -> None:
    full = _openai_body(
        method={"type": "supervised", "supervised": {"hyperparameters": {"lora": False}}}
    )
    assert together.create_body(full)["training_type"] == {"type": "Full"}
    dpo = _openai_body(
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 1}}}
    )
    body = together.create_body(dpo)
    assert body["training_method"] == {"method": "dpo", "dpo_beta": 0.2}
    assert body["n_epochs"] == 1 and "training_type" not in body
    _valid(body["training_method"], "#/components/schemas/TrainingMethodDPO")


def test_the_specs_example_job_reads_as_openais() -> None:
    _valid(SPEC_EXAMPLE, "#/components/schemas/FinetuneResponseTruncated")
    job = together.job_from_wire(SPEC_EXAMPLE)
    assert job["object"] == "fine_tuning.job"
    assert job["status"] == "succeeded"
    assert job["created_at"] == 1684344945  # 2023-05-17T17:35:45.123Z
    assert job["finished_at"] == 1684349183  # its updated_at, once finished
    assert job["fine_tuned_model"] == "mynamespace/meta-llama/Llama-2-7b-hf-32162631"
    assert job["trained_tokens"] == 850000
    assert job["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 3}},
    }
    assert job["error"] is None and job["metadata"] is None
    assert job["integrations"] == [{"type": "wandb", "wandb": {"project": "my-finetune-project"}}]


def test_a_running_job_has_no_model_yet_and_a_failed_one_says_why() -> None:
    running = together.job_from_wire({**SPEC_EXAMPLE, "status": "uploading"})
    assert running["status"] == "running"
    assert running["fine_tuned_model"] is None and running["finished_at"] is None
    event = {"message": "Training data has no assistant turn", "level": "error"}
    failed = together.job_from_wire({**SPEC_EXAMPLE, "status": "error", "events": [event]})
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == "Training data has no assistant turn"


def test_what_a_job_echoes_of_its_create_request_reads_back_as_declared() -> None:
    """What finds a job whose create response was lost: the job object returns the create
    request's fields (the row's `echoes`) in the resource's vocabulary."""
    declared = _openai_body()
    sent = together.create_body(declared)
    job = together.job_from_wire(
        {**sent, "id": "ft-1", "status": "pending", "created_at": "2026-12-06T08:00:00Z"}
    )
    for field in ("model", "training_file", "validation_file", "suffix", "seed"):
        assert job[field] == declared[field], field
    live = job["method"]["supervised"]["hyperparameters"]
    wanted = declared["method"]["supervised"]["hyperparameters"]
    assert {k: v for k, v in wanted.items() if v != "auto"}.items() <= live.items()
    assert job["created_at"] == 1796544000
    assert set(hosts.TOGETHER.echoes) <= set(job)
    assert not hosts.TOGETHER.lists_by_metadata


def _properties(name: str) -> set[str]:
    return set(_document()["components"]["schemas"][name]["properties"])


def _changed(a: Any, b: Any, path: str = "") -> set[str]:
    """Dotted paths where two job objects differ (a hyperparameter as `hyperparameters.NAME`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: set[str] = set()
        for key in set(a) | set(b):
            found |= _changed(a.get(key), b.get(key), f"{path}{key}.")
        return found
    return {path.rstrip(".")} if a != b else set()


def test_what_retrieve_lacks_is_what_the_shape_keeps_as_recorded() -> None:
    """The spec's retrieve schema (`FinetuneResponse`) lacks fields its create/list/cancel
    schema (`FinetuneResponseTruncated`) has: the job read from a retrieve differs from the
    listed one in exactly the shape's `unretrieved`, and `with_recorded` restores them."""
    truncated, retrieved = _properties("FinetuneResponseTruncated"), _properties("FinetuneResponse")
    assert {"suffix", "random_seed", "user_id", "packing", "max_seq_length"} <= (
        truncated - retrieved
    )
    listed = {
        **together.create_body(_openai_body()),
        **SPEC_EXAMPLE,
        "status": "running",
        "packing": True,
        "max_seq_length": 4096,
    }
    _valid(listed, "#/components/schemas/FinetuneResponseTruncated")
    answer = {k: v for k, v in listed.items() if k in retrieved}
    _valid(answer, "#/components/schemas/FinetuneResponse")
    as_listed, as_retrieved = together.job_from_wire(listed), together.job_from_wire(answer)
    lost = {
        p.replace("method.supervised.hyperparameters", "hyperparameters")
        for p in _changed(as_listed, as_retrieved)
    } - {"estimated_finish"}
    assert lost == set(Together.unretrieved), lost
    assert as_retrieved["seed"] is None and as_retrieved["suffix"] is None
    shape = shapes.for_host(hosts.TOGETHER)
    assert shape.with_recorded(as_retrieved, as_listed) == as_listed
    # the host's word wins where it does say: a recorded value never hides a live one
    assert shape.with_recorded(as_listed, {**as_listed, "seed": 1, "suffix": "x"}) == as_listed
    # OpenAI's retrieve returns what its create does: nothing is taken from the record
    openai = shapes.for_host(hosts.OPENAI)
    assert openai.unretrieved == () and openai.with_recorded({"seed": None}, {"seed": 3}) == {
        "seed": None
    }


def test_togethers_echoes_are_what_its_list_and_create_objects_return() -> None:
    """The row's `echoes` (what a job whose create answer was lost is found by, in the job
    list) are exactly the create fields whose wire names `FinetuneResponseTruncated` has; its
    `random_seed` is there, so the seed carrying the marker is found in the list."""
    truncated = _properties("FinetuneResponseTruncated")
    wire = {
        "model": {"model"},
        "training_file": {"training_file"},
        "validation_file": {"validation_file"},
        "suffix": {"suffix"},
        "seed": {"random_seed"},
        "method": {"training_method"},
        "hyperparameters": {*together.FLAT, "training_type"},
        "metadata": {"metadata"},
    }
    assert set(hosts.TOGETHER.echoes) == {name for name, on in wire.items() if on <= truncated}
    assert identity.marker_place(hosts.TOGETHER, seed_declared=False) == "seed"
    assert identity.weaker_guarantee(hosts.TOGETHER, seed_declared=False) is None
    # a declared seed leaves only the echoes: preview says the guarantee is weaker there
    weaker = identity.weaker_guarantee(hosts.TOGETHER, seed_declared=True)
    assert weaker and "Together AI keeps no marker" in weaker


def test_events_checkpoints_and_files_read_as_openais() -> None:
    event = {
        "object": "fine-tune-event",
        "created_at": "2026-12-06T08:00:05Z",
        "level": "warning",
        "message": "Epoch 1 completed",
        "type": "epoch_complete",
        "param_count": 0,
        "token_count": 0,
        "total_steps": 24,
        "wandb_url": "",
        "step": 12,
        "checkpoint_path": "",
        "model_path": "",
        "training_offset": 0,
        "hash": "h1",
    }
    _valid(event, "#/components/schemas/FineTuneEvent")
    read = together.event_from_wire(event, "ft-1", 0)
    assert read["id"] == "h1" and read["level"] == "warn" and read["created_at"] == 1796544005
    assert read["type"] == "metrics" and read["data"] == {"step": 12, "total_steps": 24}
    checkpoint = {"step": 12, "path": "s3://x", "created_at": "2026-12-06T08:00:05Z"}
    checkpoint["checkpoint_type"] = "Intermediate"
    _valid(checkpoint, "#/components/schemas/FineTuneCheckpoint")
    ckpt = together.checkpoint_from_wire(checkpoint, "ft-1")
    assert ckpt["id"] == ckpt["fine_tuned_model_checkpoint"] == "ft-1:12"  # from_checkpoint's form
    assert ckpt["step_number"] == 12
    file = {
        "id": "file-1",
        "object": "file",
        "created_at": 1796544000,
        "filename": "train.jsonl",
        "bytes": 10,
        "purpose": "fine-tune",
        "FileType": "jsonl",
        "Processed": True,
    }
    _valid(file, "#/components/schemas/FileResponse")
    assert together.file_from_wire(file)["status"] == "processed"


@pytest.mark.parametrize(
    ("hyper", "path", "reason"),
    [
        (
            {"learning_rate_multiplier": 2},
            "method.supervised.hyperparameters.learning_rate_multiplier",
            "Together AI does not take `learning_rate_multiplier`; it takes `learning_rate`",
        ),
        (
            {"lora_r": 8},
            "method.supervised.hyperparameters",
            "Together AI takes LoRA settings only with both lora_r and lora_alpha",
        ),
        (
            {"lora": False, "lora_r": 8, "lora_alpha": 8},
            "method.supervised.hyperparameters.lora_r",
            "is a LoRA setting, but lora is false on Together AI",
        ),
        (
            {"n_checkpoints": "two"},
            "method.supervised.hyperparameters.n_checkpoints",
            'got "two"; must be a int',
        ),
    ],
)
def test_check_refuses_what_together_cannot_take(
    hyper: dict[str, Any], path: str, reason: str
) -> None:
    props = _openai_body(
        method={"type": "supervised", "supervised": {"hyperparameters": hyper}}, metadata=None
    )
    failures = dict(jobspec.validate(props, host=hosts.TOGETHER))
    assert path in failures, failures
    assert reason in failures[path]


def test_check_refuses_metadata_and_integrations_on_together_only() -> None:
    props = _openai_body(
        metadata={"team": "search"},
        integrations=[{"type": "wandb", "wandb": {"project": "p"}}],
    )
    props["method"] = {"type": "supervised"}
    failures = dict(jobspec.validate(props, host=hosts.TOGETHER))
    assert "Together AI keeps no metadata" in failures["metadata"]
    assert "wandb_api_key" in failures["integrations"]
    assert "metadata" not in dict(jobspec.validate(props, host=hosts.OPENAI))


def test_a_dpo_job_takes_togethers_hyperparameters_and_beta_on_together_only() -> None:
    hyper = {"beta": 0.2, "learning_rate": 0.00002, "n_epochs": 1, "lora": False}
    props = _openai_body(method={"type": "dpo", "dpo": {"hyperparameters": hyper}}, metadata=None)
    assert jobspec.validate(props, host=hosts.TOGETHER) == []
    body = together.create_body(props)
    assert body["training_method"] == {"method": "dpo", "dpo_beta": 0.2}
    assert body["learning_rate"] == 0.00002 and body["training_type"] == {"type": "Full"}
    openai = dict(jobspec.validate(props, host=hosts.OPENAI))
    assert (
        "OpenAI does not take `learning_rate`" in openai["method.dpo.hyperparameters.learning_rate"]
    )
    multiplier = {
        "method": {"type": "dpo", "dpo": {"hyperparameters": {"learning_rate_multiplier": 2}}}
    }
    refused = dict(jobspec.validate(_openai_body(**multiplier, metadata=None), host=hosts.TOGETHER))
    where = "method.dpo.hyperparameters.learning_rate_multiplier"
    assert "Together AI does not take `learning_rate_multiplier`" in refused[where]


def test_the_next_host_with_its_own_api_is_a_row_and_a_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the shapes package docstring promises for Fireworks: a module of the package named
    by a row's `shape` serves that row's calls through the Client, with nothing else changed."""

    class Fireworks(OpenAI):
        jobs_path = "/accounts/{account}/supervisedFineTuningJobs"

        def retrieve_job(self, wire: shapes.Wire, job_id: str) -> dict[str, Any]:
            return {"id": job_id, "status": "succeeded", "host": self.host.name}

    module = types.ModuleType("pulumi_finetune.shapes.fireworks_example")
    module.SHAPE = Fireworks
    monkeypatch.setitem(sys.modules, module.__name__, module)
    row = dataclasses.replace(hosts.COMPATIBLE, name="fireworks", shape="fireworks_example")
    assert isinstance(shapes.for_host(row), Fireworks)
    client = Client(Settings(base_url="http://127.0.0.1:9/v1", api_key="k", host="compatible"))
    client.__dict__["shape"] = shapes.for_host(row)  # what Settings would resolve for the row
    assert client.retrieve_job("job-1") == {
        "id": "job-1",
        "status": "succeeded",
        "host": "fireworks",
    }
