"""The local endpoint playing Together AI (`--flavor together`): Together's routes only, every
answer in the shape Together's OpenAPI description gives (`tests/data/together/`, an excerpt of
togethercomputer/openapi), its errors as `ErrorData`, and what it does not document refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from pulumi_finetune.client import Client
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.together import RETRIEVED, TRUNCATED
from pulumi_finetune.settings import Settings

from .conftest import training_bytes

SPEC = Path(__file__).resolve().parents[1] / "data" / "together" / "openapi-fine-tunes.json"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """Together's objects are not OpenAI's: each test checks them against Together's spec."""
    yield None


@cache
def _components() -> dict[str, Any]:
    components: dict[str, Any] = json.loads(SPEC.read_text())["components"]
    return components


def conforms(instance: Any, name: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    jsonschema.Draft202012Validator(schema).validate(instance)
    jobs = {"FinetuneResponse": [instance], "FinetuneResponseTruncated": [instance]}
    jobs["FinetuneTruncatedList"] = instance["data"] if name == "FinetuneTruncatedList" else []
    for job in jobs.get(name, []):
        # nothing beyond the route's own schema: a kinder flavor makes every test a guess
        extra = set(job) - properties(name.replace("TruncatedList", "ResponseTruncated"))
        assert not extra, f"{name} answered fields its schema does not have: {extra}"
    return instance


def properties(name: str) -> set[str]:
    return set(_components()["schemas"][name]["properties"])


class Together:
    def __init__(self, server: LocalEndpoint) -> None:
        self.url = server.url
        self.key = server.key
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.key}"

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=10, **kw)

    def ok(self, method: str, path: str, schema: str, **kw: Any) -> Any:
        answer = self.call(method, path, **kw)
        assert answer.status_code == 200, answer.text
        return conforms(answer.json(), schema)

    def upload(self) -> str:
        form = {"purpose": "fine-tune", "file_name": "train.jsonl", "file_type": "jsonl"}
        files = {"file": ("train.jsonl", training_bytes(12))}
        return str(self.ok("POST", "/files/upload", "FileResponse", data=form, files=files)["id"])


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Together]:
    with LocalEndpoint(
        tmp_path_factory.mktemp("together"), clock_speed=500.0, flavor="together"
    ) as server:
        yield Together(server)


def test_a_job_lives_on_togethers_routes_in_togethers_objects(api: Together) -> None:
    file_id = api.upload()
    assert api.ok("GET", f"/files/{file_id}", "FileResponse")["Processed"] is True
    assert file_id in [f["id"] for f in api.ok("GET", "/files", "FileList")["data"]]
    body = {
        "model": MODEL,
        "training_file": file_id,
        "suffix": "notes",
        "n_epochs": 2,
        "learning_rate": 0.0001,
        "training_method": {"method": "sft", "train_on_inputs": "auto"},
        "training_type": {"type": "Lora", "lora_r": 8, "lora_alpha": 16},
    }
    created = api.ok("POST", "/fine-tunes", "FinetuneResponseTruncated", json=body)
    assert created["id"].startswith("ft-") and created["status"] == "pending"
    assert created["model_output_name"].endswith("-notes")  # named from creation on
    assert created["created_at"].endswith("Z")
    job_id = created["id"]
    deadline = time.monotonic() + 30
    while True:
        job = api.ok("GET", f"/fine-tunes/{job_id}", "FinetuneResponse")
        if job["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "completed"
    assert job["learning_rate"] == 0.0001 and job["n_epochs"] == 2
    assert job["training_type"] == {
        "type": "Lora",
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "lora_trainable_modules": "all-linear",
    }
    assert "metadata" not in job and "fine_tuned_model" not in job
    events = api.ok("GET", f"/fine-tunes/{job_id}/events", "FinetuneListEvents")["data"]
    assert events[0]["type"] == "job_pending" and events[-1]["type"] == "job_complete"
    assert any(e["type"] == "epoch_complete" and e["step"] > 0 for e in events)
    checkpoints = api.ok("GET", f"/fine-tunes/{job_id}/checkpoints", "FinetuneListCheckpoints")
    assert checkpoints["data"] and checkpoints["data"][0]["checkpoint_type"] == "Final"
    listed = api.ok("GET", "/fine-tunes", "FinetuneTruncatedList")["data"]
    assert job_id in [j["id"] for j in listed]
    assert api.ok("DELETE", f"/files/{file_id}", "FileDeleteResponse")["deleted"] is True


def test_each_job_route_answers_its_own_schema_retrieve_without_suffix_or_seed(
    api: Together,
) -> None:
    """Create, list and cancel answer `FinetuneResponseTruncated`, which has the job's suffix
    and random_seed; retrieve answers `FinetuneResponse`, which has neither (nor user_id,
    packing, max_seq_length): the flavor answers each route with its schema's fields only."""
    assert properties("FinetuneResponseTruncated") == TRUNCATED
    assert properties("FinetuneResponse") == RETRIEVED
    body = {"model": MODEL, "training_file": api.upload(), "suffix": "s1", "random_seed": 42}
    created = api.ok("POST", "/fine-tunes", "FinetuneResponseTruncated", json=body)
    assert created["suffix"] == "s1" and created["random_seed"] == 42 and created["user_id"]
    job_id = created["id"]
    listed = api.ok("GET", "/fine-tunes", "FinetuneTruncatedList")["data"]
    mine = next(j for j in listed if j["id"] == job_id)
    assert mine["suffix"] == "s1" and mine["random_seed"] == 42 and mine["packing"] is True
    retrieved = api.ok("GET", f"/fine-tunes/{job_id}", "FinetuneResponse")
    lacking = {"suffix", "random_seed", "user_id", "packing", "max_seq_length"}
    assert not lacking & set(retrieved), retrieved
    assert retrieved["model_output_name"].endswith("-s1")  # the suffix shows only there
    cancelled = api.ok("POST", f"/fine-tunes/{job_id}/cancel", "FinetuneResponseTruncated")
    assert cancelled["random_seed"] == 42 and cancelled["suffix"] == "s1"


def test_cancel_answers_cancel_requested_and_the_job_reads_cancelled(api: Together) -> None:
    body = {"model": MODEL, "training_file": api.upload(), "n_epochs": 3}
    job_id = api.ok("POST", "/fine-tunes", "FinetuneResponseTruncated", json=body)["id"]
    cancelled = api.ok("POST", f"/fine-tunes/{job_id}/cancel", "FinetuneResponseTruncated")
    assert cancelled["status"] == "cancel_requested"
    assert api.ok("GET", f"/fine-tunes/{job_id}", "FinetuneResponse")["status"] == "cancelled"
    again = api.call("POST", f"/fine-tunes/{job_id}/cancel")
    assert again.status_code == 400
    conforms(again.json(), "ErrorData")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"metadata": {"k": "v"}}, "metadata"),  # OpenAI's, not Together's
        ({"method": {"type": "supervised"}}, "method"),
        ({"n_epochs": "two"}, "n_epochs"),
        ({"training_type": {"type": "Lora", "lora_r": 8}}, "training_type.lora_alpha"),
        ({"training_method": {"method": "grpo"}}, "training_method.method"),
        ({"suffix": "x" * 41}, "suffix"),
    ],
)
def test_what_together_does_not_document_is_refused_as_error_data(
    api: Together, body: dict[str, Any], param: str
) -> None:
    answer = api.call("POST", "/fine-tunes", json={"model": MODEL, "training_file": "f", **body})
    assert answer.status_code == 400, answer.text
    assert conforms(answer.json(), "ErrorData")["error"]["param"] == param


def test_only_togethers_paths_exist_and_the_key_is_a_bearer_token(api: Together) -> None:
    for method, path in (
        ("GET", "/fine_tuning/jobs"),
        ("POST", "/files"),
        ("POST", "/uploads"),
        ("GET", "/models"),
    ):
        answer = api.call(method, path)
        assert answer.status_code in (404, 405), (method, path, answer.status_code)
        conforms(answer.json(), "ErrorData")
    anonymous = requests.get(api.url + "/fine-tunes", timeout=10)
    assert anonymous.status_code == 401
    conforms(anonymous.json(), "ErrorData")


def test_a_dpo_job_echoes_its_method_and_flat_hyperparameters(api: Together) -> None:
    preference = {
        "input": {"messages": [{"role": "user", "content": "Hi?"}]},
        "preferred_output": [{"role": "assistant", "content": "Hello."}],
        "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
    }
    content = "".join(json.dumps(preference) + "\n" for _ in range(12)).encode()
    form = {"purpose": "fine-tune", "file_name": "prefs.jsonl"}
    files = {"file": ("prefs.jsonl", content)}
    file_id = api.ok("POST", "/files/upload", "FileResponse", data=form, files=files)["id"]
    body = {
        "model": MODEL,
        "training_file": file_id,
        "learning_rate": 0.00002,
        "training_method": {"method": "dpo", "dpo_beta": 0.2},
        "training_type": {"type": "Full"},
    }
    job_id = api.ok("POST", "/fine-tunes", "FinetuneResponseTruncated", json=body)["id"]
    job = api.ok("GET", f"/fine-tunes/{job_id}", "FinetuneResponse")
    assert job["training_method"] == {"method": "dpo", "dpo_beta": 0.2}
    assert job["training_type"] == {"type": "Full"} and job["learning_rate"] == 0.00002


def test_a_job_nothing_is_recorded_of_is_read_in_full_from_the_list(api: Together) -> None:
    """Adopting or importing a Together job: its retrieve lacks the seed and suffix, so the
    shape completes it from the list's object of it (one more request, on Together only)."""
    body = {"model": MODEL, "training_file": api.upload(), "suffix": "adopt", "random_seed": 9}
    job_id = api.ok("POST", "/fine-tunes", "FinetuneResponseTruncated", json=body)["id"]
    client = Client(Settings(base_url=api.url, api_key=api.key, host="together"))
    with client:
        retrieved = client.retrieve_job(job_id)
        assert retrieved["seed"] is None and retrieved["suffix"] is None
        full = client.shape.retrieve_in_full(client, job_id)
    assert full["seed"] == 9 and full["suffix"] == "adopt" and full["organization_id"]
    assert full["hyperparameters"]["packing"] is True
    kept = ("seed", "suffix", "organization_id", "hyperparameters", "method", "estimated_finish")
    assert {k: v for k, v in full.items() if k not in kept} == {
        k: v for k, v in retrieved.items() if k not in kept
    }
