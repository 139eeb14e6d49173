"""Reinforcement fine-tuning (RFT) on Amazon Bedrock: an open-weight model learns from the
scores an AWS Lambda function gives its answers.

Each line of data/train.jsonl is a prompt (`messages`, ending with the user's turn) plus the
field the grader reads (`reference_answer`). Bedrock's OpenAI-compatible endpoint takes a
`lambda` grader (the function's ARN), 100 to 20,000 prompts, and no `suffix`; the trained model
is callable at once (`result_model`). OpenAI no longer trains with reinforcement (o4-mini, its
only base, shut down on 2026-10-23).
"""

from pathlib import Path

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile

MODEL = "openai.gpt-oss-20b"  # or "qwen.qwen3-32b"
here = Path(__file__).parent
config = pulumi.Config()
# Your reward function (see README.md); this placeholder passes preview's ARN check.
grader_arn = (
    config.get("graderArn") or "arn:aws:lambda:us-west-2:123456789012:function:ticket-triage-reward"
)

train = TrainingFile(
    "tickets-train", path=str(here / "data" / "train.jsonl"), format="reinforcement", model=MODEL
)

job = FineTuningJob(
    "ticket-triage",
    model=MODEL,
    training_file=train.id,
    method={
        "type": "reinforcement",
        "reinforcement": {
            "grader": {"type": "lambda", "lambda": {"function": grader_arn}},
            "hyperparameters": {"n_epochs": 1, "batch_size": 4, "learning_rate_multiplier": 1.0},
        },
    },
    wait_for_completion=True,
)

pulumi.export("job", job.id)
pulumi.export("status", job.status)
pulumi.export("model", job.result_model)
