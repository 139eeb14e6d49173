"""The FineTuningJob provider: check, diff, create, read, update, delete of one fine-tuning job.

Runs in Pulumi's provider process. The object Pulumi pickles into state holds nothing: settings
(and the key) arrive through `configure()` in the provider process.

How a job is started exactly once: see `pulumi_finetune.identity`. Every job carries a marker
in its metadata (one of the 16 slots; `check` keeps the user to 15) that names the stack instance,
the resource and the spec. `create` lists the jobs with that marker before posting, and again
whenever a post may have taken effect without an answer (5xx, dropped connection, timeout), and
adopts an *orphan* instead of posting (again). That covers lost responses and runs killed
mid-create or mid-wait. A marked job is adopted only if
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
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .. import identity
from .. import spec as jobspec
from ..errors import (
    BadRequestError,
    ConflictError,
    FinetuneError,
    JobFailedError,
    NotFoundError,
    SettingsError,
)
from . import common

if TYPE_CHECKING:
    from ..client import Client

ACTIVE_STATUSES = frozenset(
    {"validating_files", "queued", "running", "paused", "pending", "created"}
)
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
NOT_ADOPTABLE = frozenset({"failed", "cancelled"})

DESTROY_BEHAVIOURS = ("cancel", "keep", "delete_model")

# Inputs that only steer the provider: they update in place and never reach the API.
PROVIDER_OPTIONS: dict[str, Any] = {
    "wait_for_completion": False,
    "wait_timeout_seconds": 6 * 3600.0,
    "on_destroy": "cancel",
    **common.CONNECTION_OPTIONS,
}
SPEC_OUTPUT = "spec"

# Fields of the `fine_tuning.job` object, as outputs. `id` is the resource's id (and `job_id`).
JOB_OUTPUTS = (
    "job_id",
    "status",
    "fine_tuned_model",
    "trained_tokens",
    "result_files",
    "error",
    "created_at",
    "finished_at",
    "estimated_finish",
    "organization_id",
    "model",
    "training_file",
    "validation_file",
    "hyperparameters",
    "method",
    "seed",
    "metadata",
    "integrations",
)
KNOWN_INPUTS = frozenset(
    {*jobspec.API_FIELDS, *PROVIDER_OPTIONS, *JOB_OUTPUTS, *identity.INTERNAL_INPUTS, SPEC_OUTPUT}
)


def job_outputs(job: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of the job object (unknown ones too); `id` as `job_id`; a healthy error: None."""
    outs = {k: v for k, v in job.items() if k not in ("id", "object")}
    outs["job_id"] = job["id"]
    error = job.get("error")
    if not isinstance(error, Mapping) or not any(error.get(k) for k in ("code", "message")):
        outs["error"] = None
    for name in JOB_OUTPUTS:
        outs.setdefault(name, None)
    return outs


class FineTuningJobProvider(ResourceProvider):
    """Pulumi dynamic provider for `pulumi_finetune.FineTuningJob`."""

    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        return {}  # nothing configured at run time ever reaches the pickled state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def configure(self, req: ConfigureRequest) -> None:
        common.store_config(self, req)

    # -- check / diff: local only, no HTTP -----------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(path, reason) for path, reason in jobspec.validate(news)]
        for key in sorted(set(news) - KNOWN_INPUTS - {"__provider"}):
            failures.append(CheckFailure(key, f"unknown argument {key!r} of FineTuningJob"))
        failures.extend(self._check_options(news))
        inputs = dict(news)
        for key, default in PROVIDER_OPTIONS.items():
            if inputs.get(key) is None and default is not None:
                inputs[key] = default
        return CheckResult(inputs, failures)

    @staticmethod
    def _check_options(news: Mapping[str, Any]) -> list[CheckFailure]:
        failures = []
        wait = news.get("wait_for_completion")
        if wait is not None and not jobspec.is_unknown(wait) and not isinstance(wait, bool):
            failures.append(CheckFailure("wait_for_completion", "must be true or false"))
        timeout = news.get("wait_timeout_seconds")
        if (
            timeout is not None
            and not jobspec.is_unknown(timeout)
            and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0)
        ):
            failures.append(
                CheckFailure(
                    "wait_timeout_seconds", f"got {timeout!r}; must be a number of seconds > 0"
                )
            )
        on_destroy = news.get("on_destroy")
        if (
            on_destroy is not None
            and not jobspec.is_unknown(on_destroy)
            and on_destroy not in DESTROY_BEHAVIOURS
        ):
            failures.append(
                CheckFailure(
                    "on_destroy",
                    f"got {on_destroy!r}; must be one of {', '.join(DESTROY_BEHAVIOURS)}",
                )
            )
        failures.extend(CheckFailure(p, r) for p, r in common.check_connection_options(news))
        return failures

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_spec = olds.get(SPEC_OUTPUT) or jobspec.api_spec(olds)
        new_spec = jobspec.api_spec(news)
        replaces = [
            key
            for key in jobspec.API_FIELDS
            if jobspec.is_unknown(news.get(key)) or old_spec.get(key) != new_spec.get(key)
        ]
        updates = [
            key
            for key, default in PROVIDER_OPTIONS.items()
            if _with_default(olds.get(key), default) != _with_default(news.get(key), default)
        ]
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            stables=[] if replaces else ["job_id"],
            delete_before_replace=False,
        )

    # -- create / read / update / delete ------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = jobspec.api_spec(props)
        digest = jobspec.spec_hash(spec)
        marker = identity.marker_for(
            str(props.get(identity.STACK_INSTANCE) or ""),
            str(props.get(identity.RESOURCE_KEY) or ""),
            digest,
        )
        body = dict(spec)
        body["metadata"] = {**spec.get("metadata", {}), jobspec.MARKER_KEY: marker}
        with common.client_for(self, props) as client:
            orphans = _Orphans(client, marker, props.get(identity.OWNED_JOB))
            job = orphans.find()
            if job is None:
                job = _create_once(client, body, orphans)
            if props.get("wait_for_completion"):
                job = _wait(
                    client,
                    job,
                    float(
                        props.get("wait_timeout_seconds")
                        or PROVIDER_OPTIONS["wait_timeout_seconds"]
                    ),
                )
        outs = {**_inputs_of(props), **job_outputs(job), SPEC_OUTPUT: spec}
        return CreateResult(job["id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with common.client_for(self, props) as client:
            try:
                job = client.retrieve_job(id_)
            except NotFoundError:
                return ReadResult("", {})
        outs = {**_inputs_of(props), **job_outputs(job)}
        outs.setdefault(SPEC_OUTPUT, jobspec.api_spec(props))
        return ReadResult(id_, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = {k: v for k, v in olds.items() if k != "__provider"}
        for key in (*PROVIDER_OPTIONS, *identity.INTERNAL_INPUTS):
            outs[key] = news.get(key)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        behaviour = props.get("on_destroy") or "cancel"
        if behaviour == "keep":
            return
        with common.client_for(self, props) as client:
            try:
                job = client.retrieve_job(id_)
            except NotFoundError:
                return
            job = _cancel_until_stopped(client, job)
            model = job.get("fine_tuned_model")
            if behaviour == "delete_model" and job.get("status") == "succeeded" and model:
                with contextlib.suppress(NotFoundError):
                    client.delete_model(model)


def _with_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != "__provider"}


class _Orphans:
    """Finds the jobs `create` may adopt: marked, not the job the stack's state records for this
    resource nor older than it, not failed or cancelled, and (if succeeded) with a live model."""

    def __init__(self, client: Client, marker: str, owned: Any) -> None:
        self.client = client
        self.marker = marker
        self.owned = owned if isinstance(owned, Mapping) else None

    def marked(self) -> list[dict[str, Any]]:
        """Every job carrying the marker (the filter is re-checked: a server may ignore it)."""
        return [
            job
            for job in self.client.list_jobs(metadata={jobspec.MARKER_KEY: self.marker})
            if (job.get("metadata") or {}).get(jobspec.MARKER_KEY) == self.marker
        ]

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

    def all(self) -> list[dict[str, Any]]:
        return [job for job in self.marked() if self.adoptable(job)]

    def find(self) -> dict[str, Any] | None:
        """The newest adoptable job, if any."""
        candidates = self.all()
        if not candidates:
            return None
        return max(candidates, key=lambda job: (job.get("created_at") or 0, job["id"]))


def _create_once(
    client: Client, body: dict[str, Any], orphans: _Orphans, attempts: int = 5
) -> dict[str, Any]:
    """POST the job; after an ambiguous failure, look for it by marker before posting again.

    Only a failure that may have taken effect (5xx, a connection dropped after sending, a
    timeout) leads to the search; 429 and connection refusals are retried inside the client,
    other 4xx (insufficient_quota among them) are raised at once. A post that succeeds after an
    ambiguous failure is followed by one more search: a job that the earlier attempt did create
    but the list did not show yet is cancelled, so exactly one job is left running.
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
            found = orphans.find()
            if found is not None:
                return found
            continue
        if ambiguous:
            for late in orphans.all():
                if late["id"] != job["id"] and late.get("status") not in TERMINAL_STATUSES:
                    _cancel_until_stopped(client, late)
        return job
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _wait(client: Client, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll until the job ends or `timeout` passes; the job as last seen either way.

    A job still running at the timeout is returned as observed, so that state records it (and
    `pulumi refresh` or a later `pulumi up` sees its outcome): it is neither orphaned nor
    cancelled after the money is spent. The same holds when the endpoint stops answering during
    the wait (the client's retries and deadline exhausted): raising would make Pulumi forget a
    running job. A failed or cancelled job raises JobFailedError.
    """
    deadline = time.monotonic() + timeout
    interval = 0.25
    while job.get("status") not in TERMINAL_STATUSES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return job
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.6, 30.0)
        try:
            job = client.retrieve_job(job["id"])
        except FinetuneError:
            return job
    if job.get("status") != "succeeded":
        raise JobFailedError(job["id"], str(job.get("status")), job.get("error"))
    return job


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
