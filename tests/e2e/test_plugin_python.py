"""A Python program through the provider plugin (README: "From Python"): the resources declared
by their type, no second copy of the classes; one job waited for, then no churn."""

from __future__ import annotations

from pathlib import Path

from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

from .conftest import DATASET, MODEL, Endpoint

PROGRAM = f"""
import pulumi

data = pulumi.CustomResource("finetune:index:TrainingFile", "data", {{"path": "train.jsonl"}})
job = pulumi.CustomResource(
    "finetune:index:FineTuningJob", "support-bot",
    {{"model": "{MODEL}", "trainingFile": data.id, "waitForCompletion": True,
     "fineTunedModel": None}},
)
pulumi.export("model", getattr(job, "fineTunedModel"))
"""


def test_a_python_program_waits_for_a_job_through_the_plugin(
    fast_endpoint: Endpoint, tmp_path: Path
) -> None:
    project = PluginProject(
        root=tmp_path,
        engine=language_hosts_dir(),
        endpoint_url=fast_endpoint.url,
        api_key=fast_endpoint.key,
        runtime="python",
        program=PROGRAM,
    )
    (project.dir / "train.jsonl").write_bytes(DATASET.read_bytes())
    before = fast_endpoint.api.stats()["by_route"].get("POST /v1/fine_tuning/jobs", 0)

    project.up()
    assert project.outputs()["model"].startswith(f"ft:{MODEL}:")
    after = fast_endpoint.api.stats()["by_route"].get("POST /v1/fine_tuning/jobs", 0)
    assert after - before == 1
    types = {r["type"] for r in project.state_resources()}
    assert "finetune:index:FineTuningJob" in types and not any("dynamic" in t for t in types)

    fast_endpoint.api.reset_stats()
    assert "3 unchanged" in project.up().stdout
    assert fast_endpoint.api.stats()["requests"] == 0
    project.cleanup()
