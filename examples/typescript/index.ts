// A TypeScript program using pulumi-finetune's provider plugin through its generated SDK
// (sdk/nodejs): one training file, one job waited for. See README.md beside it.
import * as finetune from "@pulumi-finetune/finetune";

const data = new finetune.TrainingFile("support-data", { path: "data/train.jsonl" });

const job = new finetune.FineTuningJob("support-bot", {
    model: "gpt-4o-mini-2024-07-18",
    trainingFile: data.id,
    suffix: "support",
    method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 3 } } },
    waitForCompletion: true,
});

export const jobId = job.jobId;
export const status = job.status;
export const model = job.fineTunedModel;
export const estimatedCostUsd = job.estimatedCostUsd;
export const trainLoss = job.metrics.apply((m) => m.train_loss);
