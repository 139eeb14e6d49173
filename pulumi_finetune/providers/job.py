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

from pulumi.dynamic import CreateResult, ReadResult

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
from ..schema import FINE_TUNING_JOB, Table
from . import common

if TYPE_CHECKING:
    from ..client import Client

ACTIVE_STATUSES = frozenset(
    {"validating_files", "queued", "running", "paused", "pending", "created"}
)
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
NOT_ADOPTABLE = frozenset({"failed", "cancelled"})

DESTROY_BEHAVIOURS = ("cancel", "keep", "delete_model")
SPEC_OUTPUT = "spec"


def job_outputs(job: Mapping[str, Any], table: Table = FINE_TUNING_JOB) -> dict[str, Any]:
    """Every field of the job object (unknown ones too) under its output name, every output the
    table names (None where the API is silent); a healthy error: None."""
    renamed = {attr.api_field for attr in table.api_outputs if attr.api_name}
    outs = {k: v for k, v in job.items() if k not in renamed and k not in table.ignored_api_fields}
    outs.update(table.from_api(job))
    error = job.get("error")
    if not isinstance(error, Mapping) or not any(error.get(k) for k in ("code", "message")):
        outs["error"] = None
    return outs


class FineTuningJobProvider(common.TableProvider):
    """Pulumi dynamic provider for `pulumi_finetune.FineTuningJob`."""

    table = FINE_TUNING_JOB

    # -- check / diff: local only, no HTTP -----------------------------------------------------

    def check_inputs(self, inputs: dict[str, Any]) -> list[tuple[str, str]]:
        failures = jobspec.validate(inputs, self.table.api_fields)
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
        failures.extend(common.check_connection_options(inputs))
        return failures

    def compared(self, props: Mapping[str, Any]) -> Mapping[str, Any]:
        """API fields as normalised in the request: the recorded `spec` of the job (the outputs of
        the same names hold what the API resolved), else the declared inputs."""
        fields = self.table.api_fields
        spec = props.get(SPEC_OUTPUT) or jobspec.api_spec(props, fields)
        return {**props, **{key: spec.get(key) for key in fields}}

    # -- create / read / update / delete ------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = jobspec.api_spec(props, self.table.api_fields)
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
                timeout = props.get("wait_timeout_seconds") or self._default("wait_timeout_seconds")
                job = _wait(client, job, float(timeout))
        outs = {**common.inputs_of(props), **job_outputs(job, self.table), SPEC_OUTPUT: spec}
        return CreateResult(job["id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with common.client_for(self, props) as client:
            try:
                job = client.retrieve_job(id_)
            except NotFoundError:
                return ReadResult("", {})
        outs = {**common.inputs_of(props), **job_outputs(job, self.table)}
        outs.setdefault(SPEC_OUTPUT, jobspec.api_spec(props, self.table.api_fields))
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        behaviour = props.get("on_destroy") or self._default("on_destroy")
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

    def _default(self, name: str) -> Any:
        return self.table[name].default


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
