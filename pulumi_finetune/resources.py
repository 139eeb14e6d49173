"""FineTuningJob and TrainingFile, their Args (program side: runs in the user's Pulumi program).

These classes only build inputs; the work happens in `pulumi_finetune.providers`, in Pulumi's
provider process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import Resource

from . import identity, program
from .providers.file import TrainingFileProvider
from .providers.job import FineTuningJobProvider
from .schema import (
    FINE_TUNING_JOB,
    LIFECYCLE,
    PROVIDER_REF,
    TRAINING_DATA,
    TRAINING_FILE,
    TRAINING_PRICES,
    Table,
)

__all__ = [
    "DestroyBehavior",
    "FineTuningJob",
    "FineTuningJobArgs",
    "HyperparametersArgsDict",
    "IntegrationArgsDict",
    "MethodArgsDict",
    "TrainingFile",
    "TrainingFileArgs",
    "host_provider",
]

host_provider = program.host_provider


class DestroyBehavior(StrEnum):
    """What `pulumi destroy` (or a replacement) does to the job."""

    CANCEL = "cancel"
    """Cancel the job if it is still validating, queued, running or paused; leave it if finished."""
    KEEP = "keep"
    """Leave the job as it is, running or not: only forget it."""
    DELETE_MODEL = "delete_model"
    """Cancel it if it still runs; if it succeeded, delete its fine-tuned model (owner role)."""


class HyperparametersArgsDict(TypedDict, total=False):
    """Hyperparameters of a method; each also accepts "auto"."""

    n_epochs: int | Literal["auto"]
    """Epochs, 1 to 50."""
    batch_size: int | Literal["auto"]
    """Batch size, 1 to 256."""
    learning_rate_multiplier: float | Literal["auto"]
    """Learning-rate multiplier, > 0."""
    beta: float | Literal["auto"]
    """DPO only: penalty weight between the policy and the reference model, in (0, 2]."""
    reasoning_effort: Literal["default", "low", "medium", "high"]
    """Reinforcement only."""
    compute_multiplier: float | Literal["auto"]
    """Reinforcement only."""
    eval_interval: int | Literal["auto"]
    """Reinforcement only."""
    eval_samples: int | Literal["auto"]
    """Reinforcement only."""
    learning_rate: float
    """Nebius Token Factory: an absolute learning rate (it has no multiplier; one is never
    converted into the other). Refused in preview on other hosts."""
    warmup_ratio: float
    """Nebius Token Factory only."""
    weight_decay: float
    """Nebius Token Factory only."""
    packing: bool
    """Nebius Token Factory only."""
    max_grad_norm: float
    """Nebius Token Factory only."""
    context_length: int
    """Nebius Token Factory only."""
    lora: bool
    """Nebius Token Factory only: LoRA (true) or full fine-tuning."""
    lora_r: int
    """Nebius Token Factory only: LoRA rank."""
    lora_alpha: int
    """Nebius Token Factory only: LoRA alpha."""
    lora_dropout: float
    """Nebius Token Factory only: LoRA dropout."""


class _MethodSettingsDict(TypedDict, total=False):
    hyperparameters: HyperparametersArgsDict
    grader: dict[str, Any]


class MethodArgsDict(TypedDict):
    """The method: `{"type": "supervised", "supervised": {"hyperparameters": {...}}}`."""

    type: Literal["supervised", "dpo", "reinforcement"]
    supervised: NotRequired[_MethodSettingsDict]
    dpo: NotRequired[_MethodSettingsDict]
    reinforcement: NotRequired[_MethodSettingsDict]
    """Needs a `grader`."""


class _WandbArgsDict(TypedDict, total=False):
    project: str
    name: str
    entity: str
    tags: list[str]


class IntegrationArgsDict(TypedDict):
    """A Weights & Biases integration: `{"type": "wandb", "wandb": {"project": "..."}}`."""

    type: Literal["wandb"]
    wandb: _WandbArgsDict


@dataclass
class FineTuningJobArgs:
    """The inputs of a FineTuningJob. Every field but the provider options is sent to the API.

    Changing any API field, or the host (`host`, or a base URL of another host), replaces the
    job (fine-tuning jobs cannot be edited or moved). Changing a provider option
    (`wait_for_completion`, `wait_timeout_seconds`, `on_destroy`, `paused`, `base_url` within
    one host, `organization`, `project`) updates in place; only `paused` (pause or resume) and
    turning waiting on (wait for the job) call the API.
    """

    model: pulumi.Input[str]
    """Base model to fine-tune, or an earlier `ft:` model to continue from."""
    training_file: pulumi.Input[str] | TrainingFile
    """ID of an uploaded file with purpose `fine-tune` (e.g. `TrainingFile.id`), or the
    TrainingFile itself. With a TrainingFile of this program (its id or itself), the preview
    shows the job's own billed tokens and cost estimate."""
    validation_file: pulumi.Input[str] | None = None
    """ID of an uploaded validation file."""
    hyperparameters: pulumi.Input[HyperparametersArgsDict] | None = None
    """Deprecated by OpenAI in favour of `method`; still accepted, not together with `method`."""
    suffix: pulumi.Input[str] | None = None
    """Up to 64 characters added to the fine-tuned model's name."""
    integrations: pulumi.Input[list[IntegrationArgsDict]] | None = None
    """Integrations to enable (Weights & Biases)."""
    seed: pulumi.Input[int] | None = None
    """Seed for reproducibility, 0 to 2147483647; OpenAI picks one when unset."""
    method: pulumi.Input[MethodArgsDict] | None = None
    """supervised, dpo or reinforcement, with its hyperparameters."""
    metadata: pulumi.Input[dict[str, str]] | None = None
    """Up to 15 key-value pairs (OpenAI allows 16; one holds pulumi-finetune's marker)."""
    training_type: pulumi.Input[str] | None = None
    """The host's training tier, sent as `trainingType` (Azure OpenAI: `Standard`,
    `GlobalStandard` or `Developer`, any case; Standard when unset). Refused in preview on a
    host without tiers; a change replaces the job."""
    extra_body: pulumi.Input[dict[str, Any]] | None = None
    """Fields sent verbatim in the create request (as OpenAI's SDK's `extra_body`), for what no
    host table knows; a change replaces the job. A field that has an argument of its own (or
    the host's own field) is refused: set the argument, which is checked."""
    wait_for_completion: pulumi.Input[bool] | None = None
    """Provider option: `pulumi up` waits until the job succeeds (failed/cancelled: an error)."""
    wait_timeout_seconds: pulumi.Input[float] | None = None
    """Provider option: how long to wait (default 6 hours). A job still running then is recorded
    in state as observed, not cancelled; `pulumi refresh` picks up its outcome."""
    on_destroy: pulumi.Input[DestroyBehavior | str] | None = None
    """Provider option: what destroy does (default `cancel`). See DestroyBehavior."""
    paused: pulumi.Input[bool] | None = None
    """Provider option, desired state (default false): true pauses the job, false resumes it;
    a change updates in place with one pause or resume call. OpenAI pauses only a running job:
    one still validating or queued is paused as soon as it runs (`pulumi up` waits for that,
    within `wait_timeout_seconds`). A job paused or resumed elsewhere shows as drift on refresh,
    and `pulumi up --refresh` restores what the program says."""
    resume_cost_capped: pulumi.Input[bool] | None = None
    """Provider option (default false): whether `paused=False` resumes a job that the host
    paused by itself at its cost cap (Azure OpenAI's reinforcement jobs stop at $5,000 of
    training). Left false, such a job stays paused: refresh and preview say so, and nothing is
    spent. Set it true for the `pulumi up` that approves training on (at further cost), then
    back to false."""
    adopt_job_id: pulumi.Input[str] | None = None
    """Provider option: take over this existing job (`ftjob-...`) instead of creating one. The
    first `pulumi up` checks that the declared fields agree with the job and records it; from
    then on it is managed as if created here (destroy follows `on_destroy`)."""
    base_url: pulumi.Input[str] | None = None
    """Provider option: the endpoint, e.g. `https://api.openai.com/v1` (else config/env/default)."""
    organization: pulumi.Input[str] | None = None
    """Provider option: OpenAI organization header."""
    project: pulumi.Input[str] | None = None
    """Provider option: OpenAI project header."""
    host: pulumi.Input[str] | None = None
    """Whose API the endpoint is: `openai`, `azure`, `nebius` or `compatible` (else stack config
    `finetune:host`, else the host the base URL names; any URL it does not know is
    `compatible`). Set it for a proxy or gateway in front of a known host. It decides the
    lifecycle dates that apply; a change replaces the job (a job does not move between hosts)."""


JOB_TYPE = "pulumi-python:dynamic/finetune:FineTuningJob"


def _resource_key(name: str) -> str:
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


class FineTuningJob(Resource, module="finetune", name="FineTuningJob"):
    """An OpenAI fine-tuning job, started once by `pulumi up`.

    ## Example Usage

    ```python
    import pulumi
    from pulumi_finetune import FineTuningJob, TrainingFile

    data = TrainingFile("support-data", path="data/support.jsonl")
    job = FineTuningJob(
        "support-bot",
        model="gpt-4o-mini-2024-07-18",
        training_file=data.id,
        suffix="support",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
        wait_for_completion=True,
    )
    pulumi.export("model", job.fine_tuned_model)
    ```

    The resource's `id` is the job id. Outputs mirror OpenAI's `fine_tuning.job` object; a
    value the API does not have yet is kept in state as `""`, `0`, `[]` or `{}` (Pulumi drops
    nulls), so a consumer of an unfinished job previews "no changes". To read a job started
    elsewhere without managing it, use `FineTuningJob.get`; to take one over, `adopt_job_id`.

    :param str resource_name: The Pulumi name of the resource.
    :param FineTuningJobArgs args: The inputs, as an object (or pass them as keyword arguments).
    :param pulumi.ResourceOptions opts: Options for the resource.
    :param model: Base model (or `ft:` model) to fine-tune.
    :param training_file: File id of the training data.
    :param validation_file: File id of the validation data.
    :param hyperparameters: Deprecated top-level hyperparameters.
    :param suffix: Suffix of the fine-tuned model's name (1-64 characters).
    :param integrations: Weights & Biases integrations.
    :param seed: Reproducibility seed.
    :param method: supervised / dpo / reinforcement with hyperparameters.
    :param metadata: Up to 15 string pairs.
    :param training_type: The host's training tier (Azure OpenAI), sent as `trainingType`.
    :param extra_body: Fields sent verbatim in the create request.
    :param wait_for_completion: Wait in `pulumi up` until the job finishes.
    :param wait_timeout_seconds: Maximum wait (default 6 h).
    :param on_destroy: cancel (default), keep or delete_model.
    :param paused: Desired state: pause (true) or resume (false, default) the job.
    :param resume_cost_capped: Let `paused=False` resume a job the host paused at its cost cap.
    :param adopt_job_id: Take over this existing job instead of creating one.
    :param base_url: Endpoint base URL.
    :param organization: OpenAI organization.
    :param project: OpenAI project.
    :param host: openai, azure, nebius or compatible (else config, else from the base URL).
    """

    job_id: pulumi.Output[str]
    """The job's id, `ftjob-...` (also the resource's `id`)."""
    status: pulumi.Output[str]
    """validating_files, queued, running, paused, succeeded, failed or cancelled."""
    fine_tuned_model: pulumi.Output[str]
    """Name of the fine-tuned model once the job succeeded (`ft:...`; Azure OpenAI:
    `BASE.ft-...`); `""` until then, and on a host that names no model (Nebius)."""
    result_model: pulumi.Output[str]
    """What to deploy or call, on every host: `fine_tuned_model` (OpenAI, Azure OpenAI), or the
    final checkpoint as `JOB_ID:CHECKPOINT_ID` (Nebius Token Factory, the `source` its
    deployment API takes); `""` until known."""
    pause_reason: pulumi.Output[str]
    """Why the job is paused when Pulumi did not pause it (the host's cost cap), else `""`."""
    trained_tokens: pulumi.Output[int]
    """Billable tokens processed, once finished; 0 until then."""
    result_files: pulumi.Output[list[str]]
    """Ids of the results files (`fine-tune-results` CSV)."""
    error: pulumi.Output[dict[str, Any]]
    """`{code, message, param}` for a failed job, else `{}`."""
    created_at: pulumi.Output[int]
    """Unix seconds."""
    finished_at: pulumi.Output[int]
    """Unix seconds, once finished; 0 until then."""
    estimated_finish: pulumi.Output[int]
    """Unix seconds, while running; 0 otherwise."""
    checkpoints: pulumi.Output[list[dict[str, Any]]]
    """`[{id, step_number, metrics, fine_tuned_model_checkpoint}]`, kept current by refresh."""
    metrics: pulumi.Output[dict[str, Any]]
    """The latest step's metrics (step, train_loss, valid_loss, train_mean_token_accuracy, ...),
    kept current by refresh; `{}` before the first step."""
    paused: pulumi.Output[bool]
    """Whether the job is paused (as last seen)."""
    organization_id: pulumi.Output[str]
    """The organization that owns the job."""
    model: pulumi.Output[str]
    """The base model."""
    training_file: pulumi.Output[str]
    """The training file id."""
    validation_file: pulumi.Output[str | None]
    """The validation file id."""
    hyperparameters: pulumi.Output[dict[str, Any]]
    """Hyperparameters as resolved by the API ("auto" replaced by values)."""
    method: pulumi.Output[dict[str, Any] | None]
    """The method as resolved by the API."""
    seed: pulumi.Output[int]
    """The seed used (chosen by OpenAI when not given)."""
    metadata: pulumi.Output[dict[str, str] | None]
    """The job's metadata, including pulumi-finetune's marker."""
    integrations: pulumi.Output[list[dict[str, Any]] | None]
    """Enabled integrations."""
    suffix: pulumi.Output[str | None]
    """The declared suffix."""
    spec: pulumi.Output[dict[str, Any]]
    """The declared request (normalised) that the job was created from."""
    estimated_epochs: pulumi.Output[int | None]
    """Epochs the job trains for: the declared `n_epochs`, else OpenAI's default for the
    training file's example count (known when `training_file` is a TrainingFile here)."""
    estimated_billed_tokens: pulumi.Output[int | None]
    """This job's billed tokens, estimated in preview: the training file's tokens per epoch
    (each example up to the model's limit) × `estimated_epochs`. None for reinforcement."""
    estimated_cost_usd: pulumi.Output[float | None]
    """`estimated_billed_tokens` × the base model's training price (USD per 1M tokens) from a
    dated table, or the stack's `finetune:trainingPrices`. None where no price is known or the
    method is billed by time (reinforcement): see `estimated_cost_note`."""
    price_date: pulumi.Output[str]
    """The date of the price table the estimate uses."""
    estimated_cost_note: pulumi.Output[str]
    """How the estimate was made (tokens × epochs at what price, from where), or why there is
    none."""
    host: pulumi.Output[str]
    """The host the job lives on: the `host` argument, else `finetune:host`, else the one the
    base URL names (`compatible` for any other)."""
    origin: pulumi.Output[str]
    """Where the job lives: the origin (`scheme://host:port`) it was created at. Its destroy and
    refresh are sent only there, with the credential bound to it; `""` in a state recorded
    before this output existed."""
    model_retires_on: pulumi.Output[str]
    """The day (ISO date) the job's fine-tuned model stops serving: its base model's retirement
    on the host, from a dated table (`pulumi_finetune.lifecycle`) or the stack's
    `finetune:lifecycle`; `""` when not known (always on a `compatible` host)."""

    def __init__(
        self,
        resource_name: str,
        args: FineTuningJobArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        values = _args_to_props(FineTuningJobArgs, args, kwargs, "FineTuningJob")
        if isinstance(values.get("on_destroy"), DestroyBehavior):
            values["on_destroy"] = values["on_destroy"].value
        if isinstance(values.get("training_file"), TrainingFile):
            values["training_file"] = values["training_file"].id
        props: dict[str, Any] = {**FINE_TUNING_JOB.placeholders(), **values}
        props[TRAINING_DATA] = _training_data(values.get("training_file"))
        props[TRAINING_PRICES] = program.training_prices()
        props[LIFECYCLE] = program.lifecycle_overrides()
        resource_key = _resource_key(resource_name)
        props[identity.RESOURCE_KEY] = resource_key
        props[identity.STACK_INSTANCE] = program.stack_instance()
        props[identity.OWNED_JOB] = program.owned_job(resource_key)
        props[identity.URN] = program.urn_of(resource_name, JOB_TYPE, opts)
        if values.get("wait_for_completion") is True and (opts is None or opts.provider is None):
            # A wait holds one of a provider process's 4 workers for the whole job: each
            # waited job gets its own provider (process), so any number of them wait at once.
            waiter = program.waiting_provider(resource_name)
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=waiter))
        opts = _options(FINE_TUNING_JOB, opts)
        props[PROVIDER_REF] = _provider_ref(opts)
        super().__init__(FineTuningJobProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> FineTuningJob:
        """Read an existing job (`ftjob-...`) without managing it: its outputs fill in as for a
        job created here, refresh keeps them current, and destroying the stack leaves the job
        alone. (`pulumi import` cannot work for dynamic providers; to take a job over, declare
        it with `adopt_job_id`.)"""
        job = FineTuningJob.__new__(FineTuningJob)
        props = {
            **FINE_TUNING_JOB.placeholders(),
            identity.URN: None,
            LIFECYCLE: program.lifecycle_overrides(),
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        Resource.__init__(
            job, FineTuningJobProvider(), resource_name, props, _options(FINE_TUNING_JOB, opts)
        )
        return job


@dataclass
class TrainingFileArgs:
    """The inputs of a TrainingFile."""

    path: pulumi.Input[str]
    """Local path of the JSONL file. Its identity is the sha256 of its bytes: editing the data
    replaces the file (and, through the dependency, the jobs using it); moving or touching it
    changes nothing."""
    purpose: pulumi.Input[str] | None = None
    """`fine-tune` (default)."""
    format: pulumi.Input[str] | None = None
    """chat, completions, preference or reinforcement; inferred when unset."""
    model: pulumi.Input[str] | None = None
    """The model the data is for: picks the tokenizer and the per-example token limit."""
    base_url: pulumi.Input[str] | None = None
    """Provider option: the endpoint."""
    organization: pulumi.Input[str] | None = None
    """Provider option: OpenAI organization header."""
    project: pulumi.Input[str] | None = None
    """Provider option: OpenAI project header."""
    host: pulumi.Input[str] | None = None
    """Whose API the endpoint is (see `FineTuningJobArgs.host`); a change replaces the file."""


class TrainingFile(Resource, module="finetune", name="TrainingFile"):
    """A JSONL dataset uploaded for fine-tuning, validated during `pulumi preview`.

    ## Example Usage

    ```python
    from pulumi_finetune import TrainingFile

    data = TrainingFile("support-data", path="data/support.jsonl", model="gpt-4o-mini-2024-07-18")
    ```

    `pulumi preview` rejects bad data with the line number, the JSON path and the reason.

    :param str resource_name: The Pulumi name of the resource.
    :param TrainingFileArgs args: The inputs, as an object (or pass them as keyword arguments).
    :param pulumi.ResourceOptions opts: Options for the resource.
    :param path: Local path of the JSONL file.
    :param purpose: `fine-tune` (default).
    :param format: chat, completions, preference or reinforcement (inferred when unset).
    :param model: The model the data is for (tokenizer, token limit, format check).
    :param base_url: Endpoint base URL.
    :param organization: OpenAI organization.
    :param project: OpenAI project.
    :param host: openai, azure, nebius or compatible (else config, else from the base URL).
    """

    file_id: pulumi.Output[str]
    """The uploaded file's id, `file-...` (also the resource's `id`)."""
    filename: pulumi.Output[str]
    """The name it was uploaded under."""
    bytes: pulumi.Output[int]
    """Size in bytes."""
    sha256: pulumi.Output[str]
    """sha256 of the content: the file's identity."""
    example_count: pulumi.Output[int]
    """Number of examples (lines)."""
    total_tokens: pulumi.Output[int | None]
    """Tokens over all examples."""
    max_example_tokens: pulumi.Output[int | None]
    """Tokens of the longest example."""
    billed_tokens_per_epoch: pulumi.Output[int | None]
    """Σ min(limit, tokens): the billed tokens of one pass over the data."""
    estimated_billed_tokens: pulumi.Output[int | None]
    """Σ min(limit, tokens) × `default_epochs`: assumes OpenAI's default epochs (one job with
    n_epochs "auto"). A job that declares n_epochs bills its own: read the FineTuningJob's
    `estimated_billed_tokens`."""
    default_epochs: pulumi.Output[int | None]
    """Epochs OpenAI picks for this many examples when n_epochs is "auto"."""
    tokenizer: pulumi.Output[str | None]
    """The tokenizer used for the counts."""
    status: pulumi.Output[str | None]
    """The file's processing status as last seen."""
    created_at: pulumi.Output[int]
    """Unix seconds."""
    host: pulumi.Output[str]
    """The host the file was uploaded to (see `FineTuningJob.host`)."""
    origin: pulumi.Output[str]
    """Where the file lives: the origin it was uploaded to (see `FineTuningJob.origin`)."""

    def __init__(
        self,
        resource_name: str,
        args: TrainingFileArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        values = _args_to_props(TrainingFileArgs, args, kwargs, "TrainingFile")
        if isinstance(values.get("path"), str | os.PathLike):
            # Relative to the program's directory, as the user wrote it; the provider process
            # may run elsewhere.
            values["path"] = os.path.abspath(values["path"])
        props: dict[str, Any] = {**TRAINING_FILE.placeholders(), **values}
        opts = _options(TRAINING_FILE, opts)
        props[PROVIDER_REF] = _provider_ref(opts)
        super().__init__(TrainingFileProvider(), resource_name, props, opts)


def _provider_ref(opts: pulumi.ResourceOptions) -> pulumi.Output[str] | None:
    """The URN of the provider resource that manages the resource (see `schema.PROVIDER_REF`)."""
    provider = opts.provider
    return provider.urn if isinstance(provider, pulumi.ProviderResource) else None


def _training_data(training_file: Any) -> pulumi.Output[Any] | None:
    """{example_count, billed_tokens_per_epoch} of the TrainingFile that `training_file` (an
    Output such as `data.id`) comes from; None for a plain id or another resource's output."""
    if not isinstance(training_file, pulumi.Output):
        return None
    output: pulumi.Output[Any] = training_file

    async def source() -> TrainingFile | None:
        found = [r for r in await output.resources() if isinstance(r, TrainingFile)]
        return found[0] if len(found) == 1 else None

    def figures(data: TrainingFile | None) -> Any:
        if data is None:
            return None
        return pulumi.Output.all(
            example_count=data.example_count, billed_tokens_per_epoch=data.billed_tokens_per_epoch
        )

    found: pulumi.Output[Any] = pulumi.Output.from_input(source())  # type: ignore[arg-type]
    return found.apply(figures)


def _options(table: Table, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """`opts` with the stack's provider, and the table's secret outputs encrypted in state."""
    opts = program.with_stack_provider(opts)
    if not table.secret_outputs:
        return opts
    secrets = pulumi.ResourceOptions(additional_secret_outputs=list(table.secret_outputs))
    return pulumi.ResourceOptions.merge(opts, secrets)


def _args_to_props(
    args_type: type[Any], args: Any, kwargs: dict[str, Any], resource: str
) -> dict[str, Any]:
    names = [f.name for f in fields(args_type)]
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise TypeError(
            f"{resource} got unknown argument(s) {', '.join(map(repr, unknown))}; "
            f"known arguments: {', '.join(names)}"
        )
    if args is not None:
        if kwargs:
            raise TypeError(
                f"{resource}: pass either an args object or keyword arguments, not both"
            )
        values = {name: getattr(args, name) for name in names}
    else:
        try:
            values = {name: kwargs.get(name) for name in names}
            args_type(**kwargs)  # required arguments, named as Python names them
        except TypeError as exc:
            raise TypeError(f"{resource}: {exc}") from None
    return {k: v for k, v in values.items() if v is not None}
