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
  /v1/fine-tunes/{id}/checkpoints`. ISO times, statuses pending ... completed,
  `model_output_name` from creation on, no `metadata`, no `error` field.
- Each job route answers exactly its schema's fields (`TRUNCATED`, `RETRIEVED`): create, list
  and cancel `FinetuneResponseTruncated` (with `suffix`, `random_seed`, `user_id`, `packing`,
  `max_seq_length`), retrieve `FinetuneResponse` (without those five).
- LoRA when no `training_type` is sent (the create schema's words), `lora_dropout` 0.0 and
  `lora_trainable_modules` "all-linear" by default (`LoRATrainingType`'s defaults).
- Errors are `ErrorData` (OpenAI's body); the key is a bearer token.
What the spec leaves open is chosen and said here: events come oldest first (no order is
documented; the shape sorts them); a checkpoint's `checkpoint_type` is `Intermediate`, or
`Final` for the last one of a completed job; `lora_r` and `lora_alpha` of a job sent without
them are 8 and 16 (`LoRATrainingType` requires both on the job and documents no default; the
model's limits, `/fine-tunes/models/limits`, give only a `max_rank`); answers carry an
`x-request-id` header (the spec documents no response header at all).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import errors
from .app import _body, _json
from .together_validation import parse_create_job

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
#: The fields of `FinetuneResponseTruncated`, what create, list and cancel answer.
TRUNCATED = frozenset(
    {
        *("id", "status", "created_at", "updated_at", "started_at", "user_id", "owner_address"),
        *("total_price", "token_count", "events", "training_file", "validation_file"),
        *("packing", "max_seq_length", "model", "model_output_name", "suffix", "n_epochs"),
        *("n_evals", "n_checkpoints", "batch_size", "training_type", "training_method"),
        *("learning_rate", "lr_scheduler", "warmup_ratio", "max_grad_norm", "weight_decay"),
        *("random_seed", "wandb_project_name", "wandb_name", "from_checkpoint"),
        *("from_hf_model", "hf_model_revision", "progress"),
    }
)
#: The fields of `FinetuneResponse`, what retrieve answers: no `suffix`, `random_seed`,
#: `user_id`, `owner_address`, `packing`, `max_seq_length` or `wandb_name`.
RETRIEVED = frozenset(
    {
        *("id", "training_file", "validation_file", "model", "model_output_name"),
        *("model_output_path", "trainingfile_numlines", "trainingfile_size", "created_at"),
        *("updated_at", "started_at", "n_epochs", "n_checkpoints", "n_evals", "batch_size"),
        *("learning_rate", "lr_scheduler", "warmup_ratio", "max_grad_norm", "weight_decay"),
        *("eval_steps", "train_on_inputs", "training_method", "training_type"),
        *("multimodal_params", "status", "job_id", "events", "token_count", "param_count"),
        *("total_price", "epochs_completed", "queue_depth", "wandb_project_name", "wandb_url"),
        *("from_checkpoint", "from_hf_model", "hf_model_revision", "progress"),
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


# -------------------------------------------------------------------------- objects


def _updated_at(app: LocalApp, job: JSON) -> float:
    """When the job last changed: it finished, else its newest event."""
    if job.get("finished_at"):
        return float(job["finished_at"])
    newest = app.store.list_events(str(job["id"]), after=None, limit=1).data
    return float(newest[0]["created_at"]) if newest else float(job["created_at"])


def job_json(app: LocalApp, job: JSON, fields: frozenset[str], status: str | None = None) -> JSON:
    """A job of the store (its OpenAI-shaped form) as one of Together's job schemas: `fields`
    is `TRUNCATED` or `RETRIEVED`, and nothing outside it is answered."""
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
    return {k: v for k, v in out.items() if k in fields}


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
    job = app.store.create_job(parse_create_job(body, app.flavor), app.received(request, body))
    app.stats.count_job_created()
    return _json(job_json(app, job, TRUNCATED))


def h_list_jobs(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    jobs: list[JSON] = []
    after: str | None = None
    while True:
        page = app.store.list_jobs(after=after, limit=100, metadata={})
        jobs.extend(page.data)
        if not page.has_more or not page.data:
            break
        after = str(page.data[-1]["id"])
    return _json({"data": [job_json(app, job, TRUNCATED) for job in jobs]})


def h_retrieve_job(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    return _json(job_json(app, app.store.retrieve_job(args["id"]), RETRIEVED))


def h_cancel_job(app: LocalApp, request: Request, args: dict[str, str]) -> Response:
    """Together's cancel: a cancel asked for (`cancel_requested`); reads show `cancelled`."""
    job = app.store.cancel_job(args["id"])
    return _json(job_json(app, job, TRUNCATED, status="cancel_requested"))


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
