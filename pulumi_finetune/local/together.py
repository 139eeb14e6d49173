"""Together AI's routes and objects for the local endpoint's `together` flavor, around the same
store (jobs progress on the same clock; the data is validated by the same code).

Follows Together's OpenAPI description, togethercomputer/openapi `openapi.yaml` (commit 090263a,
2026-04-28), and keeps only what it documents:
- `POST /v1/files/upload` (multipart `purpose`, `file_name`, `file_type`, `file`), `GET
  /v1/files`, `GET`/`DELETE /v1/files/{id}`, `GET /v1/files/{id}/content`; a file is
  `FileResponse` (`{id, object, created_at, filename, bytes, purpose, FileType, Processed}`).
- `POST /v1/fine-tunes` (its flat create body: unknown fields refused, so nothing OpenAI-only,
  such as `metadata`, is taken), `GET /v1/fine-tunes` (`{data}`: no cursor, no filter), `GET
  /v1/fine-tunes/{id}`, `POST /v1/fine-tunes/{id}/cancel` (answers `cancel_requested`; the job
  reads `cancelled` afterwards), `GET /v1/fine-tunes/{id}/events`, `GET
  /v1/fine-tunes/{id}/checkpoints`. A job is `FinetuneResponse`: ISO times, statuses pending
  ... completed, `model_output_name` from creation on, no `metadata`, no `error` field.
- Errors are `ErrorData` (OpenAI's body); the key is a bearer token.
What the spec leaves open is chosen and said here: events come oldest first; a checkpoint's
`checkpoint_type` is `Intermediate`, or `Final` for the last one of a completed job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import errors
from .app import _body, _json
from .validation import SEED_MAX, JobRequest

if TYPE_CHECKING:
    from .app import LocalApp

JSON = dict[str, Any]

ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/v1/files/upload", "create_file"),
    ("GET", "/v1/files", "list_files"),
    ("GET", "/v1/files/{file_id}", "retrieve_file"),
    ("DELETE", "/v1/files/{file_id}", "delete_file"),
    ("GET", "/v1/files/{file_id}/content", "file_content"),
    ("POST", "/v1/fine-tunes", "create_job"),
    ("GET", "/v1/fine-tunes", "list_jobs"),
    ("GET", "/v1/fine-tunes/{id}", "retrieve_job"),
    ("POST", "/v1/fine-tunes/{id}/cancel", "cancel_job"),
    ("GET", "/v1/fine-tunes/{id}/events", "list_events"),
    ("GET", "/v1/fine-tunes/{id}/checkpoints", "list_checkpoints"),
]

#: The store's statuses → Together's `FinetuneJobStatus`.
STATUSES = {
    "validating_files": "pending",
    "queued": "queued",
    "running": "running",
    "succeeded": "completed",
    "failed": "error",
    "cancelled": "cancelled",
}
FILE_PURPOSES = (
    "fine-tune",
    "eval",
    "eval-sample",
    "eval-output",
    "eval-summary",
    "batch-generated",
    "batch-api",
)
FILE_TYPES = ("csv", "jsonl", "parquet")
# The create body's fields (its schema), by kind; `training_method` and `training_type` apart.
_INTEGERS = ("n_epochs", "n_checkpoints", "n_evals", "max_seq_length", "random_seed")
_NUMBERS = ("learning_rate", "warmup_ratio", "max_grad_norm", "weight_decay")
_STRINGS = (
    "training_file",
    "validation_file",
    "model",
    "suffix",
    "wandb_api_key",
    "wandb_base_url",
    "wandb_project_name",
    "wandb_name",
    "wandb_entity",
    "from_checkpoint",
    "from_hf_model",
    "hf_model_revision",
    "hf_api_token",
    "hf_output_repo_name",
)
_OBJECTS = ("lr_scheduler", "multimodal_params")
_FIELDS = frozenset(
    {
        *_INTEGERS,
        *_NUMBERS,
        *_STRINGS,
        *_OBJECTS,
        "packing",
        "batch_size",
        "train_on_inputs",
        "training_method",
        "training_type",
    }
)
# Messages of the store's events → Together's `FinetuneEventType`.
_EVENT_TYPES = (
    ("Created fine-tuning job", "job_pending"),
    ("Validating training file", "training_data_downloading"),
    ("Files validated", "training_data_download_complete"),
    ("Fine-tuning job started", "training_start"),
    ("Checkpoint created", "checkpoint_save"),
    ("New fine-tuned model created", "model_upload_complete"),
    ("The job has successfully completed", "job_complete"),
    ("Fine-tuning job cancelled", "job_stopped"),
)


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


# -------------------------------------------------------------------------- create body


def _kind(value: object, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, float) and int in kinds and float not in kinds:
        return value.is_integer()
    return isinstance(value, kinds) and (not isinstance(value, float) or math.isfinite(value))


def _check_types(body: Mapping[str, Any]) -> None:
    for key in body:
        if key not in _FIELDS:
            raise errors.InvalidRequest(f"Unrecognized request argument supplied: {key}", param=key)
    checks: list[tuple[tuple[str, ...], tuple[type, ...], str]] = [
        (_INTEGERS, (int,), "an integer"),
        (_NUMBERS, (int, float), "a number"),
        (_STRINGS, (str,), "a string"),
        (_OBJECTS, (dict,), "an object"),
        (("packing",), (bool,), "a boolean"),
    ]
    for names, kinds, noun in checks:
        for name in names:
            value = body.get(name)
            if value is not None and not _kind(value, kinds):
                raise errors.InvalidRequest(f"'{name}' must be {noun}.", param=name)
    batch = body.get("batch_size")
    if batch is not None and batch != "max" and not (_kind(batch, (int,)) and batch >= 1):
        raise errors.InvalidRequest(
            "'batch_size' must be a positive integer or \"max\".", param="batch_size"
        )
    seed = body.get("random_seed")
    if seed is not None and not 0 <= int(seed) <= SEED_MAX:
        raise errors.InvalidRequest(
            f"'random_seed' must be from 0 to {SEED_MAX}.", param="random_seed"
        )


def _training_method(body: Mapping[str, Any]) -> tuple[str, JSON]:
    """(method type in the store's words, its hyperparameters) of `training_method`."""
    method = body.get("training_method")
    if method is None:
        return "supervised", {}
    if not isinstance(method, dict) or method.get("method") not in ("sft", "dpo"):
        raise errors.InvalidRequest(
            "'training_method.method' must be 'sft' or 'dpo'.", param="training_method.method"
        )
    if method["method"] == "sft":
        allowed = {"method", "train_on_inputs"}
        inputs = method.get("train_on_inputs", "auto")
        if not (isinstance(inputs, bool) or inputs == "auto"):
            raise errors.InvalidRequest(
                "'training_method.train_on_inputs' must be a boolean or \"auto\".",
                param="training_method.train_on_inputs",
            )
        hyper: JSON = {} if inputs == "auto" else {"train_on_inputs": inputs}
    else:
        allowed = {
            "method",
            "dpo_beta",
            "rpo_alpha",
            "dpo_normalize_logratios_by_length",
            "dpo_reference_free",
            "simpo_gamma",
        }
        beta = method.get("dpo_beta")
        if beta is not None and not (_kind(beta, (int, float)) and beta > 0):
            raise errors.InvalidRequest(
                "'training_method.dpo_beta' must be a positive number.",
                param="training_method.dpo_beta",
            )
        hyper = {} if beta is None else {"beta": beta}
    for key in method:
        if key not in allowed:
            raise errors.InvalidRequest(
                f"Unrecognized key in training_method: '{key}'.", param=f"training_method.{key}"
            )
    return ("supervised" if method["method"] == "sft" else "dpo"), hyper


def _training_type(body: Mapping[str, Any]) -> JSON:
    """The LoRA hyperparameters of `training_type` (`Full`: lora false; absent: LoRA)."""
    kind = body.get("training_type")
    if kind is None:
        return {}
    if not isinstance(kind, dict) or kind.get("type") not in ("Full", "Lora"):
        raise errors.InvalidRequest(
            "'training_type.type' must be 'Full' or 'Lora'.", param="training_type.type"
        )
    if kind["type"] == "Full":
        return {"lora": False}
    hyper: JSON = {"lora": True}
    for name, kinds, required in (
        ("lora_r", (int,), True),
        ("lora_alpha", (int,), True),
        ("lora_dropout", (int, float), False),
        ("lora_trainable_modules", (str,), False),
    ):
        value = kind.get(name)
        if value is None:
            if required:
                raise errors.InvalidRequest(
                    f"Missing required parameter: 'training_type.{name}'.",
                    param=f"training_type.{name}",
                )
            continue
        if not _kind(value, kinds):
            raise errors.InvalidRequest(
                f"'training_type.{name}' has the wrong type.", param=f"training_type.{name}"
            )
        hyper[name] = value
    return hyper


def parse_create_job(body: JSON, app: LocalApp) -> JobRequest:
    """Validate a `POST /fine-tunes` body against Together's create schema into the store's
    request (the store checks model and files as for every flavor)."""
    _check_types(body)
    for required in ("training_file", "model"):
        if not body.get(required):
            raise errors.InvalidRequest(
                f"Missing required parameter: '{required}'.", param=required
            )
    suffix = body.get("suffix")
    limit = app.flavor.host.suffix_max
    if suffix is not None and not 1 <= len(suffix) <= limit:
        raise errors.InvalidRequest(
            f"'suffix' must be a string of 1 to {limit} characters.", param="suffix"
        )
    method_type, hyper = _training_method(body)
    hyper.update(_training_type(body))
    names = (*_INTEGERS[:-1], *_NUMBERS, "packing")  # every method's, flat
    hyper.update({k: body[k] for k in names if body.get(k) is not None})
    if body.get("batch_size") not in (None, "max"):
        hyper["batch_size"] = int(body["batch_size"])
    seed = body.get("random_seed")
    return JobRequest(
        model=str(body["model"]),
        training_file=str(body["training_file"]),
        validation_file=body.get("validation_file"),
        suffix=suffix,
        seed=None if seed is None else int(seed),
        metadata=None,
        integrations=None,
        method_type=method_type,
        hyperparameters=hyper,
        grader=None,
        extras={},
    )


# -------------------------------------------------------------------------- objects


def _updated_at(app: LocalApp, job: JSON) -> float:
    """When the job last changed: it finished, else its newest event."""
    if job.get("finished_at"):
        return float(job["finished_at"])
    newest = app.store.list_events(str(job["id"]), after=None, limit=1).data
    return float(newest[0]["created_at"]) if newest else float(job["created_at"])


def job_json(app: LocalApp, job: JSON, status: str | None = None) -> JSON:
    """Together's `FinetuneResponse` of a job of the store (its OpenAI-shaped form)."""
    kind = str(job["method"]["type"])
    hyper: JSON = job["method"][kind].get("hyperparameters") or {}
    sent: JSON = app.store.job_request(str(job["id"]))["received"]["body"]
    output = job.get("fine_tuned_model") or app.flavor.fine_tuned_name(
        str(job["model"]), app.store.org, sent.get("suffix"), str(job["id"])
    )
    method: JSON = {"method": "sft" if kind == "supervised" else "dpo"}
    if kind == "supervised":
        method["train_on_inputs"] = hyper.get("train_on_inputs", "auto")
    elif hyper.get("beta") is not None:
        method["dpo_beta"] = hyper["beta"]
    training_type: JSON = {"type": "Lora" if hyper.get("lora", True) else "Full"}
    if training_type["type"] == "Lora":
        names = ("lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules")
        training_type.update({k: hyper[k] for k in names if hyper.get(k) is not None})
    out: JSON = {
        "id": job["id"],
        "status": status or STATUSES.get(str(job["status"]), str(job["status"])),
        "created_at": _iso(job["created_at"]),
        "updated_at": _iso(_updated_at(app, job)),
        "model": job["model"],
        "model_output_name": output,
        "training_file": job["training_file"],
        "n_epochs": hyper.get("n_epochs"),
        "batch_size": hyper.get("batch_size"),
        "training_method": method,
        "training_type": training_type,
        "random_seed": job.get("seed"),
        "token_count": job.get("trained_tokens") or 0,
        "user_id": app.store.organization_id,
        "events": [],
    }
    for name in (
        "n_checkpoints",
        "n_evals",
        "learning_rate",
        "warmup_ratio",
        "max_grad_norm",
        "weight_decay",
        "packing",
        "max_seq_length",
    ):
        if hyper.get(name) is not None:
            out[name] = hyper[name]
    for name in ("validation_file", "suffix"):
        value = job.get(name) if name == "validation_file" else sent.get(name)
        if value is not None:
            out[name] = value
    if job.get("error") and out["status"] == "error":
        error = job["error"]
        out["events"] = [_event_json(app, job, {**error, "level": "error"}, "job_error")]
    finish = job.get("estimated_finish")
    if out["status"] == "running" and isinstance(finish, int | float):
        remaining = max(0, int(finish - app.store.now()))
        out["progress"] = {"estimate_available": True, "seconds_remaining": remaining}
    return out


def _event_json(app: LocalApp, job: JSON, event: JSON, kind: str) -> JSON:
    data = event.get("data") or {}
    return {
        "object": "fine-tune-event",
        "created_at": _iso(event.get("created_at") or app.store.now()),
        "level": {"warn": "warning"}.get(str(event.get("level")), event.get("level") or "info"),
        "message": str(event.get("message") or ""),
        "type": kind,
        "param_count": 0,
        "token_count": 0,
        "total_steps": int(data.get("total_steps") or 0),
        "wandb_url": "",
        "step": int(data.get("step") or 0),
        "checkpoint_path": "",
        "model_path": "",
        "training_offset": 0,
        "hash": str(event.get("id") or ""),
    }


def _event_type(event: JSON, steps_per_epoch: int) -> str | None:
    """The event's Together type; a metrics event is one only at the end of an epoch."""
    if event.get("level") == "error":
        return "job_error"
    if event.get("type") == "metrics":
        step = (event.get("data") or {}).get("step")
        at_epoch = isinstance(step, int) and step > 0 and step % max(1, steps_per_epoch) == 0
        return "epoch_complete" if at_epoch else None
    message = str(event.get("message") or "")
    return next((kind for prefix, kind in _EVENT_TYPES if message.startswith(prefix)), "warning")


def file_json(file: JSON) -> JSON:
    """Together's `FileResponse` of a file of the store."""
    name = str(file.get("filename") or "")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else "jsonl"
    return {
        "id": file["id"],
        "object": "file",
        "created_at": file["created_at"],
        "filename": name,
        "bytes": file["bytes"],
        "purpose": file["purpose"],
        "FileType": suffix if suffix in FILE_TYPES else "jsonl",
        "Processed": file.get("status") == "processed",
    }


# -------------------------------------------------------------------------- handlers


def h_create_file(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    purpose = request.form.get("purpose")
    if purpose not in FILE_PURPOSES:
        raise errors.InvalidRequest(
            f"'purpose' must be one of {', '.join(FILE_PURPOSES)}.", param="purpose"
        )
    file_name = request.form.get("file_name")
    if not file_name:
        raise errors.InvalidRequest("Missing required parameter: 'file_name'.", param="file_name")
    file_type = request.form.get("file_type")
    if file_type is not None and file_type not in FILE_TYPES:
        raise errors.InvalidRequest(
            f"'file_type' must be one of {', '.join(FILE_TYPES)}.", param="file_type"
        )
    _, write = app._save_upload(request, "file")
    return _json(file_json(app.store.create_file(file_name, purpose, write)))


def h_list_files(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    page = app.store.list_files(purpose=None, after=None, limit=10000, order="desc")
    return _json({"data": [file_json(f) for f in page.data]})


def h_retrieve_file(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    return _json(file_json(app.store.retrieve_file(args["file_id"])))


def h_delete_file(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    deleted = app.store.delete_file(args["file_id"])
    return _json({"id": deleted["id"], "deleted": bool(deleted.get("deleted"))})


def h_file_content(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    return app.h_file_content(request, args)


def h_create_job(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    body = _body(request)
    job = app.store.create_job(parse_create_job(body, app), app.received(request, body))
    app.stats.count_job_created()
    return _json(job_json(app, job))


def h_list_jobs(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    jobs: list[JSON] = []
    after: str | None = None
    while True:
        page = app.store.list_jobs(after=after, limit=100, metadata={})
        jobs.extend(page.data)
        if not page.has_more or not page.data:
            break
        after = str(page.data[-1]["id"])
    return _json({"data": [job_json(app, job) for job in jobs]})


def h_retrieve_job(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    return _json(job_json(app, app.store.retrieve_job(args["id"])))


def h_cancel_job(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    """Together's cancel: a cancel asked for (`cancel_requested`); reads show `cancelled`."""
    job = app.store.cancel_job(args["id"])
    return _json(job_json(app, job, status="cancel_requested"))


def h_list_events(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    job = app.store.retrieve_job(args["id"])
    events: list[JSON] = []
    after: str | None = None
    while True:
        page = app.store.list_events(str(job["id"]), after=after, limit=1000)
        events.extend(page.data)
        if not page.has_more or not page.data:
            break
        after = str(page.data[-1]["id"])
    kind = str(job["method"]["type"])
    hyper = job["method"][kind].get("hyperparameters") or {}
    totals = [e["data"].get("total_steps") for e in events if e.get("type") == "metrics"]
    total = next((t for t in totals if isinstance(t, int)), 0)
    per_epoch = total // max(1, int(hyper.get("n_epochs") or 1)) if total else 1
    out = []
    for event in reversed(events):  # oldest first
        kind_of = _event_type(event, per_epoch)
        if kind_of is not None:
            out.append(_event_json(app, job, event, kind_of))
    return _json({"data": out})


def h_list_checkpoints(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    job = app.store.retrieve_job(args["id"])
    page = app.store.list_checkpoints(str(job["id"]), after=None, limit=100)
    steps = [int(c["step_number"]) for c in page.data]
    final = max(steps) if steps and job["status"] == "succeeded" else None
    return _json(
        {
            "data": [
                {
                    "step": c["step_number"],
                    "path": c["fine_tuned_model_checkpoint"],
                    "created_at": _iso(c["created_at"]),
                    "checkpoint_type": "Final" if c["step_number"] == final else "Intermediate",
                }
                for c in page.data
            ]
        }
    )
