"""Reinforcement fine-tuning (RFT): a reasoning model learns from a grader's scores.

Each line of data/train.jsonl is a prompt (`messages`, ending with the user's turn) plus the
fields the grader reads (`reference_answer`). The grader compares the model's answer
(`{{sample.output_text}}`) with the line's reference (`{{item.reference_answer}}`).
Reinforcement needs a reasoning base model: o4-mini at the time of writing.
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "o4-mini-2025-04-16"
here = Path(__file__).parent

train = TrainingFile(
    "tickets-train", path=str(here / "data" / "train.jsonl"), format="reinforcement", model=MODEL
)
valid = TrainingFile(
    "tickets-valid", path=str(here / "data" / "valid.jsonl"), format="reinforcement", model=MODEL
)

grader = {
    "type": "string_check",
    "name": "label matches",
    "input": "{{sample.output_text}}",
    "reference": "{{item.reference_answer}}",
    # "ilike": case-insensitive, so "Billing" scores like "billing".
    "operation": "ilike",
}

job = FineTuningJob(
    "ticket-triage",
    model=MODEL,
    training_file=train.id,
    validation_file=valid.id,
    suffix="ticket-triage",
    method={
        "type": "reinforcement",
        "reinforcement": {
            "grader": grader,
            "hyperparameters": {"reasoning_effort": "low", "n_epochs": 1},
        },
    },
    metadata={"team": "support", "recipe": "rft"},
    wait_for_completion=True,
)

pulumi.export("job", job.id)
pulumi.export("status", job.status)
pulumi.export("model", job.fine_tuned_model)
