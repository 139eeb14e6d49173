"""A TypeScript program through the provider plugin, under the real pulumi CLI: it typechecks
against the SDK, creates one job, makes no request when unchanged, refreshes honestly, and its
destroy cancels the running job."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_finetune.plugin import typescript
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

from .conftest import DATASET, REPO, Endpoint

EXAMPLE = REPO / "examples" / "typescript"
NODE_SCRIPT = REPO / "scripts" / "install-node-modules.sh"
POSTS = "POST /v1/fine_tuning/jobs"


def node_modules() -> Path:
    out = subprocess.run(["bash", str(NODE_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / "node_modules"


@pytest.fixture
def project(ep: Endpoint, tmp_path: Path) -> Iterator[PluginProject]:
    example = (EXAMPLE / "index.ts").read_text()
    program = example.replace("waitForCompletion: true", "waitForCompletion: false")
    made = PluginProject(
        root=tmp_path,
        engine=language_hosts_dir(),
        endpoint_url=ep.url,
        api_key=ep.key,
        runtime="nodejs",
        program=program,
        # The program is typechecked once below, with tsc; the runs only transpile it.
        env={"PULUMI_NODEJS_TRANSPILE_ONLY": "true"},
    )
    for name in ("tsconfig.json", "package.json"):
        (made.dir / name).write_bytes((EXAMPLE / name).read_bytes())
    typescript.main([str(made.dir / "finetune.ts")])  # as the README says to render it
    (made.dir / "data").mkdir()
    (made.dir / "data" / "train.jsonl").write_bytes(DATASET.read_bytes())
    (made.dir / "node_modules").symlink_to(node_modules())
    yield made
    made.cleanup()


def test_typescript_program_one_job_no_churn_refresh_and_destroy_cancels(
    ep: Endpoint, project: PluginProject
) -> None:
    tsc = project.dir / "node_modules" / ".bin" / "tsc"
    typed = subprocess.run([str(tsc), "--noEmit"], cwd=project.dir, capture_output=True, text=True)
    assert typed.returncode == 0, typed.stdout + typed.stderr

    project.up()
    assert ep.api.stats()["by_route"].get(POSTS, 0) == 1
    outputs = project.outputs()
    assert outputs["jobId"].startswith("ftjob-") and outputs["estimatedCostUsd"] > 0

    ep.api.reset_stats()
    again = project.up()
    assert ep.api.stats()["requests"] == 0, ep.api.stats()
    assert "3 unchanged" in again.stdout, again.stdout

    project.refresh()
    job = ep.api.get(f"fine_tuning/jobs/{outputs['jobId']}")
    assert project.resource_outputs("support-bot")["status"] == job["status"] != "cancelled"

    project.destroy()
    assert ep.api.get(f"fine_tuning/jobs/{outputs['jobId']}")["status"] == "cancelled"
