"""Errors read like Pulumi's (issue 12 item 6): in `pulumi up` and `pulumi refresh` output, a
missing key, a wrong key (401), an account out of quota and an unreachable endpoint each show
their message, the endpoint and the fix in a few lines, with no Python traceback.

Each scenario is a real `pulumi` run against a local endpoint dedicated to this module (its
faults never leak into other tests).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_finetune.local.testing import Project, Result

from .conftest import MODEL, Endpoint, running_endpoint

PROGRAM: dict[str, Any] = {
    "files": {"data": {"path": "train.jsonl"}},
    "jobs": {"bot": {"model": MODEL, "training_file": "@data"}},
}
UPLOAD = "POST /v1/files"
RETRIEVE_FILE = "GET /v1/files/{file_id}"
RETRIEVE_JOB = "GET /v1/fine_tuning/jobs/{fine_tuning_job_id}"
QUOTA_MESSAGE = "You exceeded your current quota"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with running_endpoint(tmp_path_factory.mktemp("errors-endpoint"), 500.0) as endpoint:
        yield endpoint


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def diagnostics_of(output: str, resource_type: str) -> list[list[str]]:
    """The lines under each `<type> (<name>):` heading of the Diagnostics section."""
    section = output.split("Diagnostics:", 1)[-1]
    blocks = []
    for match in re.finditer(rf"^  \S+{resource_type} \(\S+\):\n((?:    .*\n)+)", section, re.M):
        blocks.append(match.group(1).splitlines())
    return blocks


def assert_reads_like_pulumi(result: Result, *expected: str) -> None:
    out = result.output
    assert result.returncode != 0, out
    for text in expected:
        assert text in out, f"{text!r} missing from:\n{out}"
    assert "Traceback (most recent call last)" not in out, out
    assert "During handling of the above exception" not in out, out
    assert 'File "' not in out, out
    blocks = [
        *diagnostics_of(out, "finetune:TrainingFile"),
        *diagnostics_of(out, "finetune:FineTuningJob"),
    ]
    assert blocks, out
    for lines in blocks:
        assert 1 <= len(lines) <= 3, "\n".join(lines)  # the error and its fix


# -- pulumi up --------------------------------------------------------------------------------


def test_up_without_a_key_says_where_to_set_it(ep, make_project):
    project = make_project(ep)
    project.write(PROGRAM)
    project.pulumi("config", "rm", "finetune:apiKey")

    result = project.up(check=False)

    assert_reads_like_pulumi(
        result, "no API key", "pulumi config set --secret finetune:apiKey", ep.url
    )


def test_up_with_a_wrong_key_shows_the_401_code_request_id_and_fix(ep, make_project):
    project = make_project(ep)
    project.write(PROGRAM)
    project.pulumi("config", "set", "--secret", "finetune:apiKey", "sk-not-the-key")

    result = project.up(check=False)

    assert_reads_like_pulumi(
        result,
        "AuthenticationError",
        "HTTP 401",
        "invalid_api_key",
        "request id req_",
        f"Unable to upload the training file at {ep.url}",
        "Fix: set a key valid for",
    )
    assert "sk-not-the-key" not in result.output


def test_up_out_of_quota_shows_the_message_code_and_fix(ep, make_project):
    project = make_project(ep)
    project.write(PROGRAM)
    ep.server.add_fault(UPLOAD, "insufficient_quota", times=5)

    result = project.up(check=False)

    assert_reads_like_pulumi(
        result, QUOTA_MESSAGE, "insufficient_quota", "request id req_", "out of credit"
    )


def test_up_against_an_unreachable_endpoint_names_its_base_url(ep, make_project):
    project = make_project(ep)
    project.write(PROGRAM)
    unreachable = closed_port_url()
    project.pulumi("config", "set", "finetune:baseUrl", unreachable)

    result = project.up(check=False)

    assert_reads_like_pulumi(result, f"at {unreachable}: POST /files: connection failed")


# -- pulumi refresh ---------------------------------------------------------------------------


@pytest.fixture
def deployed(ep: Endpoint, make_project: Any) -> Project:
    """A stack whose key and endpoint come from the environment (as in CI): refresh uses
    whatever the environment holds then."""
    project = make_project(ep)
    project.pulumi("config", "rm", "finetune:apiKey")
    project.pulumi("config", "rm", "finetune:baseUrl")
    project.env.update(OPENAI_API_KEY=ep.key, OPENAI_BASE_URL=ep.url)
    project.write(PROGRAM)
    project.up()
    return project


def refresh(project: Project, **env: str | None) -> Result:
    saved = dict(project.env)
    for name, value in env.items():
        if value is None:
            project.env.pop(name, None)
        else:
            project.env[name] = value
    try:
        return project.pulumi("refresh", "--yes", "--skip-preview", check=False)
    finally:
        project.env = saved


def test_refresh_errors_show_message_and_fix_without_tracebacks(ep, deployed):
    missing = refresh(deployed, OPENAI_API_KEY=None)
    assert_reads_like_pulumi(missing, "Unable to refresh the training file", "no API key")
    assert "Unable to refresh the fine-tuning job" in missing.output

    wrong = refresh(deployed, OPENAI_API_KEY="sk-not-the-key")
    assert_reads_like_pulumi(wrong, "HTTP 401", "invalid_api_key", "request id req_")
    assert "sk-not-the-key" not in wrong.output

    ep.server.add_fault(RETRIEVE_FILE, "insufficient_quota")
    ep.server.add_fault(RETRIEVE_JOB, "insufficient_quota")
    quota = refresh(deployed)
    ep.server.clear_faults()
    assert_reads_like_pulumi(quota, QUOTA_MESSAGE, "insufficient_quota", "request id req_")

    # The settings now name another origin (where nothing listens): the file and job living at
    # the recorded one are not asked for there; their state is kept and the refresh says so.
    elsewhere = closed_port_url()
    moved = refresh(deployed, OPENAI_BASE_URL=elsewhere)
    assert moved.returncode == 0 and "Traceback" not in moved.output, moved.output
    assert moved.output.count("was not read") >= 2 and elsewhere.rsplit("/", 1)[0] in moved.output

    assert refresh(deployed).returncode == 0  # nothing above changed the state
