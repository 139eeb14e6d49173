"""Azure OpenAI: the same resources against an Azure OpenAI resource's v1 surface.

Nothing in the program is Azure-specific: the endpoint and key come from stack config
(see README.md), and the key is sent in the `api-key` header for *.openai.azure.com hosts.
Use a base model your resource offers for fine-tuning in its region.
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "gpt-4.1-mini-2025-04-14"
here = Path(__file__).parent

data = TrainingFile("release-notes", path=str(here / "data" / "release_notes.jsonl"), model=MODEL)

job = FineTuningJob(
    "release-notes",
    model=MODEL,
    training_file=data.id,
    suffix="notes",  # Azure allows up to 40 characters
    method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    wait_for_completion=True,
)

pulumi.export("job", job.id)
pulumi.export("status", job.status)
pulumi.export("model", job.fine_tuned_model)
