"""The hosts of fine-tuning APIs, one row each (OpenAI's API and its hosts; a host with an API
of its own names its shape, `pulumi_finetune.shapes`): how a base URL is recognised as the host,
how the host takes credentials, which create fields, hyperparameters and methods it takes, what
it cannot do (pause, delete models), what names the trained model, how its ids, errors and
request ids look, and what its uploads require. Lifecycle dates live in their own dated table
keyed by the host's `name`; code asks the row or the table, never branches on a host's name.

Sources, checked 2026-12 (each row's `sources` names its own):
- OpenAI: its API reference and OpenAPI description (openai/openai-openapi, 2026-08), copied to
  (openai/openai-openapi `openapi.yaml`).
- Azure OpenAI / Foundry: Azure/azure-rest-api-specs
  `specification/ai/data-plane/OpenAI.v1/azure-v1-v1-generated.json` (read 2026-12: every answer
  carries `apim-request-id`; errors are `AzureErrorResponse` `{error: {code, message, param,
  type: "error", inner_error}}`; `AzureFileExpiryAnchor` is `created_at`; pause and resume
  routes exist) and MicrosoftDocs/azure-ai-docs `articles/ai-foundry/openai/` (`trainingType`
  through `extra_body`; `api-key` or an Entra ID bearer token; fine-tuned ids
  `BASE.ft-<hex>`, checkpoints `ftchkpt-...`, no dots in a suffix; reinforcement jobs pause
  themselves at $5,000 of training).
- Nebius Token Factory: docs.tokenfactory.nebius.com `api-reference/fine-tuning/` (create body:
  `hyperparameters` with an absolute `learning_rate` and LoRA settings, `from_checkpoint`, `tags`;
  job object with `trained_steps`/`total_steps` and no `fine_tuned_model`; checkpoints at
  OpenAI's path; errors from FastAPI, `{"detail": ...}`, schema errors as 422; files by one
  `POST /files`, its multipart uploads being for datasets only) and
  `post-training/how-to-fine-tune` (a checkpoint is deployed with `source: "JOB_ID:CHECKPOINT_ID"`).
  No pause or resume route is documented. Its job object (the same reference, and
  `get-fine-tuning-job-info`: id, created_at, error, finished_at, hyperparameters, method,
  integrations, model, organization_id, result_files, seed, suffix, status, trained_tokens,
  training_file, validation_file, estimated_finish, trained_steps, total_steps) has **no
  `metadata`**, and its job list takes no metadata filter.
- Amazon Bedrock's OpenAI-compatible endpoint: docs.aws.amazon.com/bedrock/latest/userguide
  `fine-tuning-openai-apis` (files, jobs, events, checkpoints and cancel at OpenAI's paths, a
  Bedrock API key as bearer, the trained model callable at once), `fine-tuning-openai-job-create`
  (reinforcement with a `lambda` grader `{"type": "lambda", "lambda": {"function": ARN}}`,
  hyperparameters `n_epochs`, `batch_size`, `learning_rate_multiplier`; "Suffix field is not
  supported"), `rft-prepare-data-open-weight` (OpenAI chat prompts with `reference_answer`,
  100 to 20,000 of them). Open-weight bases since 2026-02: gpt-oss-20b and Qwen3 32B (AWS's
  machine-learning blog, "Reinforcement fine-tuning on Amazon Bedrock with OpenAI-Compatible
  APIs", 2026-03). Its pages document neither `metadata` nor `seed` on a job, nor a metadata
  filter on the list: neither is relied on.
- Together AI: its OpenAPI description, togethercomputer/openapi `openapi.yaml` (commit 090263a,
  2026-04-28: `POST /fine-tunes` with flat hyperparameters, `training_method` sft|dpo,
  `training_type` Full|Lora; `FinetuneResponse` with statuses pending ... completed, ISO times,
  `model_output_name`; cancel, events and checkpoints under `/fine-tunes/{id}`; `POST
  /files/upload` multipart with `file_name`; errors `ErrorData`, OpenAI's body; bearer key).
  Its job object keeps no `metadata` and its list takes no filter. Create, list and cancel
  answer `FinetuneResponseTruncated`, which has `suffix` and `random_seed`; retrieve answers
  `FinetuneResponse`, which has neither. Its wire is its own shape
  (`pulumi_finetune.shapes.together`).
Where a host's spec and its pages disagree (Azure's spec has no `trainingType`, no `paused`,
no `/uploads`, no model delete; its pages document all four) the row follows the pages.

The host of a resource is its `host` argument, else the stack's `finetune:host`, else the one its
base URL names (`infer`); a proxy or gateway in front of OpenAI sets it explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "AZURE",
    "BEDROCK",
    "COMPATIBLE",
    "HOSTS",
    "LAMBDA_ARN",
    "NEBIUS",
    "OPENAI",
    "OPENAI_HYPERPARAMETERS",
    "REQUEST_ID_HEADERS",
    "TOGETHER",
    "Host",
    "by_name",
    "infer",
    "refused_hyperparameter",
    "training_type",
]

ResultSource = Literal["fine_tuned_model", "final_checkpoint"]
ErrorShape = Literal["openai", "azure", "fastapi"]

#: OpenAI's hyperparameters of a supervised job (its create schema); the other methods add theirs.
OPENAI_HYPERPARAMETERS: tuple[str, ...] = ("batch_size", "learning_rate_multiplier", "n_epochs")
#: The create-request fields OpenAI's job object returns (its `fine_tuning.job` schema): what a
#: job created with a lost answer can be recognised by. OpenAI's job object has no `suffix`.
OPENAI_ECHOES: tuple[str, ...] = (
    "model",
    "training_file",
    "validation_file",
    "seed",
    "hyperparameters",
    "method",
    "metadata",
    "integrations",
)


#: An AWS Lambda function's ARN (with an optional version or alias), as a `lambda` grader names it.
LAMBDA_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)


@dataclass(frozen=True)
class Host:
    name: str
    """What `finetune:host` and the `host` argument say, and the job's `host` output."""
    title: str
    """For people: messages and the README."""
    hostnames: tuple[str, ...] = ()
    """Suffixes of a base URL's host name that mean this host (`infer`)."""
    key_header: str = "Authorization"
    """Where the key goes: `Authorization` (as `Bearer KEY`) or a header of its own (`api-key`)."""
    bearer_tokens: bool = False
    """Whether the host also takes an identity token as `Authorization: Bearer TOKEN` besides the
    key in `key_header` (Azure: a Microsoft Entra ID token)."""
    token_scope: str | None = None
    """The scope such a token is requested for (`azure-identity`'s `get_token`)."""
    api_path: str = "/v1"
    """Where the API lives under the host's origin (what a base URL ends with)."""
    request_id_header: str = "x-request-id"
    """The answer header that names the request, for support."""
    error_shape: ErrorShape = "openai"
    """How an error body looks: OpenAI's `{"error": {message, type, param, code}}`, Azure's
    (the same with `type: "error"` and `inner_error`), or FastAPI's `{"detail": ...}`."""
    create_fields: tuple[str, ...] = ()
    """Top-level create-job fields the host takes besides OpenAI's (sent as given)."""
    training_types: tuple[str, ...] = ()
    """The values of the host's training tier (`training_type`, sent as `trainingType`),
    compared case-insensitively; empty when the host has no tiers."""
    hyperparameters: tuple[str, ...] = OPENAI_HYPERPARAMETERS
    """The hyperparameters of a supervised job on this host."""
    methods: tuple[str, ...] = ("supervised", "dpo", "reinforcement")
    """The fine-tuning methods (`method.type`) the host takes."""
    method_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Fields of `method.<type>` the host takes besides OpenAI's (Azure: a reinforcement job's
    `response_format`)."""
    can_pause: bool = True
    """Whether the host has pause and resume."""
    cost_caps: dict[str, float] = field(default_factory=dict)
    """USD of training after which the host pauses a job of that method by itself."""
    result: ResultSource = "fine_tuned_model"
    """What names the trained model (the job's `result_model`): the job's `fine_tuned_model`,
    or its final checkpoint as `JOB_ID:CHECKPOINT_ID`."""
    fine_tuned_id: str = "ft:{base}:{org}:{suffix}:{short}"
    """The form of a fine-tuned model id (for the local endpoint and for reading ids)."""
    checkpoint_prefix: str = "ftckpt_"
    """How a checkpoint id starts."""
    suffix_max: int = 64
    """The longest `suffix`; 0 when the host takes no suffix at all (refused in preview)."""
    suffix_forbidden: str = ""
    """Characters a `suffix` may not hold."""
    upload_expires_after: int | None = None
    """When the host requires `expires_after` on an upload: the seconds sent (anchor
    `created_at`); None when it is optional and not sent."""
    uploads_api: bool = True
    """Whether the host has OpenAI's multipart Uploads API (`/uploads`); without it a file of
    any size goes in one `POST /files`."""
    can_delete_models: bool = True
    """Whether `DELETE /models/{id}` removes a fine-tuned model."""
    echoes: tuple[str, ...] = OPENAI_ECHOES
    """The create-request fields the host's documented job object returns, as its job list
    and create answer have it (`model`, `training_file`, `validation_file`, `suffix`, `seed`,
    `hyperparameters`, `method`, `metadata`, `integrations`): where a job's marker can live,
    and what a job whose create answer was lost is recognised by (`pulumi_finetune.identity`).
    What a retrieve does not return is its shape's `unretrieved`."""
    lists_by_metadata: bool = True
    """Whether the host's job list takes OpenAI's metadata filter (`metadata[KEY]=VALUE`)."""
    graders: tuple[str, ...] | None = None
    """The reinforcement grader types the host takes; None for OpenAI's own (its schema)."""
    example_limits: tuple[int, int] | None = None
    """(fewest, most) training examples the host's documentation allows, when it says."""
    price_table: str | None = None
    """The name of this host's training-price table in `prices`; None when none is tabled."""
    price_note: str = ""
    """Where the host's prices are, when they are not tabled."""
    sources: tuple[str, ...] = ()
    shape: str = "openai"
    """The API shape the host's wire has: a module of `pulumi_finetune.shapes` (`openai`,
    `together`), which translates the resource's OpenAI vocabulary to and from it."""
    job_id_prefix: str = "ftjob-"
    """How a fine-tuning job's id starts (`adopt_job_id` is checked against it)."""


OPENAI = Host(
    "openai",
    "OpenAI",
    hostnames=("api.openai.com",),
    price_table="openai",
    sources=("https://platform.openai.com/docs/api-reference/fine-tuning",),
)
AZURE = Host(
    "azure",
    "Azure OpenAI / Microsoft Foundry",
    hostnames=(".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"),
    key_header="api-key",
    bearer_tokens=True,
    token_scope="https://cognitiveservices.azure.com/.default",
    api_path="/openai/v1",
    request_id_header="apim-request-id",
    error_shape="azure",
    create_fields=("trainingType",),
    training_types=("Standard", "GlobalStandard", "Developer", "developerTier"),
    method_fields={"reinforcement": ("response_format",)},
    graders=("string_check", "text_similarity", "score_model", "multi"),
    cost_caps={"reinforcement": 5000.0},
    fine_tuned_id="{base}.ft-{hex}",
    checkpoint_prefix="ftchkpt-",
    suffix_forbidden=".",
    upload_expires_after=30 * 24 * 3600,
    price_note="Azure bills training per token or per hour by model and tier and hosting per "
    "hour: see https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/ "
    "(not tabled here: no estimate is shown)",
    sources=(
        "Azure/azure-rest-api-specs specification/ai/data-plane/OpenAI.v1/"
        "azure-v1-v1-generated.json",
        "MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/includes/fine-tuning-rest.md",
        "MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/how-to/"
        "reinforcement-fine-tuning.md",
    ),
)
NEBIUS = Host(
    "nebius",
    "Nebius Token Factory",
    hostnames=("api.tokenfactory.nebius.com", "api.studio.nebius.com", "api.studio.nebius.ai"),
    error_shape="fastapi",
    create_fields=("tags", "from_checkpoint"),
    hyperparameters=(
        "batch_size",
        "learning_rate",
        "n_epochs",
        "warmup_ratio",
        "weight_decay",
        "packing",
        "max_grad_norm",
        "context_length",
        "lora",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
    ),
    methods=("supervised",),
    can_pause=False,
    result="final_checkpoint",
    fine_tuned_id="",
    uploads_api=False,  # its multipart uploads are for datasets (/v1/datasets/uploads) only
    can_delete_models=False,
    echoes=(
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "hyperparameters",
        "method",
        "integrations",
    ),
    lists_by_metadata=False,
    price_note="Nebius bills training per token by model size: see "
    "https://tokenfactory.nebius.com/pricing (not tabled here: no estimate is shown)",
    sources=(
        "https://docs.tokenfactory.nebius.com/api-reference/fine-tuning/create-a-fine-tuning-job",
        "https://docs.tokenfactory.nebius.com/post-training/how-to-fine-tune",
    ),
)
BEDROCK = Host(
    "bedrock",
    "Amazon Bedrock",
    hostnames=("bedrock-mantle.*.api.aws",),
    hyperparameters=OPENAI_HYPERPARAMETERS,
    methods=("reinforcement",),
    can_pause=False,
    suffix_max=0,
    fine_tuned_id="ft:{base}:{org}::{short}",  # not documented: the local flavor's choice
    can_delete_models=False,
    uploads_api=False,
    echoes=("model", "training_file", "validation_file", "hyperparameters", "method"),
    lists_by_metadata=False,
    graders=("lambda",),
    example_limits=(100, 20_000),
    price_note="Amazon Bedrock bills reinforcement fine-tuning by training hours and serving "
    "by tokens: see https://aws.amazon.com/bedrock/pricing/ (not tabled here: no estimate is "
    "shown)",
    sources=(
        "https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-openai-apis.html",
        "https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-openai-job-create.html",
        "https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data-open-weight.html",
    ),
)
"""Amazon Bedrock's OpenAI-compatible endpoint (`https://bedrock-mantle.REGION.api.aws/v1`):
reinforcement fine-tuning of open-weight models with an AWS Lambda grader. AWS's pages document
no pause, no model delete, no Uploads API and no suffix; they name no fine-tuned id form (the
local flavor uses OpenAI's)."""
TOGETHER = Host(
    "together",
    "Together AI",
    hostnames=("api.together.ai", "api.together.xyz"),
    shape="together",
    create_fields=(
        "from_checkpoint",
        "from_hf_model",
        "hf_model_revision",
        "lr_scheduler",
        "multimodal_params",
    ),
    hyperparameters=(
        "batch_size",
        "learning_rate",
        "n_epochs",
        "n_checkpoints",
        "n_evals",
        "warmup_ratio",
        "weight_decay",
        "max_grad_norm",
        "packing",
        "max_seq_length",
        "train_on_inputs",
        "lora",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
        "lora_trainable_modules",
    ),
    methods=("supervised", "dpo"),
    can_pause=False,
    fine_tuned_id="{org}/{base}-{short}",
    suffix_max=40,  # its CLI's documented limit; the OpenAPI description states none
    uploads_api=False,  # one multipart POST /files/upload
    can_delete_models=False,
    job_id_prefix="ft-",
    # What its create and list answers (FinetuneResponseTruncated) return of the request: model,
    # training_file, validation_file, suffix, random_seed, training_method, training_type and
    # the flat hyperparameters (n_epochs ... max_seq_length); no metadata. Its W&B fields come
    # back too, but integrations are refused here, so none is sent. Its retrieve answer
    # (FinetuneResponse) lacks suffix and random_seed: the shape's `unretrieved`.
    echoes=(
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "hyperparameters",
        "method",
    ),
    lists_by_metadata=False,
    price_note="Together bills training per token by model size and method: see "
    "https://www.together.ai/pricing (not tabled here: no estimate is shown)",
    sources=(
        "togethercomputer/openapi openapi.yaml (commit 090263a, 2026-04-28)",
        "https://docs.together.ai/reference/post-fine-tunes",
    ),
)
COMPATIBLE = Host("compatible", "an OpenAI-compatible endpoint", price_table="openai")
"""Any other endpoint: OpenAI's fields and, for an estimate, OpenAI's prices (a proxy in front
of OpenAI, the local endpoint); nothing about its lifecycle or extensions is assumed."""

HOSTS: tuple[Host, ...] = (OPENAI, AZURE, NEBIUS, BEDROCK, TOGETHER, COMPATIBLE)
NAMES: tuple[str, ...] = tuple(h.name for h in HOSTS)
#: Every request-id header a host sends, OpenAI's first: an error names the request with the
#: first one its answer carries, whichever host answered.
REQUEST_ID_HEADERS: tuple[str, ...] = tuple(dict.fromkeys(h.request_id_header for h in HOSTS))


def _matches(hostname: str, pattern: str) -> bool:
    if "*" in pattern:
        return fnmatchcase(hostname, pattern)
    if pattern.startswith("."):
        return hostname.endswith(pattern)
    return hostname == pattern


def infer(base_url: str) -> Host:
    """The host a base URL names; `COMPATIBLE` for any other (the local endpoint, a proxy)."""
    hostname = (urlsplit(base_url).hostname or "").lower()
    for host in HOSTS:
        if any(_matches(hostname, pattern) for pattern in host.hostnames):
            return host
    return COMPATIBLE


def by_name(name: str) -> Host | None:
    """The host called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((h for h in HOSTS if h.name == wanted), None)


def training_type(host: Host, value: str) -> str | None:
    """`value` when it names one of the host's training tiers (any case), else None."""
    wanted = value.strip().lower()
    return value.strip() if any(t.lower() == wanted for t in host.training_types) else None


def refused_hyperparameter(host: Host, name: str) -> str | None:
    """Why `name` is no hyperparameter of `host` (None when it is one): names the host, and for
    a learning rate says which one the host takes instead (one is never converted into the
    other)."""
    if name in host.hyperparameters:
        return None
    if name in ("learning_rate", "learning_rate_multiplier"):
        other = next(
            (n for n in ("learning_rate", "learning_rate_multiplier") if n in host.hyperparameters),
            None,
        )
        kind = "an absolute rate" if other == "learning_rate" else "a multiplier of its default"
        instead = f"; it takes `{other}` ({kind}), never converted from one into the other"
        return f"{host.title} does not take `{name}`" + (instead if other else "")
    return f"{host.title} does not take the hyperparameter `{name}`"
