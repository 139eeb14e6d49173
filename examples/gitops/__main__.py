"""Fine-tuning jobs managed from git: a pull request that edits the data or the jobs is
previewed (data errors, jobs to start, their cost), merging applies it, and a scheduled run
reports drift. See README.md and workflow.yml; the pipeline's steps are gitops.py.
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "gpt-4o-mini-2024-07-18"
here = Path(__file__).parent

data = TrainingFile("support-data", path=str(here / "data" / "support.jsonl"), model=MODEL)

# Two variants on the same data; each previews its own billed tokens and cost.
for name, epochs in (("support-bot", "auto"), ("support-bot-long", 6)):
    job = FineTuningJob(
        name,
        model=MODEL,
        training_file=data,
        suffix=name,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": epochs}}},
        metadata={"team": "support", "managed-by": "gitops"},
        on_destroy="cancel",  # a replaced job still training is cancelled (the PR summary says so)
    )
    pulumi.export(f"{name}.model", job.fine_tuned_model)
    pulumi.export(f"{name}.estimated_cost_usd", job.estimated_cost_usd)
