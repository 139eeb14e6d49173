"""Quickstart: upload a small chat dataset and fine-tune gpt-4o-mini on it.

Runs against the local endpoint by default (`scripts/quickstart.sh` starts it and sets
finetune:baseUrl and finetune:apiKey); point it at OpenAI with the config shown in README.md.
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "gpt-4o-mini-2024-07-18"
here = Path(__file__).parent

data = TrainingFile("support-data", path=str(here / "data" / "support.jsonl"), model=MODEL)

job = FineTuningJob(
    "support-bot",
    model=MODEL,
    training_file=data.id,
    suffix="support",
    method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    metadata={"team": "support"},
    wait_for_completion=True,
    wait_timeout_seconds=600,
)

pulumi.export("training_file", data.id)
# The job's own estimate, at its 3 epochs (known in `pulumi preview`); the file's estimate
# assumes OpenAI's default epochs for 12 examples, not this job's.
pulumi.export("estimated_billed_tokens", job.estimated_billed_tokens)
pulumi.export("estimated_cost_usd", job.estimated_cost_usd)
pulumi.export("job", job.id)
pulumi.export("status", job.status)
pulumi.export("model", job.fine_tuned_model)
pulumi.export("trained_tokens", job.trained_tokens)  # what the endpoint bills, once it finished
