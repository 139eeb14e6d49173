"""A stack's fine-tuning jobs and connection config, read with the `pulumi` CLI.

For commands a user runs beside their stacks (`pulumi-finetune watch --stack dev`); the provider
never runs the CLI (it gets everything from its inputs and configuration).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StackError

JOB_TYPE_SUFFIX = "finetune:FineTuningJob"
_TIMEOUT = 120.0


@dataclass(frozen=True)
class StackJob:
    """A FineTuningJob recorded in a stack's state: its resource name and job id."""

    name: str
    job_id: str


def _pulumi(args: list[str], *, stack: str, cwd: str | Path | None) -> Any:
    command = ["pulumi", *args, "--stack", stack, "--non-interactive"]
    if cwd is not None:
        command += ["--cwd", str(cwd)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT)
    except FileNotFoundError:
        raise StackError(
            "the pulumi CLI is not on PATH (it reads the stack's jobs); give job ids instead"
        ) from None
    except subprocess.TimeoutExpired:
        raise StackError(f"`pulumi {args[0]} {args[1]}` did not finish in {_TIMEOUT:g} s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise StackError(
            f"`pulumi {' '.join(args[:2])} --stack {stack}` failed: " + " ".join(detail)
        )
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise StackError(f"`pulumi {' '.join(args[:2])}` printed no JSON") from None


def stack_jobs(stack: str, cwd: str | Path | None = None) -> list[StackJob]:
    """The stack's FineTuningJobs, in state order; an old job pending deletion is left out."""
    exported = _pulumi(["stack", "export"], stack=stack, cwd=cwd)
    resources = (exported.get("deployment") or {}).get("resources") or []
    return [
        StackJob(name=str(r["urn"]).rsplit("::", 1)[-1], job_id=str(r["id"]))
        for r in resources
        if str(r.get("type", "")).endswith(JOB_TYPE_SUFFIX) and r.get("id") and not r.get("delete")
    ]


def stack_config(stack: str, cwd: str | Path | None = None) -> dict[str, str]:
    """The stack's config as `{"finetune:baseUrl": value, ...}`, secrets decrypted (the key)."""
    config = _pulumi(["config", "--json", "--show-secrets"], stack=stack, cwd=cwd)
    return {
        key: str(entry["value"])
        for key, entry in config.items()
        if isinstance(entry, dict) and isinstance(entry.get("value"), str)
    }
