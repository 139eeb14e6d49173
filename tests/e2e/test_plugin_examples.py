"""Each plugin example under the real pulumi CLI, as its README runs it, with the SDK generated in
this clone: TypeScript (sdk/nodejs), Go (sdk/go), Python (sdk/python) and YAML. Each typechecks
(`tsc --strict`, `go vet`, `mypy --strict`), creates one job, makes no request when unchanged,
refreshes honestly, and its destroy cancels the running job."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

from .conftest import DATASET, REPO, Endpoint

EXAMPLES = REPO / "examples"
NODE_SCRIPT = REPO / "scripts" / "install-node-modules.sh"
POSTS = "POST /v1/fine_tuning/jobs"
# The examples wait for their job; here it keeps running so that destroy has one to cancel.
NO_WAIT = {
    "typescript": ("waitForCompletion: true", "waitForCompletion: false"),
    "go": ("WaitForCompletion: pulumi.Bool(true)", "WaitForCompletion: pulumi.Bool(false)"),
    "python-plugin": ("wait_for_completion=True", "wait_for_completion=False"),
    "yaml": ("waitForCompletion: true", "waitForCompletion: false"),
}


@dataclass(frozen=True)
class Example:
    name: str
    runtime: str
    main: str
    files: tuple[str, ...] = ()

    def program(self, wait: bool = False) -> str:
        """The example's program; unless `wait`, one that does not wait for its job."""
        text = (EXAMPLES / self.name / self.main).read_text()
        if self.runtime == "yaml":
            text = "resources:" + text.split("\nresources:", 1)[1]
        old, new = NO_WAIT[self.name]
        assert old in text, (self.name, old)
        return text if wait else text.replace(old, new)


TYPESCRIPT = Example("typescript", "nodejs", "index.ts", ("tsconfig.json", "package.json"))
GO = Example("go", "go", "main.go", ("go.mod", "go.sum"))
PYTHON = Example("python-plugin", "python", "__main__.py")
YAML = Example("yaml", "yaml", "Pulumi.yaml")


def node_modules() -> Path:
    out = subprocess.run(["bash", str(NODE_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / "node_modules"


def _checked(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"


def prepare(example: Example, project: PluginProject) -> None:
    """The example's other files beside its program, and its language's set-up from its README;
    then its type check."""
    for name in example.files:
        (project.dir / name).write_bytes((EXAMPLES / example.name / name).read_bytes())
    (project.dir / "data").mkdir()
    (project.dir / "data" / "train.jsonl").write_bytes(DATASET.read_bytes())
    if example is TYPESCRIPT:
        (project.dir / "node_modules").symlink_to(node_modules())
        tsc = project.dir / "node_modules" / ".bin" / "tsc"
        _checked([str(tsc), "--strict", "--noEmit"], project.dir)
    elif example is GO:
        mod = project.dir / "go.mod"
        mod.write_text(mod.read_text().replace("=> ../../sdk/go", f"=> {REPO / 'sdk' / 'go'}"))
        _checked(["go", "vet", "./..."], project.dir)
    elif example is PYTHON:
        _checked(
            [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "__main__.py"],
            project.dir,
            {**os.environ, "MYPYPATH": str(REPO / "sdk" / "python")},
        )


def python_sdk(root: Path) -> Path:
    """sdk/python installed as its README says (`pip install ./sdk/python`), into `root/site`
    (from a copy: pip builds in the source tree)."""
    shutil.copytree(REPO / "sdk" / "python", root / "source")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    _checked([*pip, "--target", str(root / "site"), str(root / "source")], root)
    return root / "site"


def env_of(example: Example, tmp: Path) -> dict[str, str]:
    if example is TYPESCRIPT:  # typechecked once above, with tsc; the runs only transpile it
        return {"PULUMI_NODEJS_TRANSPILE_ONLY": "true"}
    if example is PYTHON:
        return {"PYTHONPATH": str(python_sdk(tmp))}
    return {}


@pytest.fixture(scope="module")
def hosts() -> Path:
    return language_hosts_dir()


@pytest.fixture
def make_project(hosts: Path, tmp_path: Path) -> Iterator[Callable[..., PluginProject]]:
    made: list[PluginProject] = []

    def make(endpoint: Endpoint, example: Example, wait: bool = False) -> PluginProject:
        project = PluginProject(
            root=tmp_path / example.name,
            engine=hosts,
            endpoint_url=endpoint.url,
            api_key=endpoint.key,
            runtime=example.runtime,
            program=example.program(wait),
            env=env_of(example, tmp_path),
        )
        made.append(project)
        prepare(example, project)
        return project

    yield make
    for project in made:
        project.cleanup()


def _requests(ep: Endpoint) -> dict[str, int]:
    by_route: dict[str, int] = ep.api.stats()["by_route"]
    ep.api.reset_stats()
    return by_route


@pytest.mark.parametrize("example", [TYPESCRIPT, GO, PYTHON, YAML], ids=lambda e: e.name)
def test_example_one_job_no_churn_refresh_and_destroy_cancels(
    ep: Endpoint, make_project: Callable[..., PluginProject], example: Example
) -> None:
    project = make_project(ep, example)
    ep.api.reset_stats()

    up = project.up()
    counts = {"up": _requests(ep)}
    assert counts["up"].get(POSTS, 0) == 1, counts
    assert counts["up"].get("POST /v1/files", 0) == 1, counts
    outputs = project.outputs()
    assert outputs["jobId"].startswith("ftjob-"), up.stdout
    assert outputs["estimatedCostUsd"] > 0 and outputs["status"] != "cancelled"

    again = project.up()
    counts["second up"] = _requests(ep)
    assert counts["second up"] == {}, counts
    assert "3 unchanged" in again.stdout, again.stdout

    job_path = f"fine_tuning/jobs/{outputs['jobId']}"
    before = ep.api.get(job_path)["status"]
    ep.api.reset_stats()
    project.refresh()
    counts["refresh"] = _requests(ep)
    assert not any(route.startswith("POST") for route in counts["refresh"]), counts
    after = ep.api.get(job_path)["status"]
    # what the endpoint said while refresh read it (the job runs on in real time meanwhile)
    recorded = project.resource_outputs("support-bot")["status"]
    assert recorded in {before, after} and "cancelled" not in {recorded, after}

    project.destroy()
    counts["destroy"] = _requests(ep)
    cancels = [n for route, n in counts["destroy"].items() if route.endswith("/cancel")]
    assert cancels == [1], counts
    assert ep.api.get(f"fine_tuning/jobs/{outputs['jobId']}")["status"] == "cancelled"
    print(f"\n{example.name}: requests by route: {json.dumps(counts)}")


@pytest.mark.parametrize("example", [TYPESCRIPT, GO, PYTHON, YAML], ids=lambda e: e.name)
def test_example_as_written_waits_and_exports_the_model_and_its_typed_metrics(
    fast_endpoint: Endpoint, make_project: Callable[..., PluginProject], example: Example
) -> None:
    project = make_project(fast_endpoint, example, wait=True)
    project.up()
    outputs = project.outputs()
    assert outputs["status"] == "succeeded"
    assert outputs["model"].startswith("ft:gpt-4o-mini-2024-07-18:")
    job = project.resource_outputs("support-bot")
    assert job["checkpoints"] and job["metrics"]["train_loss"] > 0
    if example is not YAML:  # read through the SDK's typed metrics output
        assert outputs["trainLoss"] == job["metrics"]["train_loss"]


def test_a_typo_in_a_nested_field_fails_the_yaml_preview_with_no_request(
    ep: Endpoint, make_project: Callable[..., PluginProject]
) -> None:
    project = make_project(ep, YAML)
    typo = YAML.program().replace("n_epochs: 3", "n_epoch: 3")
    project.write_program(typo)
    ep.api.reset_stats()
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert "Cannot assign '{n_epoch: number}'" in preview.output, preview.output
    assert "finetune:index:FineTuneSupervisedHyperparameters" in preview.output
    assert ep.api.stats()["requests"] == 0
