// A Go program using pulumi-finetune's provider plugin through its generated SDK (sdk/go): one
// training file, one job waited for. See README.md beside it.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"pulumi-finetune/sdk/go/finetune"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		data, err := finetune.NewTrainingFile(ctx, "support-data", &finetune.TrainingFileArgs{
			Path: pulumi.String("data/train.jsonl"),
		})
		if err != nil {
			return err
		}
		job, err := finetune.NewFineTuningJob(ctx, "support-bot", &finetune.FineTuningJobArgs{
			Model:        pulumi.String("gpt-4o-mini-2024-07-18"),
			TrainingFile: data.ID().ToStringOutput(),
			Suffix:       pulumi.String("support"),
			Method: &finetune.FineTuneMethodArgs{
				Type: pulumi.String("supervised"),
				Supervised: &finetune.FineTuneSupervisedMethodArgs{
					Hyperparameters: &finetune.FineTuneSupervisedHyperparametersArgs{
						// "auto" or a number: the API's union, pulumi.Any in Go.
						N_epochs: pulumi.Any(3),
					},
				},
			},
			WaitForCompletion: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		ctx.Export("jobId", job.JobId)
		ctx.Export("status", job.Status)
		ctx.Export("model", job.FineTunedModel)
		ctx.Export("estimatedCostUsd", job.EstimatedCostUsd)
		ctx.Export("trainLoss", job.Metrics.Train_loss())
		return nil
	})
}
