// A TypeScript program using pulumi-finetune's provider plugin (see the README's
// "Other languages (the provider plugin)"): one training file, one job waited for.
// Before the first run: `npm install` and `python -m pulumi_finetune.plugin.typescript finetune.ts`.
import * as pulumi from "@pulumi/pulumi";
import { FineTuningJob, TrainingFile } from "./finetune";

const data = new TrainingFile("support-data", { path: "data/train.jsonl" });

const job = new FineTuningJob("support-bot", {
    model: "gpt-4o-mini-2024-07-18",
    trainingFile: data.id,
    suffix: "support",
    method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 3 } } },
    waitForCompletion: true,
});

export const jobId = job.jobId;
export const status = job.status;
export const model = job.fineTunedModel;
export const estimatedCostUsd: pulumi.Output<number> = job.estimatedCostUsd;
