"""The provider runs wherever Pulumi runs (issue 11): no `pulumi` CLI from the provider, so the
Automation API, `--cwd`, other backends and other checkouts work like the plain CLI."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.testing import pulumi_env

from .conftest import DATASET, MODEL, REPO

JOB: dict[str, Any] = {"model": MODEL, "training_file": "@data", "suffix": "where"}
PROGRAM: dict[str, Any] = {"files": {"data": {"path": "train.jsonl"}}, "jobs": {"support-bot": JOB}}


def requests_made(endpoint: Any) -> int:
    return int(endpoint.api.stats()["requests"])


def test_a_moved_checkout_with_the_same_bytes_previews_no_changes(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(PROGRAM)
    project.up()
    moved = project.root / "elsewhere" / "checkout"
    shutil.copytree(project.dir, moved)
    shutil.rmtree(project.dir)
    project.dir = moved  # a CI runner with another workspace path
    project.pulumi("stack", "select", "dev")
    fast_endpoint.api.reset_stats()

    preview = project.preview("--expect-no-changes")

    assert "path" not in preview.stdout.split("Resources:")[0], preview.stdout
    assert requests_made(fast_endpoint) == 0


def test_rotating_the_key_replaces_nothing_and_calls_nothing(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(PROGRAM)
    project.up()
    job_id = project.resource_outputs("support-bot")["job_id"]
    project.pulumi("config", "set", "--secret", "finetune:apiKey", "sk-rotated-" + "0" * 32)
    fast_endpoint.api.reset_stats()

    preview = project.preview()
    up = project.up()

    assert "replace" not in preview.stdout and "replace" not in up.stdout
    assert "1 to update" in preview.stdout  # the stack's provider, nothing else
    assert requests_made(fast_endpoint) == 0
    assert project.resource_outputs("support-bot")["job_id"] == job_id
    assert "sk-rotated" not in project.export()


def test_up_from_another_directory_with_the_passphrase_in_a_file(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(PROGRAM)
    passphrase = project.root / "passphrase"
    passphrase.write_text(project.env.pop("PULUMI_CONFIG_PASSPHRASE"))
    project.env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    elsewhere = project.root / "elsewhere"
    elsewhere.mkdir()

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(project.engine / "pulumi"), *args, "--cwd", str(project.dir), "--non-interactive"],
            cwd=elsewhere, env=project.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    up = pulumi("up", "--yes", "--skip-preview")
    assert up.returncode == 0, up.stdout + up.stderr
    fast_endpoint.api.reset_stats()
    again = pulumi("preview", "--expect-no-changes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert requests_made(fast_endpoint) == 0
    job_id = project.resource_outputs("support-bot")["job_id"]
    assert fast_endpoint.api.get(f"fine_tuning/jobs/{job_id}")["model"] == MODEL


# -- a remote state backend: S3 (moto's server on 127.0.0.1) ------------------------------


@pytest.fixture(scope="module")
def s3_backend() -> Iterator[dict[str, str]]:
    """A bucket on moto's S3 server, and the environment that points `pulumi` at it."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket="pulumi-state")  # fmt: skip
    try:
        yield {
            **credentials,
            "AWS_REGION": "us-east-1",
            "PULUMI_BACKEND_URL": (
                f"s3://pulumi-state?endpoint={endpoint}&region=us-east-1&use_path_style=true"
            ),
        }
    finally:
        server.stop()


def test_an_s3_backend_creates_once_replaces_and_destroys(slow_endpoint, make_project, s3_backend):
    project = make_project(slow_endpoint, env=s3_backend)
    project.write(PROGRAM)

    project.up()
    first = project.resource_outputs("support-bot")["job_id"]
    slow_endpoint.api.reset_stats()
    project.up()
    noop_requests = requests_made(slow_endpoint)
    urn = next(r["urn"] for r in project.state_resources() if r["urn"].endswith("::support-bot"))
    project.up("--replace", urn)
    second = project.resource_outputs("support-bot")["job_id"]
    project.destroy()

    assert noop_requests == 0
    assert second != first
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{first}")["status"] == "cancelled"
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{second}")["status"] == "cancelled"
    assert not (project.root / "state").joinpath(".pulumi").exists()  # nothing went to files


# -- the Automation API ------------------------------------------------------------------------


def automation_options(root: Path, engine: Path, **settings: Any) -> Any:
    from pulumi import automation as auto

    (root / "bin").mkdir(parents=True, exist_ok=True)
    if not (root / "bin" / "pulumi").exists():
        (root / "bin" / "pulumi").symlink_to(engine / "pulumi")
    (root / "state").mkdir(exist_ok=True)
    env = pulumi_env(root, engine)
    return auto.LocalWorkspaceOptions(
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        pulumi_command=auto.PulumiCommand(root=str(root), skip_version_check=True),
        **settings,
    )


def configure_endpoint(stack: Any, endpoint: Any) -> None:
    from pulumi import automation as auto

    stack.set_config("finetune:baseUrl", auto.ConfigValue(endpoint.url))
    stack.set_config("finetune:apiKey", auto.ConfigValue(endpoint.key, secret=True))


def test_automation_api_inline_program(slow_endpoint, engine, tmp_path):
    import pulumi
    from pulumi import automation as auto

    from pulumi_finetune import FineTuningJob, TrainingFile

    def program() -> None:
        data = TrainingFile("data", path=str(DATASET))
        job = FineTuningJob("support-bot", model=MODEL, training_file=data.id, suffix="inline")
        pulumi.export("job_id", job.id)

    opts = automation_options(
        tmp_path,
        engine,
        project_settings=auto.ProjectSettings(
            name="inline",
            runtime="python",
            backend=auto.ProjectBackend(url=f"file://{tmp_path}/state"),
        ),
    )
    stack = auto.create_stack("dev", project_name="inline", program=program, opts=opts)
    configure_endpoint(stack, slow_endpoint)
    slow_endpoint.api.reset_stats()

    job_id = stack.up().outputs["job_id"].value
    posts = slow_endpoint.api.stats()["by_route"].get("POST /v1/fine_tuning/jobs", 0)
    slow_endpoint.api.reset_stats()
    second = stack.up()
    preview = stack.preview()
    noop_requests = requests_made(slow_endpoint)
    stack.refresh()
    # (the Automation API's export_stack decrypts secrets: read what the backend stores)
    state = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.json"))
    stack.destroy()

    assert posts == 1
    assert second.summary.resource_changes == {"same": 4}
    assert preview.change_summary == {"same": 4}
    assert noop_requests == 0
    assert slow_endpoint.key not in state and '"finetune:apiKey"' in state
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{job_id}")["status"] == "cancelled"


def test_automation_api_local_program(fast_endpoint, make_project, tmp_path):
    from pulumi import automation as auto

    project = make_project(fast_endpoint)  # a project directory with its own __main__.py
    project.write(PROGRAM)
    opts = automation_options(tmp_path / "auto", project.engine)
    opts.env_vars = {**opts.env_vars, "PULUMI_BACKEND_URL": project.env["PULUMI_BACKEND_URL"]}
    stack = auto.create_stack("ci", work_dir=str(project.dir), opts=opts)
    configure_endpoint(stack, fast_endpoint)

    up = stack.up()
    fast_endpoint.api.reset_stats()
    again = stack.up()
    noop_requests = requests_made(fast_endpoint)
    stack.destroy()

    assert up.summary.resource_changes == {"create": 4}
    assert again.summary.resource_changes == {"same": 4}
    assert noop_requests == 0


def test_the_automation_example_runs_up_preview_destroy(slow_endpoint, engine, tmp_path):
    script = REPO / "examples" / "automation" / "deploy.py"
    (tmp_path / "state").mkdir()
    env = {
        **pulumi_env(tmp_path, engine),
        "FINETUNE_BASE_URL": slow_endpoint.url,
        "FINETUNE_API_KEY": slow_endpoint.key,
    }

    def run(action: str) -> str:
        done = subprocess.run(
            [sys.executable, str(script), action],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    up = run("up")
    job_id = next(line.split(": ")[1] for line in up.splitlines() if line.startswith("job_id: "))
    slow_endpoint.api.reset_stats()
    preview = run("preview")
    noop_requests = requests_made(slow_endpoint)
    run("destroy")

    assert "'same': 4" in preview and noop_requests == 0
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{job_id}")["status"] == "cancelled"
