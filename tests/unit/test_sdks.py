"""The committed SDKs (sdk/) are what Pulumi's generators make of the plugin's schema today, and a
row added to a table, or a host's new hyperparameter, reaches all three SDKs typed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_finetune import hosts, spec
from pulumi_finetune.plugin import schema as package
from pulumi_finetune.schema import FINE_TUNING_JOB, TRAINING_FILE, Attribute, Change, Kind

REPO = Path(__file__).resolve().parents[2]


def sdkgen() -> Path:
    script = REPO / "scripts" / "install-sdkgen.sh"
    out = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def test_the_committed_sdks_are_a_fresh_generation() -> None:
    check = subprocess.run(
        ["bash", str(REPO / "scripts" / "gen-sdks.sh"), "--check"],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert check.returncode == 0, check.stderr  # names the stale files and the fix
    committed = json.loads((REPO / "sdk" / "schema.json").read_text())
    assert committed == package.package_schema()


def test_a_new_row_and_a_new_host_hyperparameter_reach_all_three_sdks_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = Attribute("learning_budget", Kind.OPTION, Change.UPDATE, "a new option", type="integer")
    newcomer = hosts.Host("newcomer", "Newcomer AI", hyperparameters=("warmup_steps",))
    monkeypatch.setattr(hosts, "HOSTS", (*hosts.HOSTS, newcomer))
    monkeypatch.setitem(spec.HYPERPARAMETER_KINDS, "warmup_steps", (int,))
    grown = package.package_schema((FINE_TUNING_JOB.with_rows(row), TRAINING_FILE))
    (tmp_path / "schema.json").write_text(json.dumps(grown))
    subprocess.run([str(sdkgen()), str(tmp_path / "schema.json"), str(tmp_path)], check=True)

    def text(path: str) -> str:
        return (tmp_path / path).read_text()

    assert "learningBudget?: pulumi.Input<number | undefined>;" in text("nodejs/fineTuningJob.ts")
    assert "\tLearningBudget pulumi.IntPtrInput\n" in text("go/finetune/fineTuningJob.go")
    python = text("python/pulumi_finetune_sdk/fine_tuning_job.py")
    assert "learning_budget: pulumi.Input[Optional[_builtins.int]] = None" in python

    assert "warmup_steps?: pulumi.Input<number | undefined>;" in text("nodejs/types/input.ts")
    assert '\tWarmup_steps pulumi.IntPtrInput `pulumi:"warmup_steps"`' in text(
        "go/finetune/pulumiTypes.go"
    )
    assert "warmup_steps: pulumi.Input[Optional[_builtins.int]] = None" in text(
        "python/pulumi_finetune_sdk/_inputs.py"
    )
    # ... and not in what is committed today (the test would pass for nothing otherwise)
    assert "learningBudget" not in (REPO / "sdk" / "nodejs" / "fineTuningJob.ts").read_text()
