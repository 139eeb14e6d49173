"""The steps of a GitOps pipeline for fine-tuning jobs: `pr`, `merge`, `drift` and `lifecycle`.

    python gitops.py pr        [--cwd DIR] [--stack S] [--base REF | --data FILE ...] [--refresh]
    python gitops.py merge     [--cwd DIR] [--stack S]
    python gitops.py drift     [--cwd DIR] [--stack S]
    python gitops.py lifecycle [--cwd DIR] [--stack S] [--days N]

`pr` validates every changed data file with `pulumi-finetune validate` (all errors of all
files in one run) and runs `pulumi preview --diff --json`; it writes a short Markdown summary to
`$GITHUB_STEP_SUMMARY` (stdout when unset): the jobs to create or replace with each job's billed
tokens and estimated cost, the data errors, and for each replacement what happens to the old
job. It fails when any data file has errors or the preview fails. `merge` runs `pulumi up`.
`drift` runs `pulumi preview --refresh --expect-no-changes` and fails when the live jobs differ
from the program (e.g. a job cancelled outside Pulumi). `lifecycle` fails when the fine-tuned
model of a job the stack manages stops serving within `--days` (default 30) because its base
model retires on its host (the job's `model_retires_on`, as `pulumi preview` computes it from
pulumi-finetune's dated table and the stack's `finetune:lifecycle`; no API call), listing each
such job with its model, host and date. `PULUMI_FINETUNE_TODAY` (YYYY-MM-DD) sets "today".

Only the `pulumi` and `pulumi-finetune` commands are used (from PATH; `PULUMI` names another
`pulumi`), so it runs the same on a laptop and in CI. The workflow: `workflow.yml`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

JOB_TYPE = "finetune:FineTuningJob"
FINISHED = ("succeeded", "failed", "cancelled")
NOT_TRAINING_YET = ("validating_files", "queued")
STARTS_A_JOB = ("create", "replace", "create-replacement")
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__"}


# -- running commands ---------------------------------------------------------------------------


def pulumi(args: Sequence[str], opts: argparse.Namespace) -> subprocess.CompletedProcess[str]:
    command = [os.environ.get("PULUMI", "pulumi"), *args, "--non-interactive"]
    if opts.stack:
        command += ["--stack", opts.stack]
    return subprocess.run(command, cwd=opts.cwd, capture_output=True, text=True, check=False)


def validator() -> list[str]:
    found = shutil.which("pulumi-finetune")
    return [found] if found else [sys.executable, "-m", "pulumi_finetune.cli"]


def echo(result: subprocess.CompletedProcess[str]) -> None:
    """The command's own output, for the CI log."""
    sys.stderr.write(result.stdout + result.stderr)


def write_summary(markdown: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    else:
        sys.stdout.write(markdown + "\n")


# -- data files ---------------------------------------------------------------------------------


@dataclass
class DataReport:
    file: str
    ok: bool
    examples: int = 0
    tokens: int | None = None
    errors: list[str] = field(default_factory=list)


def changed_data_files(opts: argparse.Namespace) -> list[Path]:
    """The data files to check: those named, those changed since `--base`, or all of them."""
    root = Path(opts.cwd).resolve()
    if opts.data:
        return [Path(name).resolve() for name in opts.data]
    if opts.base:
        listed = subprocess.run(
            ["git", "diff", "--name-only", "--diff-filter=d", f"{opts.base}...HEAD", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return [Path(top, name) for name in listed.splitlines() if name.endswith(".jsonl")]
    return sorted(
        path
        for path in root.rglob("*.jsonl")
        if not SKIPPED_DIRS & set(path.relative_to(root).parts)
    )


def validate(path: Path, root: Path, model: str | None) -> DataReport:
    shown = os.path.relpath(path, root)
    command = [*validator(), "validate", str(path), "--json"]
    if model:
        command += ["--model", model]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        return DataReport(shown, False, errors=[f"`{shown}`: {result.stderr.strip()}"])
    report = json.loads(result.stdout)
    errors = []
    for issue in report["errors"]:
        where = f"{shown}:{issue['line']}" if issue["line"] else shown
        errors.append(f"`{where}` {issue['path']}: {issue['message']}")
    more = report["error_count"] - len(report["errors"])
    if more > 0:
        errors.append(f"`{shown}`: … and {more} more errors")
    return DataReport(shown, report["ok"], report["example_count"], report["total_tokens"], errors)


# -- the plan -----------------------------------------------------------------------------------


@dataclass
class JobChange:
    name: str
    op: str
    reasons: list[str]
    epochs: int | None
    tokens: int | None
    cost: float | None
    note: str
    old: dict[str, Any]


def job_changes(plan: dict[str, Any]) -> list[JobChange]:
    """The FineTuningJobs the plan creates or replaces."""
    changes = []
    for step in plan.get("steps") or []:
        op = step.get("op")
        if JOB_TYPE not in str(step.get("urn", "")) or op not in STARTS_A_JOB:
            continue
        inputs = (step.get("newState") or {}).get("inputs") or {}
        changes.append(
            JobChange(
                name=step["urn"].rsplit("::", 1)[-1],
                op="replace" if op == "create-replacement" else op,
                reasons=list(step.get("replaceReasons") or []),
                epochs=inputs.get("estimated_epochs"),
                tokens=inputs.get("estimated_billed_tokens"),
                cost=inputs.get("estimated_cost_usd"),
                note=str(inputs.get("estimated_cost_note") or ""),
                old=(step.get("oldState") or {}).get("outputs") or {},
            )
        )
    return sorted(changes, key=lambda change: change.name)


def fate_of_old_job(old: dict[str, Any]) -> str:
    """What the replacement does to the job it replaces (as its state records it)."""
    job_id = old.get("job_id") or "?"
    status = old.get("status") or "unknown"
    on_destroy = old.get("on_destroy") or "cancel"
    if on_destroy == "keep":
        return f"old job `{job_id}` (`{status}`) is left as it is (`on_destroy: keep`)"
    if status in FINISHED:
        kept = f"old job `{job_id}` has `{status}`: it is kept"
        model = old.get("fine_tuned_model")
        if status == "succeeded" and model and on_destroy == "delete_model":
            return f"old job `{job_id}` has succeeded: its model `{model}` is **deleted**"
        return kept + (f", with its model `{model}`" if model else "")
    if status in NOT_TRAINING_YET:
        return (
            f"old job `{job_id}` is `{status}`: it is **cancelled** once the new job starts "
            "(it has not trained yet)"
        )
    step = (old.get("metrics") or {}).get("step")
    so_far = f" (step {int(step)})" if isinstance(step, int | float) and step else ""
    return (
        f"old job `{job_id}` is `{status}`: it is **cancelled** once the new job starts, and "
        f"its training so far{so_far} is lost"
    )


def money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def diagnostics(plan: dict[str, Any]) -> list[str]:
    lines = []
    for diag in plan.get("diagnostics") or []:
        message = str(diag.get("message", "")).strip()
        if diag.get("severity") == "error" and "Resource monitor has terminated" not in message:
            lines.append(message.removeprefix("error: "))
    return lines


def read_plan(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        plan: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"diagnostics": [{"severity": "error", "message": result.stderr.strip()}]}
    return plan


# -- the summary --------------------------------------------------------------------------------


def summary(stack: str, reports: list[DataReport], plan: dict[str, Any], ok: bool) -> str:
    out = [f"## Fine-tuning preview{f' ({stack})' if stack else ''}: {'✅' if ok else '❌'}", ""]
    if reports:
        out += ["### Data", "", "| file | examples | tokens | result |", "|---|---:|---:|---|"]
        for r in reports:
            result = "valid" if r.ok else f"**{len(r.errors)} error(s)**"
            out.append(f"| `{r.file}` | {r.examples:,} | {count(r.tokens)} | {result} |")
        errors = [error for r in reports for error in r.errors]
        if errors:
            out += ["", "Data errors:", *[f"- {error}" for error in errors]]
        out.append("")
    changes = job_changes(plan)
    if changes:
        out += [
            "### Jobs to start",
            "",
            "| job | change | epochs | billed tokens | est. cost (USD) |",
            "|---|---|---:|---:|---:|",
        ]
        for c in changes:
            why = f" ({', '.join(c.reasons)})" if c.reasons else ""
            out.append(
                f"| `{c.name}` | {c.op}{why} | {count(c.epochs)} | {count(c.tokens)} "
                f"| {money(c.cost)} |"
            )
        tokens = [c.tokens for c in changes if c.tokens is not None]
        costs = [c.cost for c in changes if c.cost is not None]
        out.append(
            f"| **total** ({len(changes)} jobs) | | | {count(sum(tokens) if tokens else None)} "
            f"| {money(sum(costs) if costs else None)} |"
        )
        notes = sorted({c.note for c in changes if c.note})
        out += ["", *[f"- {note}" for note in notes]]
        replaced = [c for c in changes if c.op == "replace"]
        if replaced:
            out += ["", "### Replacements", ""]
            out += [f"- `{c.name}`: {fate_of_old_job(c.old)}" for c in replaced]
        out.append("")
    elif not diagnostics(plan):
        out += ["No fine-tuning job to start.", ""]
    errors = diagnostics(plan)
    if errors:
        out += ["### Preview errors", "", *[f"- {error}" for error in errors], ""]
    return "\n".join(out)


# -- the commands -------------------------------------------------------------------------------


def pr(opts: argparse.Namespace) -> int:
    root = Path(opts.cwd).resolve()
    reports = [validate(path, root, opts.model) for path in changed_data_files(opts)]
    for report in reports:
        print(f"{report.file}: {'valid' if report.ok else 'INVALID'}", file=sys.stderr)
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
    preview = pulumi(
        ["preview", "--diff", "--json", *(["--refresh"] if opts.refresh else [])], opts
    )
    echo(preview)
    plan = read_plan(preview)
    ok = preview.returncode == 0 and all(r.ok for r in reports)
    write_summary(summary(opts.stack, reports, plan, ok))
    return 0 if ok else 1


def merge(opts: argparse.Namespace) -> int:
    up = pulumi(["up", "--yes", "--diff"], opts)
    echo(up)
    tail = up.stdout.split("Resources:", 1)[-1].strip().splitlines()[:6]
    verdict = "applied ✅" if up.returncode == 0 else "failed ❌"
    write_summary("\n".join([f"## pulumi up: {verdict}", "", "```", *tail, "```", ""]))
    return up.returncode


def drift(opts: argparse.Namespace) -> int:
    check = pulumi(["preview", "--refresh", "--expect-no-changes", "--diff", "--json"], opts)
    echo(check)
    plan = read_plan(check)
    drifted = [
        (step["urn"].rsplit("::", 1)[-1], step["op"], ", ".join(step.get("replaceReasons") or []))
        for step in plan.get("steps") or []
        if step.get("op") not in ("same", "read", "refresh") and "urn" in step
    ]
    if check.returncode == 0:
        write_summary("## Drift check: ✅ the jobs are as the program declares\n")
        return 0
    lines = ["## Drift check: ❌ the live jobs differ from the program", ""]
    lines += [
        f"- `{name}`: {op}{f' ({reasons})' if reasons else ''}" for name, op, reasons in drifted
    ]
    lines += [f"- {error}" for error in diagnostics(plan)]
    lines += ["", "Run `pulumi up` to restore them (a cancelled job is started again, billed)."]
    write_summary("\n".join(lines) + "\n")
    return check.returncode or 1


@dataclass
class Retirement:
    name: str
    model: str
    host: str
    day: date


def today() -> date:
    value = os.environ.get("PULUMI_FINETUNE_TODAY", "").strip()
    return date.fromisoformat(value) if value else datetime.now(UTC).date()


def retirements(plan: dict[str, Any]) -> list[Retirement]:
    """The managed jobs (recorded in state) whose model has a retirement date."""
    found = []
    for step in plan.get("steps") or []:
        old = (step.get("oldState") or {}).get("outputs") or {}
        new = (step.get("newState") or {}).get("inputs") or {}
        if JOB_TYPE not in str(step.get("urn", "")) or not old.get("job_id"):
            continue
        day = new.get("model_retires_on") or old.get("model_retires_on")
        if not isinstance(day, str) or not day:
            continue
        model = old.get("fine_tuned_model") or f"{old.get('model')} (not trained yet)"
        host = str(new.get("host") or old.get("host") or "?")
        found.append(
            Retirement(step["urn"].rsplit("::", 1)[-1], model, host, date.fromisoformat(day))
        )
    return sorted(found, key=lambda r: (r.day, r.name))


def lifecycle(opts: argparse.Namespace) -> int:
    check = pulumi(["preview", "--json", "--show-sames"], opts)
    plan = read_plan(check)
    if check.returncode != 0:
        echo(check)
        lines = ["## Model lifecycle: ❌ the preview failed", ""]
        lines += [f"- {error}" for error in diagnostics(plan)]
        write_summary("\n".join(lines) + "\n")
        return 1
    now = today()
    soon = [r for r in retirements(plan) if (r.day - now).days <= opts.days]
    if not soon:
        write_summary(f"## Model lifecycle: ✅ no managed model retires within {opts.days} days\n")
        return 0
    lines = [
        f"## Model lifecycle: ❌ models that stop serving within {opts.days} days",
        "",
        "| job | model | host | retires on | days left |",
        "|---|---|---|---|---:|",
    ]
    lines += [
        f"| `{r.name}` | `{r.model}` | {r.host} | {r.day.isoformat()} | {(r.day - now).days} |"
        for r in soon
    ]
    lines += [
        "",
        "A fine-tuned model stops serving when its base model retires on its host. Move the job "
        "to another host (changing `finetune:baseUrl`/`finetune:host` replaces it; the old model "
        "serves until the new job succeeds) or to another base model. If a date is wrong, "
        "override it: `pulumi config set --path 'finetune:lifecycle.<host>.models[\"<model>\"]' "
        "YYYY-MM-DD`.",
    ]
    write_summary("\n".join(lines) + "\n")
    for r in soon:
        print(f"{r.name}: {r.model} on {r.host} retires on {r.day}", file=sys.stderr)
    return 1


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("pr", "merge", "drift", "lifecycle"):
        command = sub.add_parser(name)
        command.add_argument("--cwd", default=".", help="the Pulumi project's directory")
        command.add_argument("--stack", default="", help="the stack (default: selected one)")
        if name == "pr":
            command.add_argument("--base", help="git ref: check the data files changed since")
            command.add_argument("--data", nargs="*", help="data files to check (default: all)")
            command.add_argument("--model", help="check the data against this base model")
            command.add_argument(
                "--refresh", action="store_true", help="read live job status before previewing"
            )
        if name == "lifecycle":
            command.add_argument(
                "--days", type=int, default=30, help="fail for a retirement within N days"
            )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    steps = {"pr": pr, "merge": merge, "drift": drift, "lifecycle": lifecycle}
    return steps[opts.command](opts)


if __name__ == "__main__":
    sys.exit(main())
