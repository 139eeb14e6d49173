"""Every earlier guarantee on every flavor of the local endpoint (OpenAI, Azure, Nebius, Amazon
Bedrock, Together AI), on both faces (the Python program through the dynamic provider, the same
resources in YAML through the provider plugin), under the real pulumi CLI: one job on `up`, no
request on a no-op preview, no drift after a refresh, a refusal in preview naming the property
and the host with no request and no traceback, the wind-down check as the lifecycle table says,
and a destroy that leaves a succeeded job alone."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune import hosts, lifecycle
from pulumi_finetune.local.testing import Project, engine_dir
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir
from pulumi_finetune.plugin.values import camel

from .test_every_host_keeps import FLAVORS, JOBS, SUCCEEDED, Host, flavored_endpoints, program
from .test_job_lifecycle import assert_no_changes

FACES: dict[str, tuple[type[Project], Callable[[], Path]]] = {
    "python": (Project, engine_dir),
    "plugin": (PluginProject, language_hosts_dir),
}
LEARNING_RATES = ("learning_rate", "learning_rate_multiplier")
CASES = [pytest.param(flavor, face, id=f"{flavor}-{face}") for flavor in FLAVORS for face in FACES]


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """These flavors answer in their hosts' shapes, not OpenAI's: no OpenAI schema check."""
    yield None


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Host]]:
    """One endpoint per flavor, its clock sped up: a waited job finishes in a poll or two."""
    with flavored_endpoints(tmp_path_factory, clock_speed=500.0) as made:
        yield made


@pytest.fixture(scope="module")
def engines() -> dict[str, Path]:
    return {face: find() for face, (_, find) in FACES.items()}


def output(project: Project, name: str, key: str) -> Any:
    """A resource's output in state, whichever face wrote it (snake_case or camelCase)."""
    outputs = project.resource_outputs(name)
    return outputs.get(key, outputs.get(camel(key)))


def jobs_of(host: Host, project: Project) -> list[dict[str, Any]]:
    """The jobs at the endpoint started from this project's training file."""
    (data,) = [r["id"] for r in project.state_resources() if r["urn"].endswith("::data")]
    return [job for job in host.jobs() if job["training_file"] == data]


def refused_learning_rate(row: hosts.Host) -> str:
    """The learning rate (absolute or multiplier) the host's row does not take."""
    (name,) = [n for n in LEARNING_RATES if n not in row.hyperparameters]
    return name


def past_the_table() -> date:
    """A day after every date the lifecycle table knows."""
    days = [r.jobs_end for r in lifecycle.HOST_ROWS]
    days += [d for r in lifecycle.MODEL_ROWS for d in (r.jobs_end, r.retires_on) if d]
    return max(date.fromisoformat(d) for d in days) + timedelta(days=1)


@pytest.mark.parametrize(("flavor", "face"), CASES)
def test_every_guarantee_holds_on_each_flavor_and_face(
    endpoints: dict[str, Host], engines: dict[str, Path], tmp_path: Path, flavor: str, face: str
) -> None:
    host = endpoints[flavor]
    job, data = JOBS[flavor]
    make, _ = FACES[face]
    project = make(
        root=tmp_path,
        engine=engines[face],
        endpoint_url=host.url,
        api_key=host.key,
        config={"finetune:host": flavor},
    )
    shutil.copy(data, project.dir / "train.jsonl")
    waited = {**job, "wait_for_completion": True}
    row = hosts.by_name(flavor)
    assert row is not None
    try:
        # 1. one job, waited on to the end
        project.write(program(**waited))
        host.server.reset_stats()
        up = project.up()
        assert "Traceback" not in up.output
        assert host.posts() == 1
        (started,) = jobs_of(host, project)
        assert output(project, "bot", "status") == "succeeded"
        assert output(project, "bot", "result_model")
        assert started["status"] == SUCCEEDED.get(flavor, "succeeded")

        # 2. a no-op preview: nothing to do, no request
        host.server.reset_stats()
        assert_no_changes(project.preview().stdout)
        assert host.server.stats()["requests"] == 0, host.server.stats()

        # 3. a refresh reads what the host returns, and that is no drift
        assert_no_changes(project.refresh().stdout)
        assert output(project, "bot", "status") == "succeeded"
        host.server.reset_stats()
        assert_no_changes(project.preview().stdout)
        assert host.server.stats()["requests"] == 0, host.server.stats()

        # 4. what the host does not take is refused in preview, with no request
        name = refused_learning_rate(row)
        project.write(program(**waited, hyperparameters={name: 0.5}))
        refused = project.preview(check=False)
        assert refused.returncode != 0
        assert f"hyperparameters.{name}" in refused.output, refused.output
        assert f"{row.title} does not take `{name}`" in refused.output, refused.output
        assert "Traceback" not in refused.output
        assert host.server.stats()["requests"] == 0, host.server.stats()

        # 5. the wind-down check on a new job, as the lifecycle table says for this host
        ends = lifecycle.jobs_end(flavor, str(job["model"]))
        today = date.fromisoformat(ends.day) + timedelta(days=1) if ends else past_the_table()
        project.env[lifecycle.CLOCK_ENV] = today.isoformat()
        both = program(**waited)
        both["jobs"]["next"] = {**job, "training_file": "@data"}
        project.write(both)
        wound = project.preview(check=not ends)
        assert "Traceback" not in wound.output
        if ends:
            assert wound.returncode != 0
            assert f"{row.title} takes no new fine-tuning jobs" in wound.output, wound.output
            assert f"since {ends.day}" in wound.output, wound.output
        else:
            assert "1 to create" in wound.stdout, wound.output
        assert host.server.stats()["requests"] == 0, host.server.stats()
        del project.env[lifecycle.CLOCK_ENV]

        # 6. destroy: a succeeded job is left alone (on_destroy's default cancels only a
        # running one)
        project.write(program(**waited))
        project.destroy()
        assert not [r for r in project.state_resources() if r["type"].endswith("FineTuningJob")]
        (after,) = [j for j in host.jobs() if j["id"] == started["id"]]
        assert after["status"] == started["status"]
    finally:
        project.cleanup()
