"""Schema-driven fuzzing of the local endpoint against OpenAI's OpenAPI description.

Schemathesis generates requests for every operation in the description (valid ones and, in its
negative mode, ones that break the schema) and sends them to a private endpoint. Every response
must be below 500, and every 4xx must carry OpenAI's error body; the conformance hook in
conftest.py checks every 2xx body against the response schemas as well. Path parameters and
the create-job body are sometimes swapped for the ids of real objects, so generated requests
also reach the code behind the 404s. Examples are derived deterministically (same requests in
every run, no example database) and capped per operation to keep the module well under a minute.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from pulumi_finetune.local.server import LocalEndpoint

from .conformance import REFERENCE_DIR, SPEC, Checker
from .conftest import Api, wait_for

EXAMPLES_PER_OPERATION = int(os.environ.get("PF_FUZZ_EXAMPLES", "12"))


def _closed(node: Any) -> Any:
    """Objects that list ``properties`` take no others (as OpenAI answers "Unrecognized request
    argument"), so that valid ("positive") requests are valid for the server too."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


schema = schemathesis.openapi.from_dict(_closed(json.loads(SPEC.read_text())))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=False
)

# Ids of real objects, filled in by the ``target`` fixture before the first example is drawn.
REAL: dict[str, str] = {}
_PATH_ID_KIND = {
    "file_id": "file",
    "fine_tuning_job_id": "job",
    "upload_id": "upload",
    "model": "model",
    "fine_tuned_model_checkpoint": "checkpoint",
}


@schema.hook("flatmap_path_parameters")
def _sometimes_real_ids(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[Any]:
    if not path_parameters:
        return st.just(path_parameters)
    real = {
        name: REAL[_PATH_ID_KIND[name]]
        for name in path_parameters
        if _PATH_ID_KIND.get(name) in REAL
    }
    return st.sampled_from([path_parameters, {**path_parameters, **real}])


@schema.hook("flatmap_body")
def _sometimes_real_training_file(context: Any, body: Any) -> st.SearchStrategy[Any]:
    if context.operation is None or context.operation.path != "/fine_tuning/jobs":
        return st.just(body)
    if not isinstance(body, dict) or "file" not in REAL:
        return st.just(body)
    real = {**body, "training_file": REAL["file"], "model": "gpt-4o-mini"}
    if "validation_file" in body:
        real["validation_file"] = REAL["file"]
    return st.sampled_from([body, real, real])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """A private fast-clock endpoint holding one of each object the paths can name."""
    with LocalEndpoint(tmp_path_factory.mktemp("fuzz"), clock_speed=100) as ep:
        api = Api(ep.url, ep.key)
        job = api.create_job(suffix="fuzz")
        done = wait_for(lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j)
        checkpoints = api.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
        upload = api.post(
            "/uploads",
            json={"filename": "f.jsonl", "purpose": "fine-tune", "bytes": 3, "mime_type": "x"},
        ).json()
        REAL.update(
            file=done["training_file"],
            job=job["id"],
            upload=upload["id"],
            model=done["fine_tuned_model"],
            checkpoint=checkpoints[0]["fine_tuned_model_checkpoint"],
        )
        yield ep
        REAL.clear()


def _is_openai_error(body: Any) -> bool:
    if not isinstance(body, dict) or set(body) != {"error"}:
        return False
    error = body["error"]
    return (
        isinstance(error, dict)
        and set(error) == {"message", "type", "param", "code"}
        and isinstance(error["message"], str)
        and isinstance(error["type"], str)
        and all(error[k] is None or isinstance(error[k], str) for k in ("param", "code"))
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_4xx_in_openai_shape(
    case: Any, target: LocalEndpoint, conformance: Checker
) -> None:
    response = case.call(
        base_url=target.url, headers={"Authorization": f"Bearer {target.key}"}, timeout=10
    )
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        assert _is_openai_error(body), f"{where}: not OpenAI's error shape: {response.text[:300]}"
    # Schemathesis streams its responses, which the conformance hook skips: check them here
    # (2xx bodies against the operation's response schema); the hook fails the test on any.
    headers = {name.lower(): values for name, values in response.headers.items()}
    content_type = next(iter(headers.get("content-type", [])), "")
    conformance.check(
        case.method, str(response.request.url), response.status_code, content_type,
        response.content,
    )  # fmt: skip


def test_the_spec_copy_matches_the_reference_when_present() -> None:
    """tests/endpoint/data holds a copy so the tests never skip; catch it drifting."""
    reference = REFERENCE_DIR / SPEC.name
    if not reference.exists():
        pytest.skip(f"{reference} is not beside the repository; nothing to compare")
    assert json.loads(SPEC.read_text()) == json.loads(reference.read_text())
