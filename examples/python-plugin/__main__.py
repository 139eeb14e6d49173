"""A Python program on the plugin face, through its generated, typed SDK (`pulumi_finetune_sdk`,
sdk/python): one training file, one job waited for. See README.md beside it."""

import pulumi
import pulumi_finetune_sdk as finetune

data = finetune.TrainingFile("support-data", path="data/train.jsonl")

job = finetune.FineTuningJob(
    "support-bot",
    model="gpt-4o-mini-2024-07-18",
    training_file=data.id,
    suffix="support",
    method=finetune.FineTuneMethodArgs(
        type="supervised",
        supervised=finetune.FineTuneSupervisedMethodArgs(
            hyperparameters=finetune.FineTuneSupervisedHyperparametersArgs(n_epochs=3),
        ),
    ),
    wait_for_completion=True,
)

pulumi.export("jobId", job.job_id)
pulumi.export("status", job.status)
pulumi.export("model", job.fine_tuned_model)
pulumi.export("estimatedCostUsd", job.estimated_cost_usd)
pulumi.export("trainLoss", job.metrics.apply(lambda m: m.train_loss))
