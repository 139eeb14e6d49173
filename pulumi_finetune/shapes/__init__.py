"""API shapes: one module per wire a host speaks, behind one interface (`Shape`), chosen by the
host's row (`Host.shape`); the resource and the providers speak OpenAI's vocabulary only.

A shape owns everything that differs between one host's wire and OpenAI's vocabulary, request
and answer side by side: the paths and methods of each call, the create-job body (from
OpenAI's `method`, `hyperparameters`, `seed`, ... to the host's fields), the job object back
(ids, statuses through one table, ISO times to Unix seconds, what names the trained model),
events (newest first, `type: "metrics"` with `data.step`), checkpoints, file uploads and file
objects, listing and filtering (a host that cannot filter by `metadata` returns every job,
translated), and what `check` must refuse because the wire cannot carry it (`failures`).
Errors are read by `client.responses` whatever the host (OpenAI's `{"error": {...}}` body, which
Together's `ErrorData` and Google-style `{"error": {code, message, status}}` bodies also are,
Azure's, FastAPI's `{"detail": ...}`), so a shape only names its error body when it differs.

- `openai`: OpenAI's own paths and objects, untranslated: OpenAI, Azure OpenAI, Nebius, Amazon
  Bedrock's OpenAI-compatible endpoint and any compatible host (what differs among them is
  data in their rows: auth, create fields, hyperparameters, `expires_after`, ...).
- `together`: Together AI's fine-tuning API (togethercomputer/openapi `openapi.yaml`).

What the next host with an API of its own takes (Fireworks AI, docs.fireworks.ai/api-reference:
training data as a `datasets` resource under `/v1/accounts/ACCOUNT/`, jobs as
`supervisedFineTuningJobs` with `dataset`, `baseModel`, `outputModel`, `epochs`,
`learningRate`, `loraRank`, states `JOB_STATE_*`): a row and a module, nothing else.
1. A row in `pulumi_finetune.hosts`: `Host("fireworks", "Fireworks AI", hostnames=
   ("api.fireworks.ai",), shape="fireworks", hyperparameters=("n_epochs", "learning_rate",
   "lora_r", ...), methods=("supervised", "dpo"), can_pause=..., echoes=(...),
   lists_by_metadata=False, suffix_max=..., sources=(...))`, added to `HOSTS`. Check, the
   README's host table and the providers read it from there.
2. A module `pulumi_finetune/shapes/fireworks.py` defining `SHAPE = Fireworks` (a `Shape`
   subclass taking the row): `create_job` posts a dataset-backed body to
   `accounts/{account}/supervisedFineTuningJobs` (or the DPO collection by `method.type`),
   `job_from_wire` maps `JOB_STATE_COMPLETED` → succeeded, `JOB_STATE_FAILED` → failed,
   `JOB_STATE_CANCELLED`/`EXPIRED` → cancelled, `JOB_STATE_CREATING`/`PENDING` → queued, ...,
   and `outputModel` → `fine_tuned_model`; `upload_file` creates a dataset and uploads to it,
   returning OpenAI's file object; `failures` refuses what the wire cannot carry. `for_host`
   imports the module by the row's `shape`, so nothing else changes. (A local flavor of it, for
   tests, is a module beside `pulumi_finetune/local/together.py` and a row in `local/flavors`.)
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, ClassVar, Protocol

from .. import hosts
from ..errors import FinetuneError

JSON = dict[str, Any]

__all__ = ["JSON", "Shape", "Wire", "for_host"]


class Wire(Protocol):
    """What a shape sends through: the client's request with its retry policy and auth."""

    def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: Mapping[str, Any] | None = None,
        retry_if_sent: bool = True,
    ) -> JSON: ...

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[JSON]:
        """Every item of an OpenAI-style cursor list (`after` = last item's id)."""
        ...

    def post_file(
        self,
        path: str,
        *,
        fields: Mapping[str, str],
        file_field: str,
        file_path: str | os.PathLike[str],
        filename: str,
    ) -> JSON:
        """A multipart POST of `fields` and the file, streamed from disk; never retried once
        it may have reached the server."""
        ...


class Shape(ABC):
    """How the resource's calls (OpenAI's vocabulary) go over one host's wire. Every method
    takes and returns OpenAI's objects: `fine_tuning.job`, `fine_tuning.job.event`,
    `fine_tuning.job.checkpoint`, `file`, `model`."""

    jobs_path: ClassVar[str]
    """Where the host's fine-tuning jobs live (under its API path), for people."""
    upload_route: ClassVar[str]
    """How a training file goes up in one request, for people."""
    result_field: ClassVar[str]
    """The host's field of a job that names the trained model (`fine_tuned_model` here)."""
    unretrieved: ClassVar[tuple[str, ...]] = ()
    """What of a job (OpenAI's field names; `hyperparameters.NAME` for one hyperparameter) the
    host documents on its create and list answers but not on its retrieve answer: a retrieved
    job comes back without it (None), and whoever holds the job as created or as last recorded
    keeps that value (`with_recorded`), so a refresh never turns it into drift."""

    def __init__(self, host: hosts.Host) -> None:
        self.host = host

    def with_recorded(self, job: Mapping[str, Any], recorded: Mapping[str, Any]) -> JSON:
        """`job` as a retrieve answered it, with each field the retrieve route does not return
        (`unretrieved`) taken from `recorded` (the job as created or listed, or a resource's
        outputs of the same names) where the answer holds none. Nothing changes elsewhere."""
        out = dict(job)
        for name in self.unretrieved:
            top, _, sub = name.partition(".")
            if not sub:
                if out.get(name) is None and recorded.get(name) is not None:
                    out[name] = recorded[name]
                continue
            kept = _hyperparameter(recorded, sub)
            if kept is None or _hyperparameter(out, sub) is not None:
                continue
            out[top] = {**(out.get(top) or {}), sub: kept}
            method = out.get("method")
            kind = str(method.get("type") or "") if isinstance(method, Mapping) else ""
            inner = method.get(kind) if isinstance(method, Mapping) else None
            if isinstance(method, Mapping) and isinstance(inner, Mapping):
                hyper = {**(inner.get("hyperparameters") or {}), sub: kept}
                out["method"] = {**method, kind: {**inner, "hyperparameters": hyper}}
        return out

    def retrieve_in_full(self, wire: Wire, job_id: str) -> JSON:
        """The job, for one nothing is recorded of (adopted, imported, `get`): retrieved, and
        where the retrieve does not return everything (`unretrieved`), completed from the job
        list's object of it (one more request)."""
        job = self.retrieve_job(wire, job_id)
        if not self.unretrieved:
            return job
        listed = next(
            (j for j in self.list_jobs(wire, metadata=None, limit=100) if j.get("id") == job_id),
            None,
        )
        return self.with_recorded(job, listed) if listed is not None else job

    # -- check: local, no request ----------------------------------------------------------

    def failures(self, spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """(property path, reason) for what this wire cannot carry of a declared job spec,
        naming the host; nothing by default."""
        return iter(())

    # -- jobs ------------------------------------------------------------------------------

    @abstractmethod
    def create_job(self, wire: Wire, body: JSON) -> JSON:
        """POST a job from OpenAI's create body (with the marker in `metadata`); never
        retried once it may have reached the server."""

    @abstractmethod
    def retrieve_job(self, wire: Wire, job_id: str) -> JSON: ...

    @abstractmethod
    def cancel_job(self, wire: Wire, job_id: str) -> JSON: ...

    def pause_job(self, wire: Wire, job_id: str) -> JSON:
        """Where the host has no pause (`can_pause`), check refuses `paused=True` first."""
        raise FinetuneError(f"{self.host.title} cannot pause a job (it has no pause)")

    def resume_job(self, wire: Wire, job_id: str) -> JSON:
        raise FinetuneError(f"{self.host.title} cannot resume a job (it has no pause)")

    @abstractmethod
    def list_jobs(
        self, wire: Wire, *, metadata: Mapping[str, str] | None, limit: int
    ) -> Iterator[JSON]:
        """Jobs, newest first; filtered by `metadata` where the host can (`lists_by_metadata`),
        else every job: callers check the filter themselves."""

    @abstractmethod
    def events(self, wire: Wire, job_id: str, *, page_size: int) -> Iterator[JSON]:
        """Every event of the job, newest first."""

    def latest_events(self, wire: Wire, job_id: str, limit: int) -> list[JSON]:
        """The newest `limit` events, newest first."""
        found: list[JSON] = []
        for event in self.events(wire, job_id, page_size=limit):
            found.append(event)
            if len(found) >= limit:
                break
        return found

    @abstractmethod
    def list_checkpoints(self, wire: Wire, job_id: str) -> list[JSON]: ...

    # -- files -----------------------------------------------------------------------------

    @abstractmethod
    def upload_file(
        self, wire: Wire, path: str | os.PathLike[str], *, purpose: str, filename: str
    ) -> JSON: ...

    @abstractmethod
    def retrieve_file(self, wire: Wire, file_id: str) -> JSON: ...

    @abstractmethod
    def delete_file(self, wire: Wire, file_id: str) -> JSON: ...

    @abstractmethod
    def list_files(self, wire: Wire, *, purpose: str | None) -> Iterator[JSON]: ...

    # -- models ----------------------------------------------------------------------------

    @abstractmethod
    def retrieve_model(self, wire: Wire, model: str) -> JSON: ...

    @abstractmethod
    def delete_model(self, wire: Wire, model: str) -> JSON: ...


def _hyperparameter(job: Mapping[str, Any], name: str) -> Any:
    """A hyperparameter of a job object (or a resource's outputs): `hyperparameters`, else its
    method's; None where neither holds it."""
    top = job.get("hyperparameters")
    if isinstance(top, Mapping) and top.get(name) is not None:
        return top[name]
    method = job.get("method")
    if not isinstance(method, Mapping):
        return None
    inner = method.get(str(method.get("type") or ""))
    hyper = inner.get("hyperparameters") if isinstance(inner, Mapping) else None
    return hyper.get(name) if isinstance(hyper, Mapping) else None


@cache
def _shape_class(name: str) -> type[Shape]:
    module = importlib.import_module(f"{__name__}.{name}")
    shape: type[Shape] = module.SHAPE
    return shape


def for_host(host: hosts.Host) -> Shape:
    """The shape the host's row names (`Host.shape`): the module of that name in this package."""
    return _shape_class(host.shape)(host)
