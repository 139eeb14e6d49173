"""Fine-tuning jobs from a platform's own code, through Pulumi's Automation API.

A self-service portal or an operator runs this instead of the `pulumi` CLI: an inline program
(no Pulumi.yaml, no __main__.py), the stack's settings and its secret key set through the API.

    python deploy.py up          # create (or keep) the job; prints the outputs
    python deploy.py preview     # what would change; no request to the endpoint
    python deploy.py refresh     # pick up the job's live status
    python deploy.py destroy     # cancel it if it still runs

Settings come from the environment of the process that runs it:
    FINETUNE_BASE_URL   the endpoint (default https://api.openai.com/v1)
    FINETUNE_API_KEY    its key (stored in the stack's config as a secret)
    FINETUNE_STACK      the stack (default "dev"); the backend is Pulumi's usual
                        PULUMI_BACKEND_URL (a bucket, a file:// directory or Pulumi Cloud)
    FINETUNE_DATA       the JSONL training file (default: data.jsonl beside this script)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pulumi
from pulumi import automation as auto

from pulumi_finetune import FineTuningJob, TrainingFile

HERE = Path(__file__).resolve().parent
PROJECT = "finetune-automation"


def program() -> None:
    data = TrainingFile(
        "support-data",
        path=os.environ.get("FINETUNE_DATA", str(HERE / "data.jsonl")),
        model="gpt-4o-mini-2024-07-18",
    )
    job = FineTuningJob(
        "support-bot",
        model="gpt-4o-mini-2024-07-18",
        training_file=data.id,
        suffix="portal",
        metadata={"requested_by": "platform-portal"},
    )
    pulumi.export("job_id", job.id)
    pulumi.export("status", job.status)
    pulumi.export("billed_tokens_estimate", job.estimated_billed_tokens)  # the job's epochs


def stack() -> auto.Stack:
    name = os.environ.get("FINETUNE_STACK", "dev")
    selected = auto.create_or_select_stack(name, project_name=PROJECT, program=program)
    base_url = os.environ.get("FINETUNE_BASE_URL")
    if base_url:
        selected.set_config("finetune:baseUrl", auto.ConfigValue(base_url))
    key = os.environ.get("FINETUNE_API_KEY")
    if key:
        selected.set_config("finetune:apiKey", auto.ConfigValue(key, secret=True))
    return selected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "preview", "refresh", "destroy"])
    action = parser.parse_args().action
    target = stack()
    echo = {"on_output": print}
    if action == "up":
        outputs = target.up(**echo).outputs
        for name, value in sorted(outputs.items()):
            print(f"{name}: {'[secret]' if value.secret else value.value}")
    elif action == "preview":
        print(target.preview(**echo).change_summary)
    elif action == "refresh":
        target.refresh(**echo)
    else:
        target.destroy(**echo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
