"""Together AI under the real pulumi CLI, against the local endpoint playing it (`--flavor
together`, Together's own routes and objects): a TrainingFile and a supervised job created,
waited on, refreshed, replaced (the replaced job cancelled through Together's cancel route) and
destroyed, with every request on Together's paths; what it refuses in preview (OpenAI's
`learning_rate_multiplier`, metadata), with no request; its errors shown without a traceback."""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import Project
from pulumi_finetune.local.together import ROUTES

from .test_job_lifecycle import assert_no_changes

REPO = Path(__file__).resolve().parents[2]
OPEN_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
TOGETHER_ROUTES = {f"{method} {template}" for method, template, _ in ROUTES}
CANCEL = "POST /v1/fine-tunes/{id}/cancel"
CREATE = "POST /v1/fine-tunes"


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """Together's objects are not OpenAI's: no OpenAI schema check."""
    yield None


@pytest.fixture
def together(tmp_path: Path) -> Iterator[LocalEndpoint]:
    # Real time: a job runs about 40 s unless the test moves the clock (`fast_forward`).
    key = "sk-local-" + secrets.token_hex(16)
    with LocalEndpoint(tmp_path / "endpoint", key=key, clock_speed=1.0, flavor="together") as ep:
        yield ep


@pytest.fixture
def project(engine: Path, tmp_path: Path, together: LocalEndpoint) -> Iterator[Project]:
    made = Project(
        root=tmp_path / "project", engine=engine, endpoint_url=together.url, api_key=together.key
    )
    made.pulumi("config", "set", "finetune:host", "together")
    shutil.copy(REPO / "tests" / "data" / "valid" / "chat_12.jsonl", made.dir / "train.jsonl")
    yield made
    made.cleanup()


@contextmanager
def fast_forward(endpoint: LocalEndpoint) -> Iterator[None]:
    """Jobs' time runs ahead (10 s every 0.2 s) while the block runs, e.g. during a wait."""
    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.2):
            endpoint.advance_clock(10)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _program(**job: object) -> dict[str, object]:
    hyper = job.pop("hyperparameters", {"n_epochs": 2, "learning_rate": 0.0001})
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": {
            "bot": {
                "training_file": "@data",
                "model": OPEN_MODEL,
                "suffix": "notes",
                "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
                **job,
            }
        },
    }


def _only_together_paths(endpoint: LocalEndpoint) -> dict[str, int]:
    stats = endpoint.stats()
    assert set(stats["by_route"]) <= TOGETHER_ROUTES, stats
    assert sum(stats["by_route"].values()) == stats["requests"], stats  # nothing unmatched
    by_route: dict[str, int] = stats["by_route"]
    return by_route


def test_together_job_lifecycle_on_togethers_routes(
    together: LocalEndpoint, project: Project
) -> None:
    project.write(_program(wait_for_completion=True))
    with fast_forward(together):
        project.up()
    out = project.resource_outputs("bot")
    job_a = out["job_id"]
    assert job_a.startswith("ft-") and out["status"] == "succeeded"
    # result_model is Together's model_output_name: ORG/BASE-ID-SUFFIX
    assert re.fullmatch(rf"[\w-]+/{re.escape(OPEN_MODEL)}-\w{{8}}-notes", out["result_model"])
    assert out["fine_tuned_model"] == out["result_model"]
    assert out["checkpoints"] and out["created_at"] > 1_700_000_000  # ISO times as Unix seconds
    received = together.job_request(job_a)["received"]
    assert received["auth"] == "bearer-key"
    body = received["body"]
    assert body["training_method"] == {"method": "sft", "train_on_inputs": "auto"}
    assert body["learning_rate"] == 0.0001 and body["n_epochs"] == 2
    assert "metadata" not in body and "method" not in body
    file_id = project.resource_outputs("data")["file_id"]
    assert together.job_request(job_a)["received"]["body"]["training_file"] == file_id
    by_route = _only_together_paths(together)
    assert by_route["POST /v1/files/upload"] == 1 and by_route[CREATE] == 1

    together.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert together.stats()["requests"] == 0
    refreshed = project.refresh()
    assert_no_changes(refreshed.stdout)
    assert project.resource_outputs("bot")["result_model"] == out["result_model"]
    _only_together_paths(together)

    # Another learning rate is another job; not waited on, it keeps running (real time).
    project.write(_program(hyperparameters={"n_epochs": 3, "learning_rate": 0.0002}))
    preview = project.preview()
    assert "1 to replace" in preview.stdout, preview.stdout
    together.reset_stats()
    project.up()
    job_b = project.resource_outputs("bot")["job_id"]
    assert job_b != job_a
    by_route = _only_together_paths(together)
    assert by_route[CREATE] == 1 and CANCEL not in by_route  # job A had finished
    assert together.job_request(job_b)["received"]["body"]["learning_rate"] == 0.0002

    # Replacing the running job B cancels it through Together's cancel route.
    project.write(_program(hyperparameters={"n_epochs": 3, "learning_rate": 0.0003}))
    together.reset_stats()
    project.up()
    job_c = project.resource_outputs("bot")["job_id"]
    by_route = _only_together_paths(together)
    assert by_route[CREATE] == 1 and by_route[CANCEL] == 1
    listed = {j["id"]: j["status"] for j in together_jobs(together)}
    assert listed == {job_a: "completed", job_b: "cancelled", job_c: listed[job_c]}
    assert listed[job_c] in ("pending", "queued", "running")

    together.reset_stats()
    project.destroy()
    by_route = _only_together_paths(together)
    assert by_route[CANCEL] == 1 and by_route["DELETE /v1/files/{file_id}"] == 1
    assert {j["id"]: j["status"] for j in together_jobs(together)}[job_c] == "cancelled"


def test_a_refresh_keeps_what_togethers_retrieve_does_not_return(
    together: LocalEndpoint, project: Project
) -> None:
    """Together's retrieve answer (`FinetuneResponse`) has no suffix, random_seed, user_id,
    packing or max_seq_length; its create answer does. A job recorded from its create answer
    and refreshed (retrieve) keeps them as recorded: the refresh changes only what moved on
    (its status), a second refresh shows no change, and the next preview replaces nothing."""
    project.write(_program(hyperparameters={"n_epochs": 2, "learning_rate": 0.0001}))
    project.up()  # not waited on: the state holds the create answer
    created = project.resource_outputs("bot")
    sent = together.job_request(created["job_id"])["received"]["body"]
    assert created["seed"] == sent["random_seed"]  # the seed carrying the marker
    assert created["suffix"] == "notes" and created["organization_id"]
    assert created["hyperparameters"]["packing"] is True
    with fast_forward(together):
        while {j["id"]: j["status"] for j in together_jobs(together)}[created["job_id"]] != (
            "completed"
        ):
            threading.Event().wait(0.2)
    together.reset_stats()
    project.refresh()
    assert together.stats()["by_route"].get("GET /v1/fine-tunes/{id}") == 1
    refreshed = project.resource_outputs("bot")
    assert refreshed["status"] == "succeeded"
    for name in ("seed", "suffix", "organization_id", "hyperparameters", "method"):
        assert refreshed[name] == created[name], name
    assert_no_changes(project.refresh().stdout)
    preview = project.preview()
    assert_no_changes(preview.stdout)
    assert "replace" not in preview.stdout


def together_jobs(endpoint: LocalEndpoint) -> list[dict[str, object]]:
    import requests

    answer = requests.get(
        f"{endpoint.url}/fine-tunes",
        headers={"Authorization": f"Bearer {endpoint.key}"},
        timeout=10,
    )
    answer.raise_for_status()
    jobs: list[dict[str, object]] = answer.json()["data"]
    return jobs


def test_together_refuses_openais_multiplier_and_metadata_in_preview(
    together: LocalEndpoint, project: Project
) -> None:
    project.write(_program(hyperparameters={"learning_rate_multiplier": 2}))
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert "Together AI does not take `learning_rate_multiplier`" in preview.output
    assert "it takes `learning_rate` (an absolute rate)" in preview.output
    project.write(_program(metadata={"team": "search"}))
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert "Together AI keeps no metadata on a job" in preview.output
    assert "Traceback" not in preview.output
    assert together.stats()["requests"] == 0


def test_together_errors_are_shown_without_a_traceback(
    together: LocalEndpoint, project: Project
) -> None:
    project.write(_program(model="meta-llama/Not-A-Model"))
    up = project.up(check=False)
    assert up.returncode != 0
    assert "Unable to create the fine-tuning job" in up.output
    assert "not available for fine-tuning" in up.output
    assert "Traceback" not in up.output
    assert together.stats()["by_route"].get(CREATE) == 1
    _only_together_paths(together)
