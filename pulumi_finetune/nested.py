"""The nested values' fields, one row each: what `method`, its hyperparameters, graders,
`integrations`, `error`, `checkpoints` and `metrics` hold, for people (the SDKs' docs) and, where
OpenAI's schemas (`schemas/`) do not say it, their shape.

OpenAI's create-job and job schemas give the shapes of the request's nested values; this table
gives their docs, the shapes of what the provider itself writes (`checkpoints`, `metrics`), and
the docs of hosts' own hyperparameters (`hosts.Host.hyperparameters`: names only; their types
are `spec.HYPERPARAMETER_KINDS`). A field no row names still appears in the plugin's schema,
untyped, with a generic doc.

Sources, checked 2026-12:
- OpenAI: https://platform.openai.com/docs/api-reference/fine-tuning/create,
  https://platform.openai.com/docs/api-reference/fine-tuning/object,
  https://platform.openai.com/docs/api-reference/fine-tuning/checkpoint-object and
  https://platform.openai.com/docs/api-reference/graders (openai/openai-openapi, 2026-08).
- Nebius Token Factory:
  https://docs.tokenfactory.nebius.com/api-reference/fine-tuning/create-a-fine-tuning-job
- Together AI: https://docs.together.ai/reference/post-fine-tunes (togethercomputer/openapi)
"""

from __future__ import annotations

from typing import Any

#: Docs of nested fields, by field name, or `Type.field` where the same name means another thing
#: in another object (the types are named as in OpenAI's schemas, else `FineTuningJob` + field).
DOCS: dict[str, str] = {
    # method
    "FineTuneMethod.type": "the fine-tuning method",
    "supervised": "settings of a supervised job (method.type supervised)",
    "dpo": "settings of a Direct Preference Optimization job (method.type dpo)",
    "reinforcement": "settings of a reinforcement job (method.type reinforcement)",
    "hyperparameters": "the method's hyperparameters ('auto' or a value each)",
    "grader": "how the model's answers are scored during reinforcement training",
    "response_format": "the JSON schema the model must answer in (Azure OpenAI, reinforcement)",
    # hyperparameters (OpenAI's)
    "batch_size": "examples per batch: 'auto' or 1-256",
    "learning_rate_multiplier": "scaling of the learning rate: 'auto' or a positive number",
    "n_epochs": "full passes over the training data: 'auto' or 1-50",
    "beta": "DPO: weight of the penalty between policy and reference model: 'auto' or (0, 2]",
    "compute_multiplier": "reinforcement: compute spent on exploration: 'auto' or (0, 10]",
    "eval_interval": "reinforcement: training steps between evaluations: 'auto' or >= 1",
    "eval_samples": "reinforcement: samples per evaluation: 'auto' or >= 1",
    "reasoning_effort": "reasoning effort of the model",
    "FineTuneReinforcementHyperparameters.reasoning_effort": (
        "reasoning effort of the trained model"
    ),
    # hyperparameters of other hosts (the schema adds which hosts take each)
    "learning_rate": "absolute learning rate",
    "warmup_ratio": "share of the steps that warm the learning rate up",
    "weight_decay": "weight decay",
    "packing": "pack short examples into one sequence",
    "max_grad_norm": "gradient clipping norm",
    "context_length": "training sequence length in tokens",
    "max_seq_length": "training sequence length in tokens",
    "lora": "train a LoRA adapter instead of all weights",
    "lora_r": "LoRA rank",
    "lora_alpha": "LoRA scaling alpha",
    "lora_dropout": "LoRA dropout probability",
    "lora_trainable_modules": "the modules LoRA trains, e.g. all-linear",
    "n_checkpoints": "checkpoints saved during training",
    "n_evals": "evaluations on the validation file during training",
    "train_on_inputs": "also train on the prompt's tokens, not only the answer's",
    # graders
    "name": "the grader's name",
    "GraderLambda.lambda": "the AWS Lambda function that scores each answer",
    "function": "the Lambda function's ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME",
    "type": "the kind of object",
    "input": "the text graded: a template such as {{sample.output_text}}",
    "GraderScoreModel.input": "the messages sent to the scoring model, with templates",
    "GraderLabelModel.input": "the messages sent to the labelling model, with templates",
    "reference": "the text compared with: a template such as {{item.answer}}",
    "operation": "the comparison",
    "evaluation_metric": "the similarity metric",
    "source": "the Python source of the grading function `grade(sample, item)`",
    "image_tag": "the image the Python grader runs in",
    "model": "the model that scores or labels",
    "range": "the range of the score, [min, max]",
    "sampling_params": "how the scoring model samples",
    "labels": "the labels the model may answer",
    "passing_labels": "the labels that count as a pass",
    "calculate_output": "how the graders' scores combine (a formula over their names)",
    "graders": "the graders combined",
    "max_completions_tokens": "at most this many tokens per answer",
    "seed": "sampling seed",
    "temperature": "sampling temperature",
    "top_p": "nucleus sampling probability mass",
    "role": "who speaks",
    "content": "the message: text, or a list of text, image and audio parts",
    "text": "the text",
    "image_url": "the image's URL or data URL",
    "detail": "image detail: low, high or auto",
    "input_audio": "base64 audio and its format",
    "data": "base64-encoded audio",
    "format": "audio format: mp3 or wav",
    "prompt_cache_breakpoint": "where a prompt's cached prefix ends",
    "mode": "how the breakpoint is set",
    # integrations
    "FineTuningJobIntegration.type": "the integration",
    "wandb": "the Weights & Biases run the job reports to",
    "project": "the Weights & Biases project",
    "FineTuningJobIntegrationWandb.name": "the run's display name (default: the job id)",
    "entity": "the Weights & Biases team or user (default: the key's default entity)",
    "tags": "tags of the run",
    # error
    "code": "machine-readable error code",
    "message": "what went wrong",
    "param": "the parameter that was invalid, if any",
    # checkpoints and metrics
    "id": "ftckpt-... (the checkpoint's id)",
    "step_number": "the step the checkpoint was taken at",
    "metrics": "the step's metrics",
    "fine_tuned_model_checkpoint": "the checkpoint's model name, usable like a fine-tuned model",
    "step": "the training step",
    "total_steps": "the job's total training steps",
    "train_loss": "training loss",
    "train_mean_token_accuracy": "training mean token accuracy",
    "valid_loss": "validation loss",
    "valid_mean_token_accuracy": "validation mean token accuracy",
    "full_valid_loss": "validation loss over the whole validation file",
    "full_valid_mean_token_accuracy": "mean token accuracy over the whole validation file",
}

#: Docs of the nested object types.
TYPE_DOCS: dict[str, str] = {
    "FineTuneMethod": "The fine-tuning method and its settings (OpenAI's `method`).",
    "FineTuneSupervisedMethod": "A supervised job's settings.",
    "FineTuneDPOMethod": "A DPO job's settings.",
    "FineTuneReinforcementMethod": "A reinforcement job's settings.",
    "FineTuneSupervisedHyperparameters": "A supervised job's hyperparameters.",
    "FineTuneDPOHyperparameters": "A DPO job's hyperparameters.",
    "FineTuneReinforcementHyperparameters": "A reinforcement job's hyperparameters.",
    "FineTuningJobHyperparameters": "Hyperparameters of the job (deprecated by OpenAI for "
    "method.<type>.hyperparameters; some hosts read them here).",
    "GraderStringCheck": "Scores 1 when the input compares to the reference, else 0.",
    "GraderTextSimilarity": "Scores the similarity of the input and the reference.",
    "GraderPython": "Scores with a Python function.",
    "GraderScoreModel": "Scores with a model's answer.",
    "GraderLabelModel": "Labels with a model; passing labels score 1.",
    "GraderMulti": "Combines the scores of several graders.",
    "GraderLambda": "Scores with an AWS Lambda function (Amazon Bedrock).",
    "GraderLambdaLambda": "The AWS Lambda function that scores.",
    "FineTuningJobIntegration": "An integration the job reports to.",
    "FineTuningJobIntegrationWandb": "A Weights & Biases run.",
    "FineTuningJobError": "Why a failed job failed.",
    "FineTuningCheckpoint": "A checkpoint of the job, as the checkpoints list answers it.",
    "FineTuningMetrics": "Training metrics of one step.",
}

#: Types of hosts' own `method.<type>` fields (`hosts.Host.method_fields`).
HOST_METHOD_FIELDS: dict[str, dict[str, Any]] = {
    "response_format": {"type": "object"},
}

#: Shapes of graders some host takes that are not OpenAI's (`hosts.Host.graders`), as JSON
#: Schema: Amazon Bedrock's `lambda` grader (docs.aws.amazon.com/bedrock/latest/userguide/
#: fine-tuning-openai-job-create.html).
HOST_GRADERS: dict[str, dict[str, Any]] = {
    "lambda": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["lambda"]},
            "name": {"type": "string"},
            "lambda": {
                "type": "object",
                "properties": {"function": {"type": "string"}},
                "required": ["function"],
            },
        },
        "required": ["type", "lambda"],
    },
}

_METRICS = {
    "type": "object",
    "properties": {
        name: {"type": "integer" if name in ("step", "total_steps") else "number"}
        for name in (
            "step",
            "total_steps",
            "train_loss",
            "train_mean_token_accuracy",
            "valid_loss",
            "valid_mean_token_accuracy",
            "full_valid_loss",
            "full_valid_mean_token_accuracy",
        )
    },
}

#: The shapes of the outputs the provider writes itself (`schema.Source.CREATE`), as JSON Schema.
OUTPUTS: dict[str, Any] = {
    "$defs": {
        "FineTuningMetrics": _METRICS,
        "FineTuningCheckpoint": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "step_number": {"type": "integer"},
                "metrics": {"$ref": "#/$defs/FineTuningMetrics"},
                "fine_tuned_model_checkpoint": {"type": "string"},
            },
        },
    },
    "properties": {
        "checkpoints": {"type": "array", "items": {"$ref": "#/$defs/FineTuningCheckpoint"}},
        "metrics": {"$ref": "#/$defs/FineTuningMetrics"},
        "paused": {"type": "boolean"},
        "result_model": {"type": "string"},
        "pause_reason": {"type": "string"},
    },
}


def doc(type_name: str, field: str) -> str | None:
    """The doc of `field` in the object type `type_name`, if a row gives one."""
    return DOCS.get(f"{type_name}.{field}", DOCS.get(field))
