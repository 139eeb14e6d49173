"""The programs in examples/, run as a user would: each with its own Pulumi.yaml and data, the
real pulumi CLI, against the local endpoint (Azure: up to its first request)."""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project, Result

from .conftest import REPO, Endpoint

EXAMPLES = REPO / "examples"

MakeExample = Callable[[str, Endpoint], Project]


@pytest.fixture
def example_project(engine: Path, tmp_path: Path) -> Iterator[MakeExample]:
    """A copy of examples/<name> as a project with a `dev` stack configured for `endpoint`."""
    made: list[Project] = []

    def make(name: str, endpoint: Endpoint) -> Project:
        source = EXAMPLES / name
        declared = re.search(r"^name:\s*(\S+)", (source / "Pulumi.yaml").read_text(), re.M)
        assert declared, f"{source}/Pulumi.yaml has no name"
        project = Project(
            root=tmp_path / name,
            engine=engine,
            endpoint_url=endpoint.url,
            api_key=endpoint.key,
            name=declared.group(1),
        )
        made.append(project)
        shutil.copytree(source, project.dir, dirs_exist_ok=True)
        return project

    yield make
    for project in made:
        project.cleanup()


def up_and_collect_new_jobs(project: Project, endpoint: Endpoint) -> list[dict[str, Any]]:
    """`pulumi up`, then the jobs it started (the session's endpoint holds other tests' jobs)."""
    before = {job["id"] for job in endpoint.api.jobs()}
    project.up()
    return [job for job in endpoint.api.jobs() if job["id"] not in before]


def assert_second_preview_is_unchanged(project: Project) -> None:
    preview = project.preview("--expect-no-changes")
    assert "to create" not in preview.stdout and "to replace" not in preview.stdout, preview.stdout


def test_dpo_example_trains_on_preference_pairs(fast_endpoint, example_project):
    project = example_project("dpo", fast_endpoint)

    jobs = up_and_collect_new_jobs(project, fast_endpoint)

    assert len(jobs) == 1, jobs
    job = jobs[0]
    assert job["method"]["type"] == "dpo"
    assert job["method"]["dpo"]["hyperparameters"]["beta"] == 0.1
    assert job["status"] == "succeeded"
    outputs = project.outputs()
    assert outputs["examples"] == 12
    assert outputs["model"] == job["fine_tuned_model"]
    assert outputs["model"].startswith("ft:gpt-4.1-mini-2025-04-14:")
    assert_second_preview_is_unchanged(project)


@pytest.fixture(scope="module")
def bedrock_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local endpoint playing Amazon Bedrock (its answers are Bedrock's, not OpenAI's
    schema: no conformance check)."""
    key = "sk-local-" + secrets.token_hex(16)
    data = tmp_path_factory.mktemp("bedrock-endpoint")
    with LocalEndpoint(data, key=key, clock_speed=500.0, flavor="bedrock") as server:
        yield SimpleNamespace(
            server=server, url=server.url, key=key, api=EndpointClient(server.url, key)
        )


def test_reinforcement_example_trains_on_bedrock_with_a_lambda_grader(
    bedrock_endpoint, example_project
):
    project = example_project("reinforcement", bedrock_endpoint)
    project.pulumi("config", "set", "finetune:host", "bedrock")

    jobs = up_and_collect_new_jobs(project, bedrock_endpoint)

    assert len(jobs) == 1, jobs
    job = jobs[0]
    assert job["model"] == "openai.gpt-oss-20b"
    assert job["method"]["type"] == "reinforcement"
    grader = job["method"]["reinforcement"]["grader"]
    assert grader["type"] == "lambda"
    assert grader["lambda"]["function"].startswith("arn:aws:lambda:")
    assert job["status"] == "succeeded"
    assert "metadata" not in job and "seed" not in job  # Bedrock's pages show neither
    assert project.outputs()["model"] == job["fine_tuned_model"] != ""
    assert_second_preview_is_unchanged(project)


def test_sweep_example_starts_one_job_per_combination_on_one_file(fast_endpoint, example_project):
    project = example_project("sweep", fast_endpoint)

    jobs = up_and_collect_new_jobs(project, fast_endpoint)

    assert len(jobs) == 4, [job["id"] for job in jobs]
    assert len({job["training_file"] for job in jobs}) == 1
    settings = {
        (
            job["method"]["supervised"]["hyperparameters"]["n_epochs"],
            job["method"]["supervised"]["hyperparameters"]["learning_rate_multiplier"],
        )
        for job in jobs
    }
    assert settings == {(2, 0.5), (2, 2.0), (4, 0.5), (4, 2.0)}
    assert all(job["status"] == "succeeded" for job in jobs)
    models = project.outputs()["models"]
    assert set(models) == {"e2-lr0p5", "e2-lr2", "e4-lr0p5", "e4-lr2"}
    assert sorted(models.values()) == sorted(job["fine_tuned_model"] for job in jobs)
    costs = project.outputs()["estimated_cost_usd"]  # gpt-4.1-nano: $1.50 per 1M tokens
    assert costs["e4-lr2"] == pytest.approx(2 * costs["e2-lr2"])
    assert costs["e2-lr0p5"] == costs["e2-lr2"] > 0
    assert_second_preview_is_unchanged(project)


class _Recorded:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []


def _azure_like_server(recorded: _Recorded) -> ThreadingHTTPServer:
    """An HTTP proxy on 127.0.0.1 that records each request and answers as Azure does to a
    wrong key: 401 with Azure's error body."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            recorded.requests.append((self.command, self.path, dict(self.headers.items())))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    self.rfile.read(size + 2)
                self.rfile.readline()
            body = (
                b'{"error": {"code": "401", "message": "Access denied due to invalid '
                b"subscription key or wrong API endpoint. Make sure to provide a valid key for "
                b"an active subscription and use a correct regional API endpoint for your "
                b'resource."}}'
            )
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *_: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


AZURE_BASE_URL = "http://my-resource.openai.azure.com/openai/v1"
AZURE_KEY = "azure-key-0123456789abcdef"


def run_azure_example(project: Project) -> tuple[Result, list[tuple[str, str, dict[str, str]]]]:
    """`pulumi preview` and `pulumi up` of the Azure example, configured for an Azure host.

    The client picks Azure's `api-key` header by hostname (*.openai.azure.com), so the stack is
    configured with such a host and the provider's HTTP goes through a recording proxy on
    127.0.0.1. Plain http: the proxy must see the path and headers, which https would tunnel.
    Returns the output of `pulumi up` and the requests the proxy saw.
    """
    recorded = _Recorded()
    server = _azure_like_server(recorded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project.pulumi("config", "set", "finetune:baseUrl", AZURE_BASE_URL)
        project.pulumi("config", "set", "--secret", "finetune:apiKey", AZURE_KEY)
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        for name in ("http_proxy", "HTTP_PROXY"):
            project.env[name] = proxy
        for name in ("no_proxy", "NO_PROXY"):
            project.env[name] = "127.0.0.1,localhost"  # the engine's own gRPC stays direct

        project.preview()
        assert not recorded.requests, "preview must not call the endpoint"
        result = project.up(check=False)
    finally:
        server.shutdown()
        server.server_close()
    return result, recorded.requests


def test_azure_example_sends_the_key_as_api_key_to_the_configured_resource(
    fast_endpoint, example_project
):
    result, requests = run_azure_example(example_project("azure", fast_endpoint))

    assert result.returncode != 0
    assert requests, result.output
    method, target, _ = requests[0]
    assert (method, target) == ("POST", f"{AZURE_BASE_URL}/files"), requests
    for _, target, headers in requests:
        assert target.startswith(f"{AZURE_BASE_URL}/"), target
        assert headers.get("api-key") == AZURE_KEY
        assert "Authorization" not in headers
    assert "401" in result.output, result.output
    assert "Access denied due to invalid subscription key" in result.output
    assert AZURE_KEY not in result.output


def test_azure_example_error_names_the_endpoint(fast_endpoint, example_project):
    result, requests = run_azure_example(example_project("azure", fast_endpoint))

    assert result.returncode != 0 and requests
    assert "my-resource.openai.azure.com/openai/v1" in result.output, result.output
