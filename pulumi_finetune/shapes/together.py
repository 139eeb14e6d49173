"""Together AI's shape: its fine-tuning API translated to and from OpenAI's vocabulary.

Built from Together's OpenAPI description, togethercomputer/openapi `openapi.yaml` (commit
090263a, 2026-04-28):
- `POST /fine-tunes` takes flat fields: `model`, `training_file`, `validation_file`, `suffix`,
  `n_epochs`, `n_checkpoints`, `n_evals`, `batch_size` (an integer or "max"), `learning_rate`
  (an absolute rate), `warmup_ratio`, `weight_decay`, `max_grad_norm`, `packing`,
  `max_seq_length`, `random_seed`, `training_method` (`{method: "sft", train_on_inputs}` or
  `{method: "dpo", dpo_beta, ...}`), `training_type` (`{type: "Full"}` or `{type: "Lora",
  lora_r, lora_alpha, lora_dropout, lora_trainable_modules}`, LoRA when absent), and its own
  (`from_checkpoint`, `lr_scheduler`, ...). It answers `FinetuneResponseTruncated`.
- `GET /fine-tunes` (`FinetuneTruncatedList`, `{data: [FinetuneResponseTruncated]}`, no cursor,
  no filter), `GET /fine-tunes/{id}` (`FinetuneResponse`), `POST /fine-tunes/{id}/cancel`
  (`FinetuneResponseTruncated`), `GET /fine-tunes/{id}/events` (`{data: [FineTuneEvent]}`: no
  ids, ISO times, `step`/`total_steps`; the spec gives no order, so they are sorted here), `GET
  /fine-tunes/{id}/checkpoints` (`{data: [{step, path, created_at, checkpoint_type}]}`).
- The two job schemas differ. Create, list and cancel answer `FinetuneResponseTruncated`, which
  has `suffix`, `random_seed`, `user_id`, `packing` and `max_seq_length`; retrieve answers
  `FinetuneResponse`, which has none of those five (`unretrieved`: the job's `seed`, `suffix`,
  `organization_id` and those two hyperparameters are kept as created or recorded, never read
  as None from a retrieve). The marker a seed carries (`pulumi_finetune.identity`) is looked
  up in the list, whose objects do have `random_seed`.
- Statuses: pending, queued, running, compressing, uploading, cancel_requested, cancelled,
  error, completed (`FinetuneJobStatus`); the trained model is `model_output_name`; times are
  ISO 8601 strings; the job object has no `error` field (a failure is told by its events).
- Files: `POST /files/upload` (multipart `purpose`, `file_name`, `file_type`, `file`) answers
  `FileResponse` (`{id, object, created_at, filename, bytes, purpose, FileType, Processed}`);
  `GET`/`DELETE /files/{id}`; `GET /files` (`{data}`). Errors are `ErrorData`, OpenAI's body.
- No pause or resume, no model retrieve or delete route for fine-tuned models, no metadata.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import FinetuneError
from . import JSON, Shape, Wire

#: Together's job statuses → OpenAI's. A cancel that was asked for is final (Together does not
#: resume it): `cancelled`, so it is never adopted, waited on or cancelled twice.
STATUSES: dict[str, str] = {
    "pending": "queued",
    "queued": "queued",
    "running": "running",
    "compressing": "running",
    "uploading": "running",
    "cancel_requested": "cancelled",
    "cancelled": "cancelled",
    "error": "failed",
    "completed": "succeeded",
}
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: `method.type` → Together's `training_method.method`.
METHODS: dict[str, str] = {"supervised": "sft", "dpo": "dpo"}
#: Hyperparameters sent flat (and echoed flat by the job object).
FLAT = (
    "n_epochs",
    "n_checkpoints",
    "n_evals",
    "batch_size",
    "learning_rate",
    "warmup_ratio",
    "weight_decay",
    "max_grad_norm",
    "packing",
    "max_seq_length",
)
#: Hyperparameters sent inside `training_type` (LoRA).
LORA = ("lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules")
#: OpenAI's create fields this shape translates; any other key of the body is the host's own
#: (from `extra_body`) and is sent as it is.
OPENAI_FIELDS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "method",
        "hyperparameters",
        "metadata",
        "integrations",
    }
)
#: Together's event levels → OpenAI's (info, warn, error).
EVENT_LEVELS = {
    "warning": "warn",
    "error": "error",
    "legacy_iwarning": "warn",
    "legacy_ierror": "error",
}


def seconds(value: Any) -> int | None:
    """An ISO 8601 time (Together's) as Unix seconds; None when absent or unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _hyperparameters(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    top = body.get("hyperparameters")
    method = body.get("method")
    inner = method.get(kind) if isinstance(method, Mapping) else None
    declared = inner.get("hyperparameters") if isinstance(inner, Mapping) else None
    merged = {**(top if isinstance(top, Mapping) else {})}
    merged.update(declared if isinstance(declared, Mapping) else {})
    return {k: v for k, v in merged.items() if v != "auto"}


def create_body(body: Mapping[str, Any]) -> JSON:
    """Together's `POST /fine-tunes` body from OpenAI's create body. `metadata` (where the
    marker would go) is not sent: Together keeps none; `check` refuses declared metadata and
    integrations (`failures`)."""
    method = body.get("method")
    kind = str(method.get("type") or "supervised") if isinstance(method, Mapping) else "supervised"
    hyper = _hyperparameters(body, kind)
    out: JSON = {
        k: body[k]
        for k in ("model", "training_file", "validation_file", "suffix")
        if body.get(k) is not None
    }
    if body.get("seed") is not None:
        out["random_seed"] = body["seed"]
    training_method: JSON = {"method": METHODS.get(kind, kind)}
    if kind == "dpo":
        if hyper.get("beta") is not None:
            training_method["dpo_beta"] = hyper.pop("beta")
    else:
        training_method["train_on_inputs"] = hyper.pop("train_on_inputs", "auto")
    out["training_method"] = training_method
    lora = hyper.pop("lora", None)
    settings = {k: hyper.pop(k) for k in LORA if k in hyper}
    if lora is False:
        out["training_type"] = {"type": "Full"}
    elif settings:
        out["training_type"] = {"type": "Lora", **settings}
    out.update({k: v for k, v in hyper.items() if k in FLAT})
    out.update({k: v for k, v in body.items() if k not in OPENAI_FIELDS})
    return out


def _error(job: Mapping[str, Any]) -> JSON:
    """OpenAI's `{code, message, param}` of a failed job: Together's job object has no error
    field, so the message is its last error event's, if it carries its events."""
    events = job.get("events") if isinstance(job.get("events"), list) else []
    message = next(
        (
            str(e.get("message"))
            for e in reversed(events or [])
            if isinstance(e, Mapping)
            and (e.get("level") == "error" or e.get("type") == "job_error")
            and e.get("message")
        ),
        "Together reported the job as failed (status error); see its events",
    )
    return {"code": "error", "message": message, "param": None}


def job_from_wire(job: Mapping[str, Any]) -> JSON:
    """OpenAI's `fine_tuning.job` from Together's `FinetuneResponse` (or its truncated form)."""
    raw = str(job.get("status") or "")
    status = STATUSES.get(raw, raw)
    training_method = job.get("training_method")
    tm = training_method if isinstance(training_method, Mapping) else {}
    kind = next((k for k, v in METHODS.items() if v == tm.get("method")), "supervised")
    hyper: JSON = {k: job[k] for k in FLAT if job.get(k) is not None}
    training_type = job.get("training_type")
    if isinstance(training_type, Mapping):
        hyper["lora"] = training_type.get("type") == "Lora"
        hyper.update({k: training_type[k] for k in LORA if training_type.get(k) is not None})
    if kind == "dpo" and tm.get("dpo_beta") is not None:
        hyper["beta"] = tm["dpo_beta"]
    elif kind == "supervised" and tm.get("train_on_inputs") not in (None, "auto"):
        hyper["train_on_inputs"] = tm["train_on_inputs"]
    progress = job.get("progress") if isinstance(job.get("progress"), Mapping) else {}
    finish = None
    if status == "running" and progress and progress.get("estimate_available"):
        remaining = progress.get("seconds_remaining")
        if isinstance(remaining, int | float):
            finish = int(datetime.now(UTC).timestamp() + remaining)
    wandb = job.get("wandb_project_name")
    return {
        "object": "fine_tuning.job",
        "id": job.get("id"),
        "model": job.get("model"),
        "created_at": seconds(job.get("created_at")),
        "finished_at": seconds(job.get("updated_at")) if status in TERMINAL else None,
        "fine_tuned_model": job.get("model_output_name") if status == "succeeded" else None,
        "organization_id": job.get("user_id"),  # only the truncated object has it
        "result_files": [],
        "status": status,
        "training_file": job.get("training_file"),
        "validation_file": job.get("validation_file") or None,
        "hyperparameters": hyper,
        "method": {"type": kind, kind: {"hyperparameters": hyper}},
        "trained_tokens": job.get("token_count") if status == "succeeded" else None,
        "error": _error(job) if status == "failed" else None,
        "seed": job.get("random_seed"),
        "suffix": job.get("suffix"),
        "estimated_finish": finish,
        "integrations": [{"type": "wandb", "wandb": {"project": wandb}}] if wandb else [],
        "metadata": None,
    }


def event_from_wire(event: Mapping[str, Any], job_id: str, index: int) -> JSON:
    """OpenAI's `fine_tuning.job.event` from Together's `FineTuneEvent` (which has no id: its
    `hash`, else its place in the list). One with a step of a known total is `metrics`."""
    step, total = event.get("step"), event.get("total_steps")
    metrics = isinstance(step, int) and isinstance(total, int) and step > 0 and total > 0
    level = str(event.get("level") or "info")
    return {
        "object": "fine_tuning.job.event",
        "id": str(event.get("hash") or f"{job_id}:event:{index}"),
        "created_at": seconds(event.get("created_at")),
        "level": EVENT_LEVELS.get(level, "info"),
        "message": str(event.get("message") or event.get("type") or ""),
        "type": "metrics" if metrics else "message",
        "data": {"step": step, "total_steps": total} if metrics else {},
    }


def checkpoint_from_wire(checkpoint: Mapping[str, Any], job_id: str) -> JSON:
    """OpenAI's `fine_tuning.job.checkpoint` from Together's (`{step, path, created_at,
    checkpoint_type}`): named `JOB_ID:STEP`, the form Together's `from_checkpoint` takes."""
    step = checkpoint.get("step")
    name = f"{job_id}:{step}"
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": name,
        "created_at": seconds(checkpoint.get("created_at")),
        "fine_tuned_model_checkpoint": name,
        "step_number": step,
        "metrics": {},
        "fine_tuning_job_id": job_id,
    }


def file_from_wire(file: Mapping[str, Any]) -> JSON:
    """OpenAI's `file` from Together's `FileResponse` (`Processed` → status)."""
    return {
        "object": "file",
        "id": file.get("id"),
        "bytes": file.get("bytes"),
        "created_at": seconds(file.get("created_at")),
        "filename": file.get("filename"),
        "purpose": file.get("purpose"),
        "status": "processed" if file.get("Processed") else "uploaded",
    }


def _items(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = page.get("data")
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


class Together(Shape):
    """Together's routes, one method each; OpenAI's objects in and out."""

    jobs_path = "/fine-tunes"
    upload_route = "POST /files/upload"
    result_field = "model_output_name"
    # In FinetuneResponseTruncated (create, list, cancel), not in FinetuneResponse (retrieve).
    unretrieved = (
        "seed",
        "suffix",
        "organization_id",
        "hyperparameters.packing",
        "hyperparameters.max_seq_length",
    )

    def failures(self, spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        title = self.host.title
        if spec.get("metadata"):
            yield "metadata", f"{title} keeps no metadata on a job: remove it"
        if spec.get("integrations"):
            yield (
                "integrations",
                f"{title} takes Weights & Biases settings with an API key in the create request "
                "(wandb_api_key), which would be kept in the stack's state: not supported here",
            )
        method = spec.get("method")
        kind = str(method.get("type") or "supervised") if isinstance(method, Mapping) else None
        hyper = _hyperparameters(spec, kind or "supervised")
        where = f"method.{kind}.hyperparameters" if kind else "hyperparameters"
        settings = [k for k in LORA if k in hyper]
        if hyper.get("lora") is False and settings:
            yield f"{where}.{settings[0]}", f"is a LoRA setting, but lora is false on {title}"
        elif settings and not all(k in hyper for k in ("lora_r", "lora_alpha")):
            yield (
                where,
                f"{title} takes LoRA settings only with both lora_r and lora_alpha "
                "(its LoRATrainingType requires both)",
            )

    def create_job(self, wire: Wire, body: JSON) -> JSON:
        sent = wire.request("POST", "fine-tunes", json=create_body(body), retry_if_sent=False)
        return job_from_wire(sent)

    def retrieve_job(self, wire: Wire, job_id: str) -> JSON:
        return job_from_wire(wire.request("GET", f"fine-tunes/{job_id}"))

    def cancel_job(self, wire: Wire, job_id: str) -> JSON:
        return job_from_wire(wire.request("POST", f"fine-tunes/{job_id}/cancel"))

    def list_jobs(
        self, wire: Wire, *, metadata: Mapping[str, str] | None, limit: int
    ) -> Iterator[JSON]:
        """Every job, newest first (Together's list has no cursor and no filter)."""
        jobs = [job_from_wire(j) for j in _items(wire.request("GET", "fine-tunes"))]
        jobs.sort(key=lambda j: j.get("created_at") or 0, reverse=True)
        return iter(jobs)

    def events(self, wire: Wire, job_id: str, *, page_size: int) -> Iterator[JSON]:
        """Every event, newest first (one request: Together's list has no cursor)."""
        items = _items(wire.request("GET", f"fine-tunes/{job_id}/events"))
        events = [event_from_wire(e, job_id, i) for i, e in enumerate(items)]
        order = sorted(
            range(len(events)), key=lambda i: (events[i]["created_at"] or 0, i), reverse=True
        )
        return iter([events[i] for i in order])

    def list_checkpoints(self, wire: Wire, job_id: str) -> list[JSON]:
        items = _items(wire.request("GET", f"fine-tunes/{job_id}/checkpoints"))
        return [checkpoint_from_wire(c, job_id) for c in items]

    def upload_file(
        self, wire: Wire, path: str | os.PathLike[str], *, purpose: str, filename: str
    ) -> JSON:
        fields = {"purpose": purpose, "file_name": filename, "file_type": "jsonl"}
        sent = wire.post_file(
            "files/upload", fields=fields, file_field="file", file_path=path, filename=filename
        )
        return file_from_wire(sent)

    def retrieve_file(self, wire: Wire, file_id: str) -> JSON:
        return file_from_wire(wire.request("GET", f"files/{file_id}"))

    def delete_file(self, wire: Wire, file_id: str) -> JSON:
        return wire.request("DELETE", f"files/{file_id}")

    def list_files(self, wire: Wire, *, purpose: str | None) -> Iterator[JSON]:
        files = [file_from_wire(f) for f in _items(wire.request("GET", "files"))]
        return iter(f for f in files if purpose is None or f.get("purpose") == purpose)

    def retrieve_model(self, wire: Wire, model: str) -> JSON:
        """No request: Together documents no retrieve of a fine-tuned model, and none is ever
        deleted through this package (`can_delete_models` is false), so it still exists."""
        return {"object": "model", "id": model}

    def delete_model(self, wire: Wire, model: str) -> JSON:
        raise FinetuneError(f"{self.host.title} has no route to delete a fine-tuned model")


SHAPE = Together
