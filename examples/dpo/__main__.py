"""DPO: teach a model which of two answers to prefer (direct preference optimization).

Each line of data/preferences.jsonl holds a prompt (`input.messages`), the answer we want
(`preferred_output`) and one we don't (`non_preferred_output`). `pulumi preview` validates
that format line by line before anything is uploaded.
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "gpt-4.1-mini-2025-04-14"
here = Path(__file__).parent

preferences = TrainingFile(
    "support-preferences",
    path=str(here / "data" / "preferences.jsonl"),
    format="preference",
    model=MODEL,
)

job = FineTuningJob(
    "support-tone",
    model=MODEL,
    training_file=preferences.id,
    suffix="support-tone",
    method={
        "type": "dpo",
        # beta: how far the model may move from the base model (lower: further).
        "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 2}},
    },
    metadata={"team": "support", "recipe": "dpo"},
    wait_for_completion=True,
)

pulumi.export("training_file", preferences.id)
pulumi.export("examples", preferences.example_count)
pulumi.export("job", job.id)
pulumi.export("status", job.status)
pulumi.export("model", job.fine_tuned_model)
