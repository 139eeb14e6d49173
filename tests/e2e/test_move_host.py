"""examples/move-host under the real CLI, against two local endpoints (one playing OpenAI, one
playing Azure): moving the job is a stack-config change that previews as a replacement with no
request; the old host's model is deleted (`onDestroy` `delete_model`) only after the new job
succeeded, through the old host's provider with its own key (counted by a proxy in front of each
host: no request ever carries the other host's key), and a move whose new job fails leaves the
old host untouched. Two jobs in all."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pulumi_finetune.local.proxy import CountingProxy
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "move-host"
CREATE = "POST /v1/fine_tuning/jobs"


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """One endpoint plays Azure, whose answers are in Azure's shapes: no OpenAI schema check."""
    yield None


def _endpoint(tmp: Path, flavor: str) -> LocalEndpoint:
    return LocalEndpoint(
        tmp / flavor, key="sk-" + secrets.token_hex(12), clock_speed=500.0, flavor=flavor
    )


def _model_exists(endpoint: LocalEndpoint, model: str) -> bool:
    response = requests.get(
        f"{endpoint.url}/models/{model}",
        headers={"Authorization": f"Bearer {endpoint.key}", "api-key": endpoint.key},
        timeout=10,
    )
    return response.status_code == 200


def test_moving_the_job_from_openai_to_azure(engine: Path, tmp_path: Path) -> None:
    with (
        _endpoint(tmp_path, "openai") as openai,
        _endpoint(tmp_path, "azure") as azure,
        CountingProxy(openai.url) as to_openai,
        CountingProxy(azure.url) as to_azure,
    ):
        project = Project(tmp_path / "p", engine, openai.url, openai.key, name="finetune-move-host")
        shutil.copytree(EXAMPLE, project.dir, dirs_exist_ok=True)
        hosts = {"openai": {"baseUrl": to_openai.url}, "azure": {"baseUrl": to_azure.url}}
        project.pulumi("config", "set", "move-host:hosts", json.dumps(hosts))
        project.pulumi("config", "set", "--secret", "move-host:openaiKey", openai.key)
        project.pulumi("config", "set", "--secret", "move-host:azureKey", azure.key)
        project.pulumi("config", "set", "move-host:onDestroy", "delete_model")
        project.pulumi("config", "set", "move-host:host", "openai")
        project.up()
        old = project.outputs()
        assert old["host"] == "openai" and old["model"].startswith("ft:gpt-4.1-mini")
        assert _model_exists(openai, old["model"])

        project.pulumi("config", "set", "move-host:host", "azure")
        openai.reset_stats()
        preview = project.preview()
        assert "2 to replace" in preview.stdout, preview.stdout
        assert '"openai" => "azure"' in preview.stdout, preview.stdout
        assert openai.stats()["requests"] == 0 and azure.stats()["requests"] == 0

        # The new job cannot be created: the old host is left as it was.
        azure.add_fault(CREATE, "insufficient_quota", times=1)
        failed = project.up(check=False)
        assert failed.returncode != 0
        assert "Traceback" not in failed.output
        assert _model_exists(openai, old["model"])
        assert EndpointClient(azure.url, azure.key).jobs() == []

        azure.clear_faults()
        to_openai.reset()
        project.up()
        new = project.outputs()
        azure_jobs = EndpointClient(azure.url, azure.key).jobs()
        openai_jobs = EndpointClient(openai.url, openai.key).jobs()
        assert len(azure_jobs) + len(openai_jobs) == 2
        assert azure_jobs[0]["status"] == "succeeded"
        assert new["host"] == "azure" and new["job"] == azure_jobs[0]["id"]
        assert new["model"] == azure_jobs[0]["fine_tuned_model"]
        assert new["model"].startswith("gpt-4.1-mini-2025-04-14.ft-")
        assert not _model_exists(openai, old["model"])  # deleted after the new job succeeded
        assert openai_jobs[0]["status"] == "succeeded"  # the old job itself is history
        # The old job's destroy reached its own host with its own key; no key went elsewhere.
        deletes = [s for s in to_openai.seen() if s.method == "DELETE"]
        assert [s.path.split("/")[2] for s in deletes] == ["models", "files"], deletes
        assert to_openai.carrying(openai.key) == len(to_openai.seen()) > 0
        assert to_openai.carrying(azure.key) == 0 and to_azure.carrying(openai.key) == 0
        assert openai.stats()["unauthorized"] == 0 and azure.stats()["unauthorized"] == 0
        print(
            f"move: {len(to_openai.seen())} requests to the old host, all with its key; deletes:",
            [f"{s.method} {s.path}" for s in deletes],
        )
        state = project.export()  # each host's key is a secret of its provider, never plain
        assert openai.key not in state and azure.key not in state
        project.destroy()
