"""Each resource as one table: every attribute, where it goes, and how a change to it applies.

As in a Terraform framework provider's schema, one row states an attribute's whole story. The
providers derive from these tables what `check` accepts and defaults, what `diff` replaces or
updates in place, what `update` copies, and which outputs `create` and `read` write; the program
passes every output as a `None` placeholder so that the engine knows it. Adding a field is one
row. The hand-written `...Args` dataclasses and typed outputs in `pulumi_finetune.resources`,
and OpenAI's schemas in `schemas/`, are held to these tables by tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from . import identity


class Kind(StrEnum):
    """Where an attribute's value comes from and goes."""

    API = "api"
    """An argument sent to OpenAI in the create request."""
    HOST_API = "host_api"
    """An argument sent in the create request that is not a field of OpenAI's: a host's own
    field (under `api_name`) or fields sent verbatim (`extra_body`). Checked by host-aware code
    (`spec.host_failures`, from `pulumi_finetune.hosts`), never by OpenAI's schema."""
    OPTION = "option"
    """An argument that steers the provider; never sent to the API."""
    INTERNAL = "internal"
    """An input the program supplies itself (see `pulumi_finetune.identity`), not the user."""
    OUTPUT = "output"
    """Computed: not an argument."""


class Change(StrEnum):
    """What a change of the attribute's value does."""

    REPLACE = "replace"
    """Replaces the resource: OpenAI cannot edit jobs or files."""
    UPDATE = "update"
    """Updates the resource in place, without an API call."""
    NONE = "none"
    """Never a diff; the next update records the latest value."""


class Source(StrEnum):
    """Where an output's value comes from."""

    API = "api"
    """The API object's field `api_field`, written by create and read."""
    CHECK = "check"
    """Computed locally by check: known at preview, refreshed by an update."""
    CREATE = "create"
    """Computed by the provider in create."""


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: Kind
    change: Change
    doc: str
    output: Source | None = None
    """Whether (and from where) the attribute is also an output."""
    default: Any = None
    """What check fills in for an argument left unset (None: nothing)."""
    secret: bool = False
    """An output the engine encrypts in state."""
    api_name: str | None = None
    """The API object's field, where it is not `name`."""
    absent: Any = None
    """What an output holds while the API has no value for it (null). Pulumi drops null outputs
    from state, and a missing output previews as unknown for ever after: so a stable value."""
    type: str | None = None
    """The value's JSON type (string, integer, number, boolean, array, object) where neither
    OpenAI's schema nor `default`/`absent` tells it: the plugin's schema and SDKs type it so."""

    def __post_init__(self) -> None:
        if self.kind is Kind.OUTPUT and self.output is None:
            raise ValueError(f"{self.name}: an output attribute needs a source")
        if self.kind is Kind.INTERNAL and self.change is not Change.NONE:
            raise ValueError(f"{self.name}: internal inputs are never a diff")

    @property
    def api_field(self) -> str:
        return self.api_name or self.name


@dataclass(frozen=True)
class Table:
    resource: str
    attributes: tuple[Attribute, ...]
    ignored_api_fields: tuple[str, ...] = ()
    """Fields of the API object that are not kept as outputs."""

    def __post_init__(self) -> None:
        names = [a.name for a in self.attributes]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.resource}: an attribute is listed twice")

    def __getitem__(self, name: str) -> Attribute:
        return next(a for a in self.attributes if a.name == name)

    def with_rows(self, *rows: Attribute) -> Table:
        """This table with `rows` added."""
        return Table(self.resource, (*self.attributes, *rows), self.ignored_api_fields)

    @property
    def names(self) -> frozenset[str]:
        """Everything the program may pass: arguments, internal inputs, output placeholders."""
        return frozenset(a.name for a in self.attributes)

    @property
    def arguments(self) -> tuple[str, ...]:
        """What the user may set: the fields of the resource's `...Args`."""
        return tuple(
            a.name for a in self.attributes if a.kind in (Kind.API, Kind.HOST_API, Kind.OPTION)
        )

    @property
    def api_fields(self) -> tuple[str, ...]:
        """The fields of the create request."""
        return tuple(a.name for a in self.attributes if a.kind is Kind.API)

    @property
    def host_fields(self) -> tuple[str, ...]:
        """Arguments of the create request that OpenAI's schema does not have."""
        return tuple(a.name for a in self.attributes if a.kind is Kind.HOST_API)

    @property
    def request_fields(self) -> tuple[str, ...]:
        """Everything the create request is made from: OpenAI's fields and the host fields."""
        return (*self.api_fields, *self.host_fields)

    @property
    def replace_on_change(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if a.change is Change.REPLACE)

    @property
    def update_in_place(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.change is Change.UPDATE)

    @property
    def copied_by_update(self) -> tuple[str, ...]:
        """What an in-place update takes from the new inputs: every input that a change does not
        replace, and every locally computed value (API answers stay as last seen). A computed
        value that replaces on change is the same in an update, unless the state predates it."""
        return tuple(
            a.name
            for a in self.attributes
            if (a.change is not Change.REPLACE and a.kind in (Kind.OPTION, Kind.INTERNAL))
            or a.output is Source.CHECK
        )

    @property
    def defaults(self) -> dict[str, Any]:
        return {a.name: a.default for a in self.attributes if a.default is not None}

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if a.output is not None)

    @property
    def api_outputs(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.output is Source.API)

    @property
    def secret_outputs(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if a.secret)

    def placeholders(self) -> dict[str, None]:
        """Every output as `None`, as the program passes them so that the engine knows them."""
        return dict.fromkeys(self.outputs)

    def from_api(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The outputs an API object answers, by output name (an output's `absent` value where
        the API answers null or nothing)."""
        values = {}
        for a in self.api_outputs:
            value = obj.get(a.api_field)
            values[a.name] = a.absent if value is None else value
        return values

    def stable(self, outs: Mapping[str, Any]) -> dict[str, Any]:
        """`outs` with every output that is None replaced by its `absent` value."""
        fixed = dict(outs)
        for a in self.attributes:
            if a.output is not None and fixed.get(a.name) is None and a.absent is not None:
                fixed[a.name] = a.absent
        return fixed


def _request(
    name: str, doc: str, *, returned: bool = True, default: Any = None, absent: Any = None
) -> Attribute:
    """A field of the create request (a change replaces); `returned`: an output too, as the API
    answers it."""
    output = Source.API if returned else None
    return Attribute(
        name, Kind.API, Change.REPLACE, doc, output=output, default=default, absent=absent
    )


def _option(name: str, doc: str, default: Any = None) -> Attribute:
    return Attribute(name, Kind.OPTION, Change.UPDATE, doc, default=default)


def _api_output(name: str, doc: str, api_name: str | None = None, absent: Any = None) -> Attribute:
    return Attribute(
        name, Kind.OUTPUT, Change.NONE, doc, output=Source.API, api_name=api_name, absent=absent
    )


def _checked(name: str, doc: str, change: Change = Change.NONE) -> Attribute:
    return Attribute(name, Kind.OUTPUT, change, doc, output=Source.CHECK)


def _internal(name: str, doc: str) -> Attribute:
    return Attribute(name, Kind.INTERNAL, Change.NONE, doc)


# Arguments that choose the endpoint, on every resource (see `pulumi_finetune.settings`).
CONNECTION = (
    _option("base_url", "the endpoint (else config, environment, default)"),
    _option("organization", "OpenAI organization header"),
    _option("project", "OpenAI project header"),
)
CONNECTION_OPTIONS = tuple(a.name for a in CONNECTION)
# The host whose API this is (see `pulumi_finetune.hosts` and `pulumi_finetune.settings`):
# resolved by check from the argument, `finetune:host` or the effective base URL, so that moving
# a resource to another host (even by stack config alone) replaces it: a job or file of one host
# does not exist at another. A state recorded before this row existed has no host: not a diff.
HOST = Attribute(
    "host",
    Kind.OPTION,
    Change.REPLACE,
    "openai, azure, nebius or compatible (else finetune:host, else from the base URL)",
    output=Source.CHECK,
)

# Where the resource lives: the origin (scheme://host:port) it was created at, the one its delete
# and refresh may be sent to (with the credential bound there: `pulumi_finetune.settings`). Set by
# create, adoption and refresh; never a diff. A state recorded before this row has "" (unknown):
# the rule from before (`providers.common.elsewhere`) applies to it.
ORIGIN = Attribute(
    "origin",
    Kind.OUTPUT,
    Change.NONE,
    "scheme://host:port the resource was created at; its delete and refresh go only there",
    output=Source.CREATE,
    absent="",
)
# The provider resource a resource is managed by (its URN; the plugin: its id), supplied by the
# program: the engine deletes a replaced resource through the provider it was created with, so
# preview can tell whether that is the provider now checking it (moved by its config) or another.
PROVIDER_REF = "_provider_ref"

# Internal inputs of a FineTuningJob for its cost estimate (see `pulumi_finetune.prices`): the
# figures of its training file when that is a TrainingFile of the program, and the stack's price
# overrides. Never a diff: changing prices or counts re-estimates, never replaces.
TRAINING_DATA = "_training_data"
TRAINING_PRICES = "_training_prices"
# Internal input: the stack's overrides of the lifecycle table (see `pulumi_finetune.lifecycle`).
LIFECYCLE = "_lifecycle"

FINE_TUNING_JOB = Table(
    "FineTuningJob",
    (
        # The create request: a change replaces (jobs cannot be edited); most fields come back
        # as outputs holding the values the API resolved ("auto" hyperparameters, the seed).
        _request("model", "base model, or an ft: model"),
        _request("training_file", "training file id"),
        _request("validation_file", "validation file id", absent=""),
        _request("hyperparameters", "deprecated by OpenAI"),
        _request("suffix", "added to the fine-tuned model's name", returned=False),
        _request("integrations", "Weights & Biases", absent=[]),
        _request("seed", "reproducibility seed"),
        _request("method", "supervised, dpo or reinforcement"),
        _request("metadata", "up to 15 pairs (+ the marker)", absent={}),
        # The host's own fields (see `pulumi_finetune.hosts`): a change replaces, like OpenAI's.
        Attribute(
            "training_type",
            Kind.HOST_API,
            Change.REPLACE,
            "the host's training tier, sent as trainingType (Azure OpenAI: Standard, "
            "GlobalStandard or Developer, any case)",
            api_name="trainingType",
        ),
        Attribute(
            "extra_body",
            Kind.HOST_API,
            Change.REPLACE,
            "fields sent verbatim in the create request, for what no host table knows",
        ),
        _option("wait_for_completion", "`pulumi up` waits until the job ends", default=False),
        _option("wait_timeout_seconds", "how long to wait", default=6 * 3600.0),
        _option("on_destroy", "cancel, keep or delete_model", default="cancel"),
        Attribute(
            "paused",
            Kind.OPTION,
            Change.UPDATE,
            "desired state: pause (true) or resume (false); as an output, as last seen",
            output=Source.CREATE,
            default=False,
        ),
        _option(
            "resume_cost_capped",
            "let paused=false resume a job the host paused at its cost cap (spends more)",
            default=False,
        ),
        Attribute(
            "adopt_job_id",
            Kind.OPTION,
            Change.NONE,
            "take over this existing job instead of creating one (first up only)",
        ),
        *CONNECTION,
        HOST,
        ORIGIN,
        _internal(PROVIDER_REF, "the provider resource it is managed by"),
        _internal(identity.RESOURCE_KEY, "project/stack/resource name"),
        _internal(identity.STACK_INSTANCE, "id of the stack's provider resource"),
        _internal(identity.OWNED_JOB, "the job the stack's state records"),
        _internal(identity.URN, "the resource's URN, for progress on its row"),
        _internal(TRAINING_DATA, "{example_count, billed_tokens_per_epoch} of the training file"),
        _internal(TRAINING_PRICES, "stack config finetune:trainingPrices (model: USD per 1M)"),
        _internal(LIFECYCLE, "stack config finetune:lifecycle (host: {jobs_end, models})"),
        _checked("estimated_epochs", "declared n_epochs, else OpenAI's default for the file"),
        _checked("estimated_billed_tokens", "file's billed tokens per epoch × epochs"),
        _checked("estimated_cost_usd", "billed tokens × the model's training price"),
        _checked("price_date", "date of the price table the estimate uses"),
        _checked("estimated_cost_note", "how the estimate was made, or why there is none"),
        _checked(
            "model_retires_on",
            "ISO date the fine-tuned model stops serving (its base model retires), '' if unknown",
        ),
        _api_output("job_id", "ftjob-... (also the resource's id)", api_name="id"),
        _api_output("status", "validating_files ... succeeded, failed, cancelled"),
        _api_output("fine_tuned_model", "ft:... once succeeded, else ''", absent=""),
        Attribute(
            "result_model",
            Kind.OUTPUT,
            Change.NONE,
            "what to deploy or call: fine_tuned_model, or the final checkpoint where the host "
            "names the result so (JOB_ID:CHECKPOINT_ID); '' until known",
            output=Source.CREATE,
            absent="",
        ),
        Attribute(
            "pause_reason",
            Kind.OUTPUT,
            Change.NONE,
            "why the job is paused when Pulumi did not pause it (the host's cost cap), else ''",
            output=Source.CREATE,
            absent="",
        ),
        _api_output("trained_tokens", "billable tokens, once finished, else 0", absent=0),
        _api_output("result_files", "ids of the results files", absent=[]),
        _api_output("error", "{code, message, param} of a failed job, else {}", absent={}),
        _api_output("created_at", "Unix seconds"),
        _api_output("finished_at", "Unix seconds, once finished, else 0", absent=0),
        _api_output("estimated_finish", "Unix seconds, while running, else 0", absent=0),
        _api_output("organization_id", "the organization that owns the job"),
        Attribute(
            "checkpoints",
            Kind.OUTPUT,
            Change.NONE,
            "[{step_number, metrics, fine_tuned_model_checkpoint}], kept current by refresh",
            output=Source.CREATE,
            absent=[],
        ),
        Attribute(
            "metrics",
            Kind.OUTPUT,
            Change.NONE,
            "the latest step's metrics (train/valid loss, token accuracy), kept current",
            output=Source.CREATE,
            absent={},
        ),
        Attribute(
            "spec",
            Kind.OUTPUT,
            Change.NONE,
            "the normalised request the job was created from",
            output=Source.CREATE,
        ),
    ),
    ignored_api_fields=("object",),  # always "fine_tuning.job"
)

TRAINING_FILE = Table(
    "TrainingFile",
    (
        Attribute("path", Kind.OPTION, Change.NONE, "local JSONL path; moving it changes nothing"),
        _request("purpose", "fine-tune", returned=False, default="fine-tune"),
        _option("format", "chat, completions, preference or reinforcement (inferred)"),
        _option("model", "the model the data is for: tokenizer, token limit"),
        *CONNECTION,
        HOST,
        ORIGIN,
        _internal(PROVIDER_REF, "the provider resource it is managed by"),
        _api_output("file_id", "file-... (also the resource's id)", api_name="id"),
        _api_output("filename", "the name it was uploaded under"),
        _api_output("bytes", "size in bytes"),
        _api_output("status", "processing status as last seen"),
        _api_output("created_at", "Unix seconds"),
        _checked("sha256", "the content's identity: a change replaces", Change.REPLACE),
        _checked("example_count", "number of examples"),
        _checked("total_tokens", "tokens over all examples"),
        _checked("max_example_tokens", "tokens of the longest example"),
        _checked("billed_tokens_per_epoch", "Σ min(limit, tokens): billed tokens of one epoch"),
        _checked("estimated_billed_tokens", "Σ min(limit, tokens) × OpenAI's default epochs"),
        _checked("default_epochs", "epochs OpenAI picks for n_epochs 'auto'"),
        _checked("tokenizer", "the tokenizer of the counts"),
    ),
    # always "file"; the declared purpose; no expiry is set; deprecated by OpenAI
    ignored_api_fields=("object", "purpose", "expires_at", "status_details"),
)
