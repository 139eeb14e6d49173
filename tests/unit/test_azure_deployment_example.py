"""examples/azure-deployment cannot run here (the azure-native plugin cannot be fetched
offline); what can be checked is: it is valid Python that hands `result_model` to the
deployment and the key to a provider, never to a resource; with the pulumi-azure-native SDK
installed, it type-checks (mypy --strict) against that SDK."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "azure-deployment" / "__main__.py"


def test_the_deployment_serves_the_jobs_result_model() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    calls = {ast.unparse(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
    model = calls["cognitiveservices.DeploymentModelArgs"]
    assert {k.arg: ast.unparse(k.value) for k in model.keywords}["name"] == "job.result_model"
    provider = {k.arg for k in calls["host_provider"].keywords}
    assert {"api_key", "base_url", "host"} <= provider
    job = {k.arg: ast.unparse(k.value) for k in calls["FineTuningJob"].keywords}
    assert "api_key" not in job and job["opts"] == "on_azure"


@pytest.mark.skipif(
    importlib.util.find_spec("pulumi_azure_native") is None,
    reason="the pulumi-azure-native SDK is not installed",
)
def test_it_type_checks_against_the_azure_native_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout
