"""Which host the local endpoint plays (`--flavor openai|azure|nebius|bedrock`), one row each.

A flavor is the host's row in `pulumi_finetune.hosts` (where the API lives, how it takes
credentials, its create fields, hyperparameters and methods, what it cannot do, its id and error
shapes, its request-id header) plus what only a simulation needs: the base models it offers,
the defaults of its own hyperparameters, and what a reinforcement job costs per simulated
second (for the host's cost cap). The app, the validation and the store ask the flavor; none of
them names a host.

What each flavor follows, and where its documentation was read:
- openai: OpenAI's API reference and OpenAPI description (the rest of this package).
- azure: Azure's v1 OpenAPI (Azure/azure-rest-api-specs, `OpenAI.v1/azure-v1-v1-generated.json`:
  paths under `/openai/v1`, `AzureErrorResponse`, `apim-request-id` and no `x-request-id`,
  `expires_after` required on `POST /files`, reinforcement graders limited to string_check,
  text_similarity, score_model and multi, a reinforcement `response_format`) and Microsoft's
  pages where the spec is silent (MicrosoftDocs/azure-ai-docs: `trainingType`, `api-key` or an
  Entra ID bearer token, ids `BASE.ft-HEX[-SUFFIX]` and `ftchkpt-...`, no dots in a suffix, a
  reinforcement job pausing itself at $5,000 of training). Where the two disagree it follows
  the pages: `trainingType`, the `paused` status, `/uploads` and `DELETE /models/{id}` exist.
- nebius: Nebius Token Factory's API reference (docs.tokenfactory.nebius.com
  `api-reference/fine-tuning/`: its hyperparameters, `tags`, `from_checkpoint`, `trained_steps`
  and `total_steps`, no `fine_tuned_model`, FastAPI's `{"detail": ...}` errors with 422 for a
  body that breaks the schema; no pause or resume route). Its job object has no `metadata`
  and its list no metadata filter: a `metadata` sent is dropped (FastAPI ignores a field its
  model lacks), never stored, echoed or filtered by.
- bedrock: Amazon Bedrock's OpenAI-compatible endpoint (docs.aws.amazon.com/bedrock userguide
  `fine-tuning-openai-apis`, `fine-tuning-openai-job-create`, `rft-prepare-data-open-weight`):
  reinforcement only, on openai.gpt-oss-20b and qwen.qwen3-32b, with a `lambda` grader
  (`{"type": "lambda", "lambda": {"function": ARN}}`) and no other; no `suffix` (400); 100 to
  20,000 training examples; no pause, no model delete, no `/uploads`. Its pages show neither
  `metadata` nor `seed` on a job: both are taken and dropped. The fine-tuned model is callable
  at once (listed under `/models`); the pages give no form for its id, so the flavor uses
  OpenAI's. The lambda grader is **simulated**: the endpoint cannot call AWS, so it checks the
  grader's shape and ARN, keeps it on the job, and invents the reward metrics as it does for
  every grader (no function is invoked and nothing reaches AWS).
- together: Together AI's OpenAPI description (togethercomputer/openapi `openapi.yaml`, commit
  090263a): its own routes and objects (`/fine-tunes`, `/files/upload`, `FinetuneResponse`,
  ...), served by `pulumi_finetune.local.together`; defaults of its hyperparameters from the
  create schema (LoRA rank and alpha, which depend on the model, are the flavor's choice).

Every flavor returns, of the create request, only what its host's documented job object does
(the row's `echoes`); the rest is taken and dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import hosts
from ..models import BEDROCK_SNAPSHOTS, OPEN_SNAPSHOTS, SNAPSHOTS
from .errors import APIError, InvalidRequest

JSON = dict[str, Any]

#: Reinforcement graders Azure's v1 spec accepts (`AzureFineTuneReinforcementMethod.grader`).
AZURE_GRADERS = hosts.AZURE.graders

# Defaults of Nebius's hyperparameters, from the example in its create-job reference.
NEBIUS_DEFAULTS: dict[str, Any] = {
    "batch_size": 8,
    "learning_rate": 0.00001,
    "n_epochs": 3,
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "packing": True,
    "max_grad_norm": 1.0,
    "context_length": 8192,
    "lora": False,
    "lora_r": 8,
    "lora_alpha": 8,
    "lora_dropout": 0.0,
}

# Defaults of Together's hyperparameters, from its create-job schema. lora_r and lora_alpha
# depend on the model (`/fine-tunes/models/limits`) and the job object must carry them
# (LoRATrainingType requires both): the flavor picks 8 and 16; max_seq_length is left unset.
TOGETHER_DEFAULTS: dict[str, Any] = {
    "n_epochs": 1,
    "n_checkpoints": 1,
    "n_evals": 0,
    "learning_rate": 0.00001,
    "warmup_ratio": 0.0,
    "max_grad_norm": 1.0,
    "weight_decay": 0.0,
    "packing": True,
    "max_seq_length": None,
    "train_on_inputs": "auto",
    "lora": True,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "lora_trainable_modules": "all-linear",
}

#: What a reinforcement job costs per simulated second of training, for cost caps: $100 an
#: hour would never reach a cap in a test, so the local endpoint bills $100 a second (a default
#: job's 30 s of training cost $3,000, under Azure's $5,000 cap; `--cost-cap-usd` lowers it).
REINFORCEMENT_USD_PER_SECOND = 100.0


@dataclass(frozen=True)
class Flavor:
    """One host the endpoint can play; see the module docstring."""

    host: hosts.Host
    base_models: Mapping[str, int]
    """Base model id -> created (unix time)."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    hyperparameter_defaults: Mapping[str, Any] = field(default_factory=dict)
    """Defaults of the host's own hyperparameters (OpenAI's are resolved in `validation`)."""

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def graders(self) -> tuple[str, ...] | None:
        """Reinforcement grader types taken; None for all of OpenAI's (the host's row)."""
        return self.host.graders

    @property
    def has_fine_tuned_models(self) -> bool:
        """Whether a job's result is a model of its own (listed under `/models`)."""
        return self.host.result == "fine_tuned_model"

    def fine_tuned_name(self, base: str, org: str, suffix: str | None, job_id: str) -> str | None:
        """The id of the model a job trains, in the host's form; None when the host has none."""
        if not self.has_fine_tuned_models:
            return None
        short = job_id.removeprefix(self.host.job_id_prefix)[:8]
        hexid = hashlib.sha256(job_id.encode()).hexdigest()[:32]
        name = self.host.fine_tuned_id.format(
            base=base, org=org, suffix=suffix or "", short=short, hex=hexid
        )
        if "{suffix}" not in self.host.fine_tuned_id and suffix:
            name += f"-{suffix}"
        return name

    def base_of_fine_tuned(self, model: str) -> str:
        """The base model inside a fine-tuned id of this host."""
        if model.startswith("ft:"):
            return model.split(":")[1]
        return model.split(".ft-", 1)[0]

    def checkpoint_model(self, job_id: str, fine_tuned: str | None, ckpt_id: str, step: int) -> str:
        """A checkpoint's `fine_tuned_model_checkpoint`: a model id where the host serves one,
        else `JOB_ID:CHECKPOINT_ID` (what Nebius deploys from)."""
        if fine_tuned is None:
            return f"{job_id}:{ckpt_id}"
        return f"{fine_tuned}:ckpt-step-{step}"

    # ------------------------------------------------------------------ errors

    def error_body(self, exc: APIError) -> tuple[int, JSON]:
        """(status, body) of an error as this host sends it."""
        shape = self.host.error_shape
        if shape == "azure":
            return exc.status, {
                "error": {
                    "code": exc.code or exc.type,
                    "message": exc.message,
                    "param": exc.param,
                    "type": "error",
                    "inner_error": None,
                }
            }
        if shape == "fastapi":
            if isinstance(exc, InvalidRequest) and exc.param:
                loc: list[str | int] = ["body", *exc.param.split(".")]
                return 422, {"detail": [{"loc": loc, "msg": exc.message, "type": "value_error"}]}
            return exc.status, {"detail": exc.message}
        return exc.status, exc.body()


OPENAI = Flavor(
    hosts.OPENAI,
    base_models={s.id: s.created for s in SNAPSHOTS},
    aliases={s.alias: s.id for s in SNAPSHOTS if s.alias},
)
AZURE = Flavor(
    hosts.AZURE,
    base_models={s.id: s.created for s in SNAPSHOTS},
    aliases={s.alias: s.id for s in SNAPSHOTS if s.alias},
)
NEBIUS = Flavor(
    hosts.NEBIUS,
    base_models={s.id: s.created for s in OPEN_SNAPSHOTS},
    hyperparameter_defaults=NEBIUS_DEFAULTS,
)
BEDROCK = Flavor(hosts.BEDROCK, base_models={s.id: s.created for s in BEDROCK_SNAPSHOTS})
TOGETHER = Flavor(
    hosts.TOGETHER,
    base_models={s.id: s.created for s in OPEN_SNAPSHOTS},
    hyperparameter_defaults=TOGETHER_DEFAULTS,
)
FLAVORS: dict[str, Flavor] = {f.name: f for f in (OPENAI, AZURE, NEBIUS, BEDROCK, TOGETHER)}


def by_name(name: str) -> Flavor:
    """The flavor called `name`; ValueError names the choices."""
    try:
        return FLAVORS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown flavor {name!r}: choose one of {', '.join(FLAVORS)}") from None
