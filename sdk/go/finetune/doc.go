// OpenAI fine-tuning jobs and training files (pulumi-finetune's plugin)
package finetune
