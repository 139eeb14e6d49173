"""A hyperparameter sweep: one upload, one job per combination, every model exported.

The grid is plain Python, so it can come from anywhere (a list, `itertools.product`, stack
config). Each job's name holds its settings, so changing the grid adds or removes only the jobs
whose combination changed; the others are left as they are.
"""

from itertools import product
from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "gpt-4.1-nano-2025-04-14"
N_EPOCHS = [2, 4]
LEARNING_RATE_MULTIPLIERS = [0.5, 2.0]
here = Path(__file__).parent

data = TrainingFile("release-notes", path=str(here / "data" / "release_notes.jsonl"), model=MODEL)

models = {}
costs = {}  # each job's own estimate (its epochs × the file's tokens), known in preview
for n_epochs, lr in product(N_EPOCHS, LEARNING_RATE_MULTIPLIERS):
    label = f"e{n_epochs}-lr{lr:g}".replace(".", "p")  # e.g. e2-lr0p5
    job = FineTuningJob(
        f"release-notes-{label}",
        model=MODEL,
        training_file=data.id,
        suffix=f"notes-{label}",
        seed=42,  # the same seed everywhere, so runs differ only by the swept settings
        method={
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": n_epochs, "learning_rate_multiplier": lr}
            },
        },
        metadata={"sweep": "release-notes", "n_epochs": str(n_epochs), "lr": f"{lr:g}"},
        wait_for_completion=True,
    )
    models[label] = job.fine_tuned_model
    costs[label] = job.estimated_cost_usd

pulumi.export("models", models)
pulumi.export("estimated_cost_usd", costs)
