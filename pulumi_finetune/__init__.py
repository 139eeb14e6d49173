"""OpenAI fine-tuning jobs and training files as declarative Pulumi resources."""
