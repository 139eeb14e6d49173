"""Each host under the real pulumi CLI, against the local endpoint playing it (`--flavor`):
create, wait, refresh, replace and destroy; what each host is sent (Azure: `trainingType` and
the key as `api-key`); what names the trained model (`result_model`: Nebius's final checkpoint);
an Azure reinforcement job paused by the host at its cost cap that `pulumi up --refresh` does
not resume; and preview refusals naming the host, with no request."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project

from .conftest import MODEL, wait_until
from .test_job_lifecycle import assert_no_changes

REPO = Path(__file__).resolve().parents[2]
RFT_DATA = REPO / "examples" / "reinforcement" / "data" / "train.jsonl"
OPEN_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
GRADER = {
    "type": "string_check",
    "name": "label",
    "input": "{{sample.output_text}}",
    "reference": "{{item.reference_answer}}",
    "operation": "eq",
}
RESUME = "POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/resume"
CREATE = "POST /v1/fine_tuning/jobs"


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """These flavors answer in their hosts' shapes, not OpenAI's: no OpenAI schema check."""
    yield None


@dataclass
class Flavored:
    server: LocalEndpoint
    url: str
    key: str
    api: EndpointClient


def _flavored(tmp: Path, flavor: str, clock_speed: float) -> Iterator[Flavored]:
    key = "sk-local-" + secrets.token_hex(16)
    with LocalEndpoint(tmp, key=key, clock_speed=clock_speed, flavor=flavor) as server:
        yield Flavored(server, server.url, key, EndpointClient(server.url, key))


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flavored]:
    yield from _flavored(tmp_path_factory.mktemp("azure"), "azure", 500.0)


@pytest.fixture(scope="module")
def nebius(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flavored]:
    yield from _flavored(tmp_path_factory.mktemp("nebius"), "nebius", 500.0)


@pytest.fixture
def hosted(engine: Path, tmp_path: Path) -> Iterator[object]:
    made: list[Project] = []

    def make(
        endpoint: Flavored, host: str, data: Path | None = None, env: dict[str, str] | None = None
    ) -> Project:
        root = tmp_path / f"p{len(made)}"
        project = Project(
            root=root, engine=engine, endpoint_url=endpoint.url, api_key=endpoint.key, env=env or {}
        )
        project.pulumi("config", "set", "finetune:host", host)
        shutil.copy(
            data or REPO / "tests" / "data" / "valid" / "chat_12.jsonl", project.dir / "train.jsonl"
        )
        made.append(project)
        return project

    yield make
    for project in made:
        project.cleanup()


def _program(**job: object) -> dict[str, object]:
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": {"bot": {"training_file": "@data", **job}},
    }


def test_azure_job_lifecycle_sends_training_type_and_api_key(azure: Flavored, hosted) -> None:
    project = hosted(azure, "azure")
    job = {
        "model": MODEL,
        "suffix": "notes",
        "training_type": "globalstandard",
        "wait_for_completion": True,
    }
    project.write(_program(**job))
    project.up()
    out = project.resource_outputs("bot")
    received = azure.server.job_request(out["job_id"])["received"]
    assert received["auth"] == "api-key"
    assert received["body"]["trainingType"] == "globalstandard"
    assert "training_type" not in received["body"]
    assert re.fullmatch(r"gpt-4o-mini-2024-07-18\.ft-[0-9a-f]{32}-notes", out["fine_tuned_model"])
    assert out["result_model"] == out["fine_tuned_model"]

    azure.server.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert azure.server.stats()["requests"] == 0
    project.refresh()
    assert project.resource_outputs("bot")["result_model"] == out["fine_tuned_model"]

    # another tier is another job: the preview says replace, the up makes exactly one more
    project.write(_program(**{**job, "training_type": "Developer"}))
    preview = project.preview()
    assert "1 to replace" in preview.stdout, preview.stdout
    azure.server.reset_stats()
    project.up()
    assert azure.server.stats()["by_route"].get(CREATE) == 1
    assert project.resource_outputs("bot")["job_id"] != out["job_id"]
    project.destroy()
    assert project.state_resources() == [] or all(
        "bot" not in r["urn"] for r in project.state_resources()
    )


def test_nebius_result_model_is_the_final_checkpoint(nebius: Flavored, hosted) -> None:
    project = hosted(nebius, "nebius")
    hyper = {"learning_rate": 0.0001, "lora": True, "lora_r": 16, "n_epochs": 2}
    method = {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    project.write(_program(model=OPEN_MODEL, method=method, wait_for_completion=True))
    project.up()
    out = project.resource_outputs("bot")
    assert out["status"] == "succeeded"
    assert out["fine_tuned_model"] == ""
    final = max(out["checkpoints"], key=lambda c: c["step_number"])
    assert out["result_model"] == f"{out['job_id']}:{final['id']}"
    received = nebius.server.job_request(out["job_id"])["received"]["body"]
    assert received["method"]["supervised"]["hyperparameters"]["learning_rate"] == 0.0001

    project.refresh()
    assert project.resource_outputs("bot")["result_model"] == out["result_model"]
    nebius.server.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert nebius.server.stats()["requests"] == 0
    project.destroy()


def test_azure_job_paused_at_its_cost_cap_is_not_resumed_by_up_refresh(
    azure: Flavored, hosted
) -> None:
    project = hosted(azure, "azure", RFT_DATA)
    method = {"type": "reinforcement", "reinforcement": {"grader": GRADER}}
    project.write(_program(model="o4-mini", method=method))
    azure.server.set_cost_cap(500)
    try:
        project.up()
    finally:
        azure.server.set_cost_cap(None)
    job_id = project.resource_outputs("bot")["job_id"]
    wait_until(lambda: azure.api.get(f"fine_tuning/jobs/{job_id}")["status"] == "paused")
    azure.server.reset_stats()

    up = project.up("--refresh")

    assert azure.server.stats()["by_route"].get(RESUME, 0) == 0
    assert "stays paused" in up.output and "training cost cap" in up.output, up.output
    out = project.resource_outputs("bot")
    assert out["status"] == "paused" and "cost cap" in out["pause_reason"]
    assert azure.api.get(f"fine_tuning/jobs/{job_id}")["status"] == "paused"

    # the documented act: resume_cost_capped=True for the up that approves it
    project.write(_program(model="o4-mini", method=method, resume_cost_capped=True))
    project.up()
    assert azure.server.stats()["by_route"].get(RESUME, 0) == 1
    project.destroy()


@pytest.mark.parametrize(
    ("host", "job", "words"),
    [
        (
            "nebius",
            {"model": OPEN_MODEL, "hyperparameters": {"learning_rate_multiplier": 2}},
            "Nebius Token Factory does not take `learning_rate_multiplier`",
        ),
        (
            "openai",
            {"model": MODEL, "hyperparameters": {"learning_rate": 0.0001}},
            "OpenAI does not take `learning_rate`",
        ),
        ("nebius", {"model": OPEN_MODEL, "paused": True}, "Nebius Token Factory cannot pause"),
        ("openai", {"model": MODEL, "training_type": "Standard"}, "OpenAI has no training tiers"),
    ],
)
def test_preview_refuses_what_the_host_does_not_take_naming_it(
    nebius: Flavored, hosted, host: str, job: dict[str, object], words: str
) -> None:
    project = hosted(nebius, host)
    project.write(_program(**job))
    nebius.server.reset_stats()
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert words in preview.output, preview.output
    assert "Traceback" not in preview.output
    assert nebius.server.stats()["requests"] == 0


# What this change added to the state of a job (inputs and outputs).
ADDED = ("training_type", "extra_body", "resume_cost_capped", "result_model", "pause_reason")


def test_a_stack_recorded_before_host_fields_existed_previews_no_changes(
    azure: Flavored, hosted
) -> None:
    project = hosted(azure, "azure")
    project.write(_program(model=MODEL, wait_for_completion=True))
    project.up()
    stripped = project.import_without(ADDED)
    assert stripped >= 3  # resume_cost_capped (input, output), result_model
    azure.server.reset_stats()

    preview = project.preview()
    up = project.up()

    assert azure.server.stats()["requests"] == 0
    assert_no_changes(preview.stdout)
    assert_no_changes(up.stdout)
    project.refresh()  # a refresh fills the new outputs in
    out = project.resource_outputs("bot")
    assert out["result_model"] == out["fine_tuned_model"] != ""


@pytest.mark.parametrize("flavor", ["azure", "nebius"])
def test_a_lost_create_answer_leaves_exactly_one_job_on_each_host(
    azure: Flavored, nebius: Flavored, hosted, flavor: str
) -> None:
    endpoint = {"azure": azure, "nebius": nebius}[flavor]
    model = {"azure": MODEL, "nebius": OPEN_MODEL}[flavor]
    project = hosted(endpoint, flavor)
    metadata = {"team": "billing"} if flavor == "azure" else None  # Nebius keeps none
    project.write(_program(model=model, metadata=metadata))
    before = {job["id"] for job in endpoint.api.jobs()}
    endpoint.server.reset_stats()
    endpoint.server.add_fault(CREATE, "commit_then_500", times=1)
    try:
        project.up()
    finally:
        endpoint.server.clear_faults()
    new = [job for job in endpoint.api.jobs() if job["id"] not in before]
    assert len(new) == 1, new
    assert endpoint.server.stats()["jobs_created"] == 1
    assert project.resource_outputs("bot")["job_id"] == new[0]["id"]


def test_an_insufficient_quota_error_on_azure_names_its_request_id(azure: Flavored, hosted) -> None:
    project = hosted(azure, "azure")
    project.write(_program(model=MODEL))
    azure.server.add_fault(CREATE, "insufficient_quota", times=1)
    try:
        up = project.up(check=False)
    finally:
        azure.server.clear_faults()
    assert up.returncode != 0
    assert "insufficient_quota" in up.output and "request id req_" in up.output
    assert "Traceback" not in up.output and azure.key not in up.output


def test_a_waited_job_the_host_pauses_at_its_cap_ends_the_wait(azure: Flavored, hosted) -> None:
    project = hosted(azure, "azure", RFT_DATA)
    method = {"type": "reinforcement", "reinforcement": {"grader": GRADER}}
    project.write(_program(model="o4-mini", method=method, wait_for_completion=True))
    azure.server.set_cost_cap(500)
    try:
        up = project.up()
    finally:
        azure.server.set_cost_cap(None)
    out = project.resource_outputs("bot")
    assert out["status"] == "paused" and out["paused"] is True
    assert "training cost cap" in out["pause_reason"]
    assert "is paused: Azure OpenAI" in up.output
    azure.server.reset_stats()
    assert_no_changes(project.preview().stdout)  # paused=False stays a wish, not a resume
    assert azure.server.stats()["requests"] == 0


def test_an_expired_azure_upload_stays_in_state_and_retrains_nothing(
    azure: Flavored, hosted
) -> None:
    project = hosted(azure, "azure")
    project.write(_program(model=MODEL, wait_for_completion=True))
    project.up()
    file_id = project.resource_outputs("data")["file_id"]
    job_id = project.resource_outputs("bot")["job_id"]
    # Azure deletes the upload when its expires_after runs out (30 days)
    assert azure.api.session.delete(f"{azure.url}/files/{file_id}", timeout=10).ok
    later = (datetime.now(UTC).date() + timedelta(days=31)).isoformat()
    project.env["PULUMI_FINETUNE_TODAY"] = later

    project.refresh()

    assert project.resource_outputs("data")["status"] == "expired"
    azure.server.reset_stats()
    assert_no_changes(project.up().stdout)
    assert azure.server.stats()["by_route"].get(CREATE, 0) == 0
    assert project.resource_outputs("bot")["job_id"] == job_id


def test_a_job_chained_on_an_azure_fine_tuned_model(azure: Flavored, hosted) -> None:
    project = hosted(azure, "azure")
    first = {"model": MODEL, "training_file": "@data", "wait_for_completion": True}
    second = {**first, "model": "@first.result_model", "suffix": "second"}
    project.write(
        {"files": {"data": {"path": "train.jsonl"}}, "jobs": {"first": first, "second": second}}
    )
    project.up()
    base = project.resource_outputs("first")["result_model"]
    chained = project.resource_outputs("second")
    assert base.startswith("gpt-4o-mini-2024-07-18.ft-")
    assert chained["model"] == base and chained["status"] == "succeeded"
    assert chained["result_model"].startswith("gpt-4o-mini-2024-07-18.ft-")
    assert (
        chained["estimated_cost_note"] == project.resource_outputs("first")["estimated_cost_note"]
    )
    azure.server.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert azure.server.stats()["requests"] == 0
