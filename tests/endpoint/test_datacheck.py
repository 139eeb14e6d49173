"""The endpoint checks training data with the package's validator, or does not start at all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pulumi_finetune


def test_endpoint_with_a_broken_validator_refuses_to_start(tmp_path: Path) -> None:
    # A copy of the package whose pulumi_finetune.datasets is caught mid-edit. Passing every
    # training file as valid would hide that; the endpoint must stop before it listens.
    package = Path(pulumi_finetune.__file__).parent
    site = tmp_path / "site"
    shutil.copytree(package, site / "pulumi_finetune", ignore=shutil.ignore_patterns("datasets"))
    broken = site / "pulumi_finetune" / "datasets" / "__init__.py"
    broken.parent.mkdir()
    broken.write_text("def validate_file(\n")
    command = [sys.executable, "-m", "pulumi_finetune.local", "--port", "0", "--key", "k"]
    command += ["--data-dir", str(tmp_path / "data")]
    try:
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env={"PYTHONPATH": str(site), "PATH": ""},
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the endpoint started without its validator: {exc.stdout!r}") from exc
    assert done.returncode != 0
    assert "listening" not in done.stdout
    assert f'File "{broken}"' in done.stderr and "SyntaxError" in done.stderr
