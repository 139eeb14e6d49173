"""The FineTuningJob provider: check, diff, create, read, update, delete of one fine-tuning job.

Runs in Pulumi's provider process. The object Pulumi pickles into state holds nothing: settings
(and the key) arrive through `configure()` in the provider process.

How a job is started exactly once: see `pulumi_finetune.identity`. Every job carries a marker
that names the stack instance, the resource and the spec, where its host keeps one (in its
metadata, one of the 16 slots, `check` keeping the user to 15; else in its seed), or is
recognised by what its host echoes. `create` lists the jobs with that marker before posting,
and again whenever a post may have taken effect without an answer (5xx, dropped connection,
timeout), and adopts an *orphan* instead of posting (again). That covers lost responses and
runs killed mid-create or mid-wait. A process that serves many creates (the plugin) lists the
stack's marked jobs once instead (`StackListings`). A marked job is adopted only if
- it is not the job the stack's state records for this resource (the one `pulumi up --replace`
  replaces), nor older than it (earlier incarnations),
- it is not failed or cancelled, and a succeeded job's model still exists.
So `pulumi up --replace` posts a new job and then deletes the old one as `on_destroy` says
(cancelled if still running, left alone if finished); a killed `pulumi up` (first create, or a
replacement) is re-run and adopts the job the killed run started. If the program could not read
the stack's state while marked jobs exist, `create` fails rather than guess.

A create that posted after an ambiguous failure lists the marker once more and cancels any
orphan that turned up late besides the one it keeps, so no path out of `create` leaves an
unrecorded job running. A wait that the endpoint interrupts (outage, rate limits beyond the
client's deadline) records the job as last seen, like a wait that times out.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from .. import hosts, identity, lifecycle
from .. import spec as jobspec
from ..errors import (
    APIError,
    BadRequestError,
    ConflictError,
    FinetuneError,
    JobFailedError,
    NotFoundError,
    SettingsError,
)
from ..models import base_model
from ..prices import CONFIG_NAME as PRICES_CONFIG
from ..prices import estimate
from ..prices import training_price as model_price
from ..rules import resolved_epochs
from ..schema import (
    FINE_TUNING_JOB,
    LIFECYCLE,
    ORIGIN,
    TRAINING_DATA,
    TRAINING_PRICES,
    Table,
)
from ..settings import Settings
from . import common, waiting, winddown
from .failures import EXPLANATION, explained

if TYPE_CHECKING:
    from ..client import Client

# `pausing`: OpenAI's job on its way to `paused` (its create-job reference, 2026-11).
ACTIVE_STATUSES = frozenset(
    {"validating_files", "queued", "running", "pausing", "paused", "pending", "created"}
)
PAUSED_STATUSES = frozenset({"pausing", "paused"})
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
NOT_ADOPTABLE = frozenset({"failed", "cancelled"})
# How much older than its training file a job is still looked at (see `_Orphans.floor`).
FLOOR_MARGIN_SECONDS = 3600.0

DESTROY_BEHAVIOURS = ("cancel", "keep", "delete_model")
SPEC_OUTPUT = "spec"
JSON = dict[str, Any]
EMPTY_MODEL = (
    "is empty: it is another FineTuningJob's fine_tuned_model, which is set only once that job "
    "has succeeded. Set wait_for_completion=True on that job, or run `pulumi up --refresh` "
    "after it has finished"
)


def job_outputs(job: Mapping[str, Any], table: Table = FINE_TUNING_JOB) -> dict[str, Any]:
    """Every field of the job object (unknown ones too) under its output name, every output the
    table names (None where the API is silent); a healthy error: None."""
    renamed = {attr.api_field for attr in table.api_outputs if attr.api_name}
    outs = {k: v for k, v in job.items() if k not in renamed and k not in table.ignored_api_fields}
    outs.update(table.from_api(job))
    error = job.get("error")
    if not isinstance(error, Mapping) or not any(error.get(k) for k in ("code", "message")):
        outs["error"] = table["error"].absent
    if job.get("status") in ACTIVE_STATUSES:
        outs["paused"] = job.get("status") in PAUSED_STATUSES  # drift shows on refresh
    return table.stable(outs)


def _host(provider: object, props: Mapping[str, Any]) -> hosts.Host:
    """The row of the job's host: as check resolved it, else from the settings in force."""
    name = props.get("host")
    row = hosts.by_name(name) if isinstance(name, str) and not jobspec.is_unknown(name) else None
    return row or hosts.by_name(common.host_of(provider, props)) or hosts.COMPATIBLE


def result_model(job: Mapping[str, Any], checkpoints: Any, host: hosts.Host) -> str:
    """What names the trained model on `host` (its row's `result`): the job's fine_tuned_model,
    or its final checkpoint as `JOB_ID:CHECKPOINT_ID` once it succeeded; "" until known."""
    if host.result == "fine_tuned_model":
        return str(job.get("fine_tuned_model") or "")
    if job.get("status") != "succeeded" or not isinstance(checkpoints, list) or not checkpoints:
        return ""
    final = max(checkpoints, key=lambda c: c.get("step_number") or 0)
    return f"{job['id']}:{final['id']}" if final.get("id") else ""


def pause_reason(job: Mapping[str, Any], recorded: Mapping[str, Any], host: hosts.Host) -> str:
    """Why a paused job is paused when Pulumi did not pause it: the host caps this method's
    training cost (its row's `cost_caps`) and pauses by itself there. "" otherwise."""
    if job.get("status") != "paused":
        return ""
    if recorded.get("pause_reason"):
        return str(recorded["pause_reason"])
    if recorded.get("paused"):
        return ""  # Pulumi paused it (or recorded it paused before)
    method = job.get("method") if isinstance(job.get("method"), Mapping) else {}
    cap = host.cost_caps.get(str((method or {}).get("type") or "supervised"))
    if cap is None:
        return ""
    return (
        f"{host.title} paused it by itself at its training cost cap (${cap:,.0f} as "
        "documented); "
        "paused=False does not resume it (that spends more): set resume_cost_capped=True "
        "for the `pulumi up` that approves it, or deploy its last checkpoint"
    )


def _host_outputs(
    provider: object, job: Mapping[str, Any], outs: Mapping[str, Any], recorded: Mapping[str, Any]
) -> dict[str, Any]:
    host = _host(provider, recorded)
    return {
        "result_model": result_model(job, outs.get("checkpoints"), host),
        "pause_reason": pause_reason(job, recorded, host),
    }


def _resource_name(props: Mapping[str, Any]) -> str:
    return str(props.get(identity.RESOURCE_KEY) or "FineTuningJob").rsplit("/", 1)[-1]


def _progress(props: Mapping[str, Any]) -> waiting.Progress:
    return waiting.Progress(_resource_name(props), urn=str(props.get(identity.URN) or ""))


def _say(props: Mapping[str, Any], message: str) -> None:
    """A line in `pulumi preview`/`up` output (the stack's row), naming the resource."""
    print(f"{_resource_name(props)}: {message}", file=sys.stderr, flush=True)


def _live_outputs(client: Client, job: Mapping[str, Any]) -> dict[str, Any]:
    """What fills in while the job runs: its checkpoints and its latest step's metrics."""
    job_id = str(job["id"])
    outs: dict[str, Any] = {}
    with contextlib.suppress(NotFoundError, BadRequestError):
        outs["checkpoints"] = [
            {
                "id": c.get("id"),
                "step_number": c.get("step_number"),
                "metrics": c.get("metrics") or {},
                "fine_tuned_model_checkpoint": c.get("fine_tuned_model_checkpoint"),
            }
            for c in client.list_checkpoints(job_id)
        ]
    with contextlib.suppress(NotFoundError, BadRequestError):
        outs["metrics"] = waiting.latest_metrics(client.latest_events(job_id))
    return outs


def _shutdown_date(client: Client, model: Any) -> str:
    """The `shutdown_date` the host's model object gives for the job's base model (OpenAI's
    deprecations page: YYYY-MM-DD or null), "" where it gives none or has no such route. Read
    on refresh only, where requests are made anyway."""
    if not isinstance(model, str) or not model:
        return ""
    try:
        found = client.retrieve_model(model).get("shutdown_date")
    except FinetuneError:
        return ""
    if isinstance(found, int | float) and not isinstance(found, bool):
        return datetime.fromtimestamp(found, UTC).date().isoformat()
    if isinstance(found, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(found[:10]).isoformat()
    return ""


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _count(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _estimate(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The job's own cost estimate (see `pulumi_finetune.prices`): its training file's billed
    tokens per epoch × its epochs, priced by its base model. Outputs, never a diff."""
    data = inputs.get(TRAINING_DATA)
    data = data if isinstance(data, Mapping) and not jobspec.is_unknown(data) else {}
    method = inputs.get("method")
    method = method if isinstance(method, Mapping) and not jobspec.is_unknown(method) else None
    hyper = inputs.get("hyperparameters")
    hyper = hyper if isinstance(hyper, Mapping) and not jobspec.is_unknown(hyper) else None
    epochs = resolved_epochs(method, hyper, _count(data.get("example_count")))
    model = inputs.get("model")
    prices = inputs.get(TRAINING_PRICES)
    result = estimate(
        model=model if isinstance(model, str) and not jobspec.is_unknown(model) else None,
        method_type=str((method or {}).get("type") or "supervised"),
        epochs=epochs,
        tokens_per_epoch=_count(data.get("billed_tokens_per_epoch")),
        overrides=prices if isinstance(prices, Mapping) else None,
    )
    outputs = {"estimated_epochs": epochs, **result.outputs()}
    host = hosts.by_name(str(inputs.get("host")))
    overridden = (
        isinstance(model, str)
        and isinstance(prices, Mapping)
        and model_price(model, prices) not in (None, model_price(model, None))
    )
    if host is not None and host.price_table is None and not overridden:
        # The host's prices are not tabled: no figure from another host's table (the stack's
        # finetune:trainingPrices still prices it).
        outputs.update(estimated_cost_usd=None, price_date="", estimated_cost_note=host.price_note)
    return outputs


def _example_limit_failures(
    inputs: Mapping[str, Any], host: hosts.Host
) -> Iterator[tuple[str, str]]:
    """A training file with fewer or more examples than the host's documentation allows."""
    data = inputs.get(TRAINING_DATA)
    if host.example_limits is None or not isinstance(data, Mapping) or jobspec.is_unknown(data):
        return
    count = _count(data.get("example_count"))
    fewest, most = host.example_limits
    if count is not None and not fewest <= count <= most:
        yield (
            "training_file",
            f"has {count:,} examples; {host.title} trains on {fewest:,} to {most:,} "
            "(its documentation)",
        )


def _price_failures(prices: Any) -> Iterator[tuple[str, str]]:
    if prices is None or jobspec.is_unknown(prices):
        return
    where = f"finetune:{PRICES_CONFIG}"
    if not isinstance(prices, Mapping):
        yield where, f"got {prices!r}; must be a JSON object of model: USD per 1M training tokens"
        return
    for model, price in prices.items():
        if not isinstance(price, int | float) or isinstance(price, bool) or price < 0:
            yield f"{where}.{model}", f"got {price!r}; must be a number of USD per 1M tokens"


class StackListing:
    """The marked jobs of one stack instance at one endpoint: listed once (one filtered listing,
    its pages), then kept current with the jobs this process creates."""

    def __init__(self, client: Client, stack: str) -> None:
        self.jobs = list(client.list_jobs(metadata={jobspec.STACK_KEY: stack}))
        self.lock = threading.Lock()

    def add(self, job: Mapping[str, Any]) -> None:
        with self.lock:
            self.jobs.append(dict(job))

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.jobs)


class StackListings:
    """One `StackListing` per (endpoint, stack instance) for a long-lived process (the plugin:
    one process serves every create of a `pulumi up`), so creating many jobs makes one listing
    of the stack's marked jobs rather than one lookup per job."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[tuple[str, str], StackListing] = {}

    def of(self, client: Client, stack: str) -> StackListing:
        key = (str(client.settings.base_url), stack)
        with self.lock:  # the first create lists; the others wait for it, then share it
            found = self.by_key.get(key)
            if found is None:
                found = self.by_key[key] = StackListing(client, stack)
            return found


class FineTuningJobProvider(common.TableProvider):
    """Pulumi dynamic provider for `pulumi_finetune.FineTuningJob`."""

    table = FINE_TUNING_JOB
    listings: StackListings | None = None
    """Set by a process that serves many creates (the plugin); the dynamic provider, pickled
    into state, keeps none and looks each job's marker up on its own."""

    # -- check / diff: local only, no HTTP -----------------------------------------------------

    def check_inputs(
        self, inputs: dict[str, Any], olds: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        fields = self.table.api_fields
        host_failures = list(common.check_host(self, inputs))
        known = not host_failures and not jobspec.is_unknown(inputs.get("host"))
        host = hosts.by_name(str(inputs.get("host"))) if known else None
        watched = self.table.request_fields
        unchanged = bool(olds) and all(olds.get(key) == inputs.get(key) for key in watched)
        same_host = olds.get("host") in (None, inputs.get("host"))  # None: recorded before
        # A spec that was accepted when it was recorded, for the same host, is not validated
        # again: an unchanged program's preview stays cheap, and a package upgrade never turns
        # old specs into errors. A spec moving to another host is checked for that host.
        recheck = not (unchanged and same_host)
        failures = jobspec.validate(inputs, fields, host or hosts.COMPATIBLE) if recheck else []
        wait = inputs.get("wait_for_completion")
        if wait is not None and not jobspec.is_unknown(wait) and not isinstance(wait, bool):
            failures.append(("wait_for_completion", "must be true or false"))
        timeout = inputs.get("wait_timeout_seconds")
        if (
            timeout is not None
            and not jobspec.is_unknown(timeout)
            and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0)
        ):
            failures.append(
                ("wait_timeout_seconds", f"got {timeout!r}; must be a number of seconds > 0")
            )
        on_destroy = inputs.get("on_destroy")
        if (
            on_destroy is not None
            and not jobspec.is_unknown(on_destroy)
            and on_destroy not in DESTROY_BEHAVIOURS
        ):
            failures.append(
                (
                    "on_destroy",
                    f"got {on_destroy!r}; must be one of {', '.join(DESTROY_BEHAVIOURS)}",
                )
            )
        paused = inputs.get("paused")
        if paused is not None and not jobspec.is_unknown(paused) and not isinstance(paused, bool):
            failures.append(("paused", f"got {paused!r}; must be true or false"))
        if paused is True and host is not None and not host.can_pause:
            failures.append(("paused", f"{host.title} cannot pause a job (it has no pause)"))
        if on_destroy == "delete_model" and host is not None and not host.can_delete_models:
            failures.append(
                (
                    "on_destroy",
                    f"{host.title} has no fine-tuned model to delete (its result is a "
                    "checkpoint): use cancel or keep",
                )
            )
        capped = inputs.get("resume_cost_capped")
        if capped is not None and not jobspec.is_unknown(capped) and not isinstance(capped, bool):
            failures.append(("resume_cost_capped", f"got {capped!r}; must be true or false"))
        adopt = inputs.get("adopt_job_id")
        prefix = (host or hosts.COMPATIBLE).job_id_prefix
        if (
            adopt is not None
            and not jobspec.is_unknown(adopt)
            and not (isinstance(adopt, str) and adopt.startswith(prefix))
        ):
            failures.append(("adopt_job_id", f"got {adopt!r}; must be a job id, {prefix}..."))
        if inputs.get("model") == "":
            failures.insert(0, ("model", EMPTY_MODEL))
        failures.extend(common.check_connection_options(inputs))
        failures.extend(host_failures)
        failures.extend(_price_failures(inputs.get(TRAINING_PRICES)))
        if recheck and host is not None:
            failures.extend(_example_limit_failures(inputs, host))
        inputs.update(_estimate(inputs))
        failures.extend(self._check_dates(inputs, olds, unchanged))
        if recheck and host is not None and not failures:
            weaker = identity.weaker_guarantee(host, inputs.get("seed") is not None)
            if weaker:
                winddown.warn(inputs, [weaker])
        return failures

    def _check_dates(
        self, inputs: dict[str, Any], olds: Mapping[str, Any], unchanged: bool
    ) -> list[tuple[str, str]]:
        """`model_retires_on`; a failure for a job that would be created where its host takes
        no more jobs (or on a retired base model); warnings on the job's row 60 days ahead."""
        overrides = inputs.get(LIFECYCLE)
        if jobspec.is_unknown(overrides):
            overrides = None
        bad = list(lifecycle.override_failures(overrides))
        if bad:
            return bad
        old_host = olds.get("host")
        same_host = old_host is None or old_host == inputs.get("host")  # None: recorded before
        adopts = bool(inputs.get("adopt_job_id")) and not olds
        found = winddown.assess(
            inputs,
            creates=not adopts and not (unchanged and same_host),
            today=lifecycle.today(),
            overrides=overrides,
        )
        inputs["model_retires_on"] = found.retires_on
        recorded = olds.get("model_retires_on")
        if unchanged and same_host and isinstance(recorded, str) and recorded and not overrides:
            # what the last refresh read from the host's model object (or the table then)
            # stands until the next refresh: the host's word beats the table
            inputs["model_retires_on"] = recorded
        if not found.failures:
            winddown.warn(inputs, found.warnings)
        return found.failures

    @explained("Unable to compare the fine-tuning job with its state")
    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The table's replaces and updates, and drift a GitOps user must see: a job cancelled
        outside Pulumi no longer trains what the program declares, so it is replaced (labelled
        `status`); a job that failed on its own is not re-run (that could bill again and again):
        the preview says why and how to re-run it."""
        status = olds.get("status")
        job_id = olds.get("job_id") or id_
        reason = olds.get("pause_reason")
        # A job the host paused at its cost cap is not resumed by paused=False: no update.
        held = bool(reason) and status == "paused" and not news.get("paused")
        held = held and not news.get("resume_cost_capped")
        result = super().diff(id_, olds, {**news, "paused": olds.get("paused")} if held else news)
        if held:
            _say(news, f"job {job_id} stays paused: {reason}")
        if status == "cancelled" and "status" not in (result.replaces or []):
            _say(
                news,
                f"job {job_id} was cancelled outside Pulumi; it is replaced by a new job "
                "(the `status` change below)",
            )
            return DiffResult(
                changes=True,
                replaces=[*(result.replaces or []), "status"],
                delete_before_replace=False,
            )
        if status == "failed" and not result.replaces:
            error = olds.get("error") or {}
            why = f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}"
            urn = news.get(identity.URN) or olds.get(identity.URN) or "<urn>"
            _say(
                news,
                f"job {job_id} failed ({why}); it is not re-run automatically. "
                f"`pulumi up --replace '{urn}'` starts it again (billed again)",
            )
        moved = common.moved_by_its_provider(self, olds, news)
        needed = _request_needed(olds) if moved else ""
        if moved and needed and result.replaces:  # the old job would be destroyed from B
            raise SettingsError(common.stranded(f"job {job_id}", *moved, needed))
        if moved and needed:  # kept (not replaced): nothing is sent for it from here
            _say(news, common.kept_unread(f"job {job_id}", f"lives at {moved[0]} and {needed}"))
        if "host" in (result.replaces or []):
            _say(
                news,
                f"job {job_id} moves from host {olds.get('host')} to {news.get('host')}: a new "
                "job is created there, then the old one is destroyed through the provider it was "
                "created with"
                + (
                    f", whose key is now bound to {moved[1]}: the old job is left at {moved[0]} "
                    "as it is (nothing there needs a request)"
                    if moved
                    else ". A provider per host (`host_provider`, see examples/move-host) has "
                    "the old job handled on its own host with its own key"
                ),
            )
        return result

    def compared(self, props: Mapping[str, Any]) -> Mapping[str, Any]:
        """API fields as normalised in the request: the recorded `spec` of the job (the outputs of
        the same names hold what the API resolved), else the declared inputs."""
        fields = self.table.api_fields
        spec = props.get(SPEC_OUTPUT) or jobspec.api_spec(props, fields)
        hosted = jobspec.api_spec(props, self.table.host_fields)
        tier = hosted.get("training_type")
        if isinstance(tier, str) and not jobspec.is_unknown(tier):
            # Sent as written (Azure's pages spell tiers in several cases); a change of case is
            # the same tier, never a replacement of a paid job.
            hosted["training_type"] = tier.strip().lower()
        return {
            **props,
            **{key: spec.get(key) for key in fields},
            **{key: hosted.get(key) for key in self.table.host_fields},
        }

    # -- create / read / update / delete ------------------------------------------------------

    @explained("Unable to create the fine-tuning job", common.base_url_of)
    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = jobspec.api_spec(props, self.table.request_fields)
        with common.client_for(self, props) as client:
            adopt = props.get("adopt_job_id")
            job = _adopt(client, str(adopt), spec) if adopt else self._start(client, props, spec)
            # a wait ends on a retrieve, which may return less than the create or list did
            job = client.shape.with_recorded(self._steer(client, props, job), job)
            live = _live_outputs(client, job) if job.get("status") != "validating_files" else {}
        outs = {**common.inputs_of(props), **job_outputs(job, self.table), **live}
        outs[SPEC_OUTPUT] = spec
        outs[ORIGIN.name] = client.settings.origin
        outs.update(_host_outputs(self, job, outs, props))
        if outs["pause_reason"]:
            _say(props, f"job {job['id']} is paused: {outs['pause_reason']}")
        return CreateResult(job["id"], self.table.stable(outs))

    def _start(self, client: Client, props: Mapping[str, Any], spec: dict[str, Any]) -> JSON:
        """The job of this resource: an orphan of an interrupted run, or a new one."""
        marker = identity.marker_for(
            str(props.get(identity.STACK_INSTANCE) or ""),
            str(props.get(identity.RESOURCE_KEY) or ""),
            jobspec.spec_hash(spec),
        )
        host = _host(self, props)
        body = jobspec.wire_body(spec)
        place = identity.marker_place(host, spec.get("seed") is not None)
        stack = identity.stack_marker(str(props.get(identity.STACK_INSTANCE) or ""))
        if place == "metadata":
            metadata = {**spec.get("metadata", {}), jobspec.MARKER_KEY: marker}
            if stack and len(metadata) < 16:  # a user with 15 pairs keeps them all
                metadata[jobspec.STACK_KEY] = stack
            body["metadata"] = metadata
        elif place == "seed":
            body["seed"] = identity.marker_seed(marker)
        orphans = _Orphans(client, host, place, marker, body, props.get(identity.OWNED_JOB))
        listing = self.listings.of(client, stack) if self.listings and stack else None
        orphans.shared = listing if jobspec.STACK_KEY in body.get("metadata", {}) else None
        found = orphans.find()
        if found is not None:
            return found
        try:
            job = _create_once(client, body, orphans)
            if listing is not None:
                listing.add(job)
            return job
        except APIError as exc:
            name = str(props.get("host") or common.host_of(self, props))
            why = winddown.refusal(exc, name, spec.get("model"), props.get(LIFECYCLE))
            if why:
                setattr(exc, EXPLANATION, why)
            raise

    def _steer(self, client: Client, props: Mapping[str, Any], job: JSON) -> JSON:
        """Bring the job to the declared state: paused or not; waited on if asked."""
        timeout = float(props.get("wait_timeout_seconds") or self._default("wait_timeout_seconds"))
        if props.get("paused"):
            return _pause_when_running(client, job, timeout, _progress(props))
        if props.get("wait_for_completion"):
            job = waiting.wait_for_job(client, job, timeout, _progress(props))
            if job.get("status") in ("failed", "cancelled"):
                raise JobFailedError(job["id"], str(job.get("status")), job.get("error"))
        return job

    @explained("Unable to refresh the fine-tuning job", common.base_url_of)
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The job as the endpoint reports it (refresh, and `FineTuningJob.get`): status,
        outputs, checkpoints and metrics; `paused` as it really is, so a job paused or resumed
        outside Pulumi shows as drift. A job that no longer exists leaves the state. A job
        recorded at an origin this provider now has no key for is not asked for: its state is
        kept as recorded (asking the new origin would drop it, though it still runs)."""
        settings = common.settings_for(self, props)
        if common.recorded_origin(props):
            why = common.elsewhere(self, props, settings)
            if why:
                _say(props, common.kept_unread(f"job {id_}", why))
                return ReadResult(id_, common.inputs_of(props))
        with common.client_for(self, props, settings) as client:
            try:
                if props.get("job_id"):
                    # what the host's retrieve does not return is as recorded, never drift
                    job = client.shape.with_recorded(client.retrieve_job(id_), props)
                else:  # nothing recorded (import, `get`): the host's list has the rest
                    job = client.shape.retrieve_in_full(client, id_)
            except NotFoundError:
                return ReadResult("", {})
            live = _live_outputs(client, job)
            shutdown = _shutdown_date(client, job.get("model"))
        outs = {**common.inputs_of(props), **job_outputs(job, self.table), **live}
        outs[ORIGIN.name] = common.recorded_origin(props) or settings.origin
        outs.setdefault(SPEC_OUTPUT, jobspec.api_spec(props, self.table.api_fields))
        outs["host"] = outs.get("host") or common.host_of(self, props)
        outs.update(_host_outputs(self, job, outs, {**props, "host": outs["host"]}))
        if outs["pause_reason"] and not props.get("pause_reason"):
            _say(props, f"job {id_} is paused: {outs['pause_reason']}")
        overrides = _mapping(props.get(LIFECYCLE))
        retires = lifecycle.retires_on(str(outs["host"]), job.get("model"), overrides)
        overridden = retires is not None and retires.source.startswith("stack config")
        # The stack's own override first, then the host's word, then the table.
        outs["model_retires_on"] = (
            retires.day if retires and (overridden or not shutdown) else shutdown or ""
        )
        return ReadResult(id_, self.table.stable(outs))

    @explained("Unable to update the fine-tuning job", common.base_url_of)
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Options change in place: `paused` pauses or resumes the job (once); turning
        `wait_for_completion` on waits like a create would. Other options make no API call."""
        outs = dict(super().update(id_, olds, news).outs or {})
        pause_changed = bool(olds.get("paused")) != bool(news.get("paused"))
        starts_waiting = bool(news.get("wait_for_completion")) and not olds.get(
            "wait_for_completion"
        )
        if not (pause_changed or starts_waiting):
            return UpdateResult(outs)
        settings = common.settings_for(self, news)
        recorded = common.recorded_origin(olds)
        why = recorded and common.elsewhere(self, {**news, ORIGIN.name: recorded}, settings)
        if why:  # no request for a job that lives where this provider has no key
            _say(news, common.kept_unread(f"job {id_}", why))
            return UpdateResult({**outs, "paused": olds.get("paused")})
        host = _host(self, news)
        held = False
        with common.client_for(self, news, settings) as client:
            job = client.retrieve_job(id_)
            if job.get("status") in TERMINAL_STATUSES:
                pass  # nothing to pause, resume or wait for
            elif pause_changed and not news.get("paused"):
                held = bool(pause_reason(job, olds, host)) and not news.get("resume_cost_capped")
                if job.get("status") == "paused" and not held:
                    job = client.resume_job(id_)
                if news.get("wait_for_completion"):
                    job = self._steer(client, news, job)
            else:
                job = self._steer(client, news, job)
            job = client.shape.with_recorded(job, olds)
            live = _live_outputs(client, job)
        outs.update(job_outputs(job, self.table), **live)
        outs["paused"] = bool(news.get("paused")) or held
        outs.update(_host_outputs(self, job, outs, {**olds, "host": host.name}))
        return UpdateResult(self.table.stable(outs))

    @classmethod
    def _default(cls, name: str) -> Any:
        return cls.table[name].default

    @explained("Unable to delete (cancel) the fine-tuning job", common.base_url_of)
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        behaviour = props.get("on_destroy") or self._default("on_destroy")
        if behaviour == "keep":
            with contextlib.suppress(SettingsError):  # nothing is sent either way
                here = common.settings_for(self, props)
                why = common.elsewhere(self, props, here) if common.recorded_origin(props) else ""
                if why:
                    _say(props, common.forgotten(f"job {id_}", why, done=True))
            return
        settings = common.settings_for(self, props)
        why = common.elsewhere(self, props, settings)
        if why:
            done = bool(common.recorded_origin(props)) and not _request_needed(props)
            _say(props, common.forgotten(f"job {id_}", why, done=done))
            return
        with common.client_for(self, props, settings) as client:
            try:
                job = client.retrieve_job(id_)
            except NotFoundError:
                if not common.recorded_origin(props):
                    _moved_away(self, id_, props, settings)
                return
            job = _cancel_until_stopped(client, job)
            model = job.get("fine_tuned_model")
            if behaviour == "delete_model" and job.get("status") == "succeeded" and model:
                with contextlib.suppress(NotFoundError):
                    client.delete_model(model)


def _request_needed(recorded: Mapping[str, Any]) -> str:
    """Why destroying the job as recorded needs a request where it lives ("" when it needs
    none): it may still train (and bill), or its model is to be deleted. The recorded
    `on_destroy` decides, as it does for the delete."""
    behaviour = recorded.get("on_destroy") or FINE_TUNING_JOB["on_destroy"].default
    status = recorded.get("status")
    if behaviour == "keep":
        return ""
    if status not in TERMINAL_STATUSES:
        return f"is {status or 'in an unknown state'} there (a destroy cancels it)"
    if behaviour == "delete_model" and status == "succeeded" and recorded.get("fine_tuned_model"):
        return f"its model {recorded['fine_tuned_model']} is to be deleted there (on_destroy)"
    return ""


def _moved_away(
    provider: common.TableProvider,
    job_id: str,
    props: Mapping[str, Any],
    settings: Settings,
) -> None:
    """Say so when a job is not found because the provider's settings now point at another
    host (the stack's config moved it: the engine destroys a replaced job through the provider
    it was created with), where the base URL alone did not tell (`common.elsewhere`)."""
    recorded = props.get("host")
    current = common.host_of(provider, {**props, "host": None})  # what the settings say now
    if isinstance(recorded, str) and recorded and recorded != current:
        _say(
            props,
            common.forgotten(
                f"job {job_id}",
                f"was created on host {recorded}, but this provider's settings now point at "
                f"{current} ({settings.origin}), where it does not exist",
                asked=True,
            ),
        )


class _Orphans:
    """Finds the jobs `create` may adopt: this resource's (by its marker, or by what the host
    echoes: see `pulumi_finetune.identity`), not the job the stack's state records for this
    resource nor older than it, not failed or cancelled, and (if succeeded) with a live model."""

    def __init__(
        self,
        client: Client,
        host: hosts.Host,
        place: identity.Place,
        marker: str,
        body: Mapping[str, Any],
        owned: Any,
    ) -> None:
        self.client = client
        self.host = host
        self.place = place
        self.marker = marker
        self.body = body
        self.owned = owned if isinstance(owned, Mapping) else None
        self.shared: StackListing | None = None
        """The stack's marked jobs as listed once for the process (before any post only)."""
        self.seen: set[str] | None = None
        """Ids of the jobs listed before the first post (they are not a lost answer's job)."""
        self._floor: float | None = None

    def floor(self) -> float:
        """No job of this spec was created before its training file (the host's own clock on
        both sides), nor is one older than the job the state owns adoptable."""
        if self._floor is None:
            created = (self.owned or {}).get("created_at")
            floor = float(created) if isinstance(created, int | float) else 0.0
            with contextlib.suppress(FinetuneError):
                uploaded = self.client.retrieve_file(str(self.body.get("training_file"))).get(
                    "created_at"
                )
                if isinstance(uploaded, int | float) and not isinstance(uploaded, bool):
                    # an hour's margin: the host's file and job services keep their own clocks
                    floor = max(floor, float(uploaded) - FLOOR_MARGIN_SECONDS)
            self._floor = floor
        return self._floor

    def listed(self, posted: bool = False) -> Iterator[dict[str, Any]]:
        """The jobs that could be this resource's: the stack's shared listing (before a post),
        else filtered by the marker where the host's list takes the filter, else every job
        newest first down to `floor`."""
        if self.shared is not None and not posted:
            for job in self.shared.snapshot():
                if self.carries(job):  # as listed: read again, its status may have moved on
                    with contextlib.suppress(NotFoundError):
                        yield self.client.retrieve_job(str(job["id"]))
            return
        if self.place == "metadata" and self.host.lists_by_metadata:
            yield from self.client.list_jobs(metadata={jobspec.MARKER_KEY: self.marker})
            return
        floor = self.floor()
        for job in self.client.list_jobs():
            created = job.get("created_at")
            if isinstance(created, int | float) and created < floor:
                return  # newest first: nothing older can be this spec's
            yield job

    def carries(self, job: Mapping[str, Any]) -> bool:
        if self.place == "metadata":
            # the filter is re-checked: a server may ignore it
            return (job.get("metadata") or {}).get(jobspec.MARKER_KEY) == self.marker
        if self.place == "seed" and job.get("seed") != self.body.get("seed"):
            return False
        return _echoes_match(self.body, job, self.host)

    def marked(self, posted: bool = False) -> list[dict[str, Any]]:
        """Every job carrying the marker (or echoing the request, where there is none)."""
        jobs = list(self.listed(posted))
        if self.seen is None:
            self.seen = {str(job.get("id")) for job in jobs}
        return [job for job in jobs if self.carries(job)]

    def adoptable(self, job: Mapping[str, Any]) -> bool:
        if job.get("status") in NOT_ADOPTABLE:
            return False
        if self.owned is None:
            raise SettingsError(
                f"fine-tuning job {job['id']} carries this resource's marker, but the program "
                "could not read the stack's state to tell an orphan of an interrupted run from "
                "the job this resource already owns; nothing was created. Run `pulumi up` again "
                "(see docs/reliability.md)"
            )
        created = self.owned.get("created_at")
        current = int(created) if isinstance(created, int | float) else 0
        if job["id"] == self.owned.get("job_id") or (job.get("created_at") or 0) <= current:
            return False
        model = job.get("fine_tuned_model")
        if job.get("status") == "succeeded" and model:
            try:
                self.client.retrieve_model(str(model))
            except NotFoundError:
                return False  # its model was deleted (on_destroy=delete_model): not reusable
        return True

    def all(self, posted: bool = False) -> list[dict[str, Any]]:
        """The adoptable jobs; `posted`: after a post, where only a marker or a job the first
        listing did not hold tells this resource's job from one that echoes the same."""
        seen = (self.seen or set()) if posted and self.place == "echoes" else set()
        marked = self.marked(posted)
        return [job for job in marked if job["id"] not in seen and self.adoptable(job)]

    def find(self, posted: bool = False) -> dict[str, Any] | None:
        """The newest adoptable job, if any. Where only echoes tell, two candidates are two
        jobs that cannot be told apart: an error, and nothing is posted."""
        candidates = self.all(posted)
        if not candidates:
            return None
        if self.place == "echoes" and len(candidates) > 1:
            ids = ", ".join(sorted(str(job["id"]) for job in candidates))
            raise FinetuneError(
                f"{len(candidates)} fine-tuning jobs on {self.host.title} match this resource's "
                f"request ({ids}), and the host keeps no marker to tell which is its own; nothing "
                "was created. Set adopt_job_id to the one this resource owns (and cancel the "
                "others if they are no one's)"
            )
        return max(candidates, key=lambda job: (job.get("created_at") or 0, job["id"]))


def _matches(declared: Any, live: Any) -> bool:
    """Whether what the host returns agrees with what was sent: every declared key of an object
    (the host fills in defaults and resolves "auto"), the value itself otherwise."""
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return all(
            _matches(value, live.get(key))
            for key, value in declared.items()
            if value != "auto" and key in live
        )
    return bool(declared == live)


def _echoes_match(body: Mapping[str, Any], job: Mapping[str, Any], host: hosts.Host) -> bool:
    """Whether `job` echoes the request `body` in every field the host returns."""
    if job.get("training_file") != body.get("training_file"):
        return False
    if base_model(str(job.get("model") or "")) != base_model(str(body.get("model") or "")):
        return False
    for name in ("validation_file", "suffix"):
        if name in host.echoes and (job.get(name) or None) != (body.get(name) or None):
            return False
    if "seed" in host.echoes and "seed" in body and job.get("seed") != body.get("seed"):
        return False
    method = body.get("method") or {"type": "supervised"}
    live = job.get("method")
    if "method" in host.echoes and isinstance(live, Mapping) and isinstance(method, Mapping):
        if (live.get("type") or "supervised") != method.get("type"):
            return False
        kind = str(method.get("type"))
        if not _matches(method.get(kind) or {}, live.get(kind) or {}):
            return False
    hyper = body.get("hyperparameters")
    if "hyperparameters" in host.echoes and isinstance(hyper, Mapping):
        return _matches(hyper, job.get("hyperparameters") or {})
    return True


def _create_once(
    client: Client, body: dict[str, Any], orphans: _Orphans, attempts: int = 5
) -> dict[str, Any]:
    """POST the job; after an ambiguous failure, look for it by marker before posting again.

    Only a failure that may have taken effect (5xx, a connection dropped after sending, a
    timeout) leads to the search; 429 and connection refusals are retried inside the client,
    other 4xx (insufficient_quota among them) are raised at once. A post that succeeds after an
    ambiguous failure is followed by one more search: a marked job that the earlier attempt did
    create but the list did not show yet is cancelled, so exactly one job is left running. Where
    the host keeps no marker such a job is not cancelled (it might be another's): it is named.
    """
    from ..client import is_ambiguous

    ambiguous = False
    for attempt in range(attempts):
        try:
            job = client.create_job(body)
        except FinetuneError as exc:
            if not is_ambiguous(exc) or attempt == attempts - 1:
                raise
            ambiguous = True
            time.sleep(min(8.0, 0.5 * 2.0**attempt) * (1 - 0.25 * random.random()))
            found = orphans.find(posted=True)
            if found is not None:
                return found
            continue
        if ambiguous:
            for late in orphans.all(posted=True):
                if late["id"] == job["id"] or late.get("status") in TERMINAL_STATUSES:
                    continue
                if orphans.place == "echoes":
                    print(
                        f"fine-tuning job {late['id']} echoes the request of job {job['id']} "
                        "and appeared after a create whose answer was lost; the host keeps no "
                        "marker to tell whose it is, so it is left running: cancel it if it is "
                        "no one's",
                        file=sys.stderr,
                        flush=True,
                    )
                    continue
                _cancel_until_stopped(client, late)
        return job
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _pause_when_running(
    client: Client, job: JSON, timeout: float, progress: waiting.Progress
) -> JSON:
    """Pause the job. OpenAI pauses only a running job (that has trained a step): a job still
    validating or queued is waited for (within `timeout`, with progress) and paused once it
    runs; a paused or finished job is left as it is. A job not yet pausable at the timeout is
    recorded as seen; the next `pulumi up --refresh` pauses it."""
    deadline = time.monotonic() + timeout
    cadence = waiting.Cadence()
    while job.get("status") not in TERMINAL_STATUSES | PAUSED_STATUSES:
        if job.get("status") == "running":
            try:
                return client.pause_job(str(job["id"]))
            except (BadRequestError, ConflictError):
                pass  # not a step trained yet: try again shortly
        remaining = deadline - time.monotonic()
        if remaining <= 0 or waiting.STOP.is_set():
            return job
        if progress.due(job):
            progress.report(job, {})
        waiting.stopped_sleep(min(cadence.after(False), remaining, 5.0))
        job = client.retrieve_job(str(job["id"]))
    return job


def _adopt(client: Client, job_id: str, spec: Mapping[str, Any]) -> JSON:
    """The existing job `job_id`, if what the program declares agrees with it."""
    try:
        job = client.shape.retrieve_in_full(client, job_id)
    except NotFoundError:
        raise FinetuneError(
            f"adopt_job_id: there is no fine-tuning job {job_id} at this endpoint"
        ) from None
    for field, declared, live in _declared_vs_live(spec, job):
        raise FinetuneError(
            f"adopt_job_id: job {job_id} has {field} = {live!r}, but the program declares "
            f"{field} = {declared!r}. Declare what the job has, or remove adopt_job_id to start "
            "a new job"
        )
    return job


def _declared_vs_live(
    spec: Mapping[str, Any], job: Mapping[str, Any]
) -> Iterator[tuple[str, Any, Any]]:
    """(field, declared, live) for each declared value the live job contradicts. "auto"
    contradicts nothing: the API resolves it."""
    for field in ("model", "training_file", "validation_file", "seed"):
        if field in spec and spec[field] != job.get(field):
            yield field, spec[field], job.get(field)
    suffix = spec.get("suffix")
    model = job.get("fine_tuned_model")
    # OpenAI: ft:BASE:ORG:SUFFIX:ID; Azure OpenAI: BASE.ft-HEX-SUFFIX
    if suffix and model and not (f":{suffix}:" in model or str(model).endswith(f"-{suffix}")):
        yield "suffix", suffix, model
    for key, value in (spec.get("metadata") or {}).items():
        live = (job.get("metadata") or {}).get(key)
        if live != value:
            yield f"metadata.{key}", value, live
    method = spec.get("method")
    if isinstance(method, Mapping):
        live_method = job.get("method") or {}
        if method.get("type") != live_method.get("type"):
            yield "method.type", method.get("type"), live_method.get("type")
        kind = str(method.get("type"))
        declared_hp = ((method.get(kind) or {}).get("hyperparameters")) or {}
        live_hp = ((live_method.get(kind) or {}).get("hyperparameters")) or {}
        for key, value in declared_hp.items():
            if value != "auto" and live_hp.get(key) not in (None, value):
                yield f"method.{kind}.hyperparameters.{key}", value, live_hp.get(key)
    for key, value in (spec.get("hyperparameters") or {}).items():
        live = (job.get("hyperparameters") or {}).get(key)
        if value != "auto" and live not in (None, value):
            yield f"hyperparameters.{key}", value, live


def _cancel_until_stopped(
    client: Client, job: dict[str, Any], timeout: float = 120.0
) -> dict[str, Any]:
    """Cancel the job unless it has finished, and confirm that it stopped.

    Returns only once the endpoint reports a terminal status (or the job is gone: 404), so an
    unknown status (status is an open string) is never taken for "stopped". Transient faults are
    retried by the client; a job still not stopped after `timeout` raises, which keeps it in
    state for a retried `pulumi destroy`.
    """
    deadline = time.monotonic() + timeout
    while job.get("status") not in TERMINAL_STATUSES:
        try:
            job = client.cancel_job(job["id"])
        except NotFoundError:
            return {**job, "status": "deleted"}
        except (BadRequestError, ConflictError):
            pass  # it finished meanwhile, or is mid-transition: read it below
        if job.get("status") in TERMINAL_STATUSES:
            break
        if time.monotonic() > deadline:
            raise FinetuneError(
                f"fine-tuning job {job['id']} is still {job.get('status')!r} after cancelling; "
                "it is kept in state so that a retried `pulumi destroy` cancels it"
            )
        time.sleep(1.0)
        try:
            job = client.retrieve_job(job["id"])
        except NotFoundError:
            return {**job, "status": "deleted"}
    return job
