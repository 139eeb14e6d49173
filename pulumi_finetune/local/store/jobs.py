"""Fine-tuning jobs: create, retrieve, list, cancel, pause, resume, events and checkpoints."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from ... import hosts
from .. import lifecycle
from ..errors import InvalidRequest, NotFound
from ..ids import new_id
from ..validation import JobRequest, resolve_hyperparameters
from .db import JSON, Page, cursor_seq, from_json, to_json
from .progress import Progress

#: Fields of a job object that echo the create request beyond `model` and `training_file`:
#: a flavor returns those its host's row lists in `echoes`.
ECHOABLE = (
    "validation_file",
    "suffix",
    "seed",
    "hyperparameters",
    "method",
    "metadata",
    "integrations",
)


class Jobs(Progress):
    """The fine-tuning jobs API."""

    def _resolve_model(self, model: str) -> str:
        base = self.resolve_base(model)
        if base is not None:
            return base
        if any(m["id"] == model for m in self._fine_tuned_models()):
            return self.flavor.base_of_fine_tuned(model)
        raise InvalidRequest(
            f"Model {model} is not available for fine-tuning or does not exist.",
            param="model",
            code="model_not_available",
        )

    def _training_file(self, file_id: str, param: str) -> sqlite3.Row:
        try:
            row = self._file_row(file_id)
        except NotFound:
            raise InvalidRequest(
                f"Invalid file ID: {file_id}. The file does not exist.",
                param=param,
            ) from None
        if row["purpose"] != "fine-tune":
            raise InvalidRequest(
                f"File {file_id} has purpose '{row['purpose']}'; fine-tuning needs 'fine-tune'.",
                param=param,
            )
        return row

    def _count_examples(self, file_id: str) -> tuple[int, int]:
        """Non-empty lines and a ~4-bytes-per-token estimate, without parsing."""
        lines = 0
        size = 0
        with self.file_path(file_id).open("rb") as handle:
            for line in handle:
                size += len(line)
                if line.strip():
                    lines += 1
        return max(1, lines), max(1, size // 4)

    def create_job(self, req: JobRequest, received: JSON | None = None) -> JSON:
        """A new job for a validated request; ``received`` (the body as sent and how it was
        authenticated) is kept for the control API."""
        base = self._resolve_model(req.model)
        self._training_file(req.training_file, "training_file")
        if req.validation_file is not None:
            self._training_file(req.validation_file, "validation_file")
        n_examples, tokens = self._count_examples(req.training_file)
        limits = self.flavor.host.example_limits
        if limits is not None and not limits[0] <= n_examples <= limits[1]:
            raise InvalidRequest(
                f"Training file {req.training_file} has {n_examples} examples; "
                f"{limits[0]} to {limits[1]} are required.",
                param="training_file",
            )
        hyper = resolve_hyperparameters(
            req.method_type, req.hyperparameters, n_examples, self.flavor
        )
        cost_cap = self.flavor.host.cost_caps.get(req.method_type)
        if cost_cap is not None and self.cost_cap_usd is not None:
            cost_cap = self.cost_cap_usd
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        job_id = new_id(self.flavor.host.job_id_prefix, 24)
        echoes = self.flavor.host.echoes
        now = self.now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs(id, created_t, model, base_model, training_file, validation_file,"
                " suffix, seed, metadata, integrations, method_type, hyperparameters, grader,"
                " n_examples, tokens_per_epoch, speed, active_since, extras, request, cost_cap,"
                " status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 'validating_files')",
                (
                    job_id,
                    now,
                    req.model,
                    base,
                    req.training_file,
                    req.validation_file,
                    req.suffix,
                    seed,
                    to_json(req.metadata if "metadata" in echoes else None),  # else dropped
                    to_json(req.integrations),
                    req.method_type,
                    to_json(hyper),
                    to_json(req.grader),
                    n_examples,
                    tokens,
                    self.clock_speed,
                    now,
                    to_json(req.extras),
                    to_json(received),
                    cost_cap,
                ),
            )
            self._event(db, job_id, "created", int(now), f"Created fine-tuning job: {job_id}")
            self._event(
                db, job_id, "validating", int(now), f"Validating training file: {req.training_file}"
            )
        return self.retrieve_job(job_id)

    def _job_json(self, row: sqlite3.Row) -> JSON:
        hyper = json.loads(row["hyperparameters"])
        method_detail: JSON = {"hyperparameters": hyper}
        if row["grader"] is not None:
            method_detail = {"grader": json.loads(row["grader"]), **method_detail}
        estimated = None
        if row["status"] == "running" and row["active_since"] is not None:
            finish = self._timing(row).clock_time_of(self._plan(row).finished_at)
            estimated = int(finish)
        job: JSON = {
            "object": "fine_tuning.job",
            "id": row["id"],
            "model": row["model"],
            "created_at": int(row["created_t"]),
            "finished_at": row["finished_at"],
            "fine_tuned_model": row["fine_tuned_model"],
            "organization_id": self.organization_id,
            "result_files": json.loads(row["result_files"]),
            "status": row["status"],
            "validation_file": row["validation_file"],
            "training_file": row["training_file"],
            "hyperparameters": {
                name: hyper[name] for name in hosts.OPENAI_HYPERPARAMETERS if name in hyper
            },
            "trained_tokens": row["trained_tokens"],
            "error": from_json(row["error"]),
            "seed": row["seed"],
            "estimated_finish": estimated,
            "integrations": from_json(row["integrations"]),
            "metadata": from_json(row["metadata"]),
            "method": {"type": row["method_type"], row["method_type"]: method_detail},
        }
        if not self.flavor.has_fine_tuned_models:
            # Nebius: the result is the job's checkpoints; it reports steps and every
            # hyperparameter, and has no fine_tuned_model.
            del job["fine_tuned_model"]
            plan = self._plan(row)
            job["hyperparameters"] = hyper
            job["total_steps"] = plan.total_steps
            job["trained_steps"] = self._trained_steps(row, plan)
        echoes = self.flavor.host.echoes
        if "suffix" in echoes:
            job["suffix"] = row["suffix"]
        # Of the request, only what the host's documented job object returns.
        for name in ECHOABLE:
            if name not in echoes:
                job.pop(name, None)
        return job

    def _trained_steps(self, row: sqlite3.Row, plan: lifecycle.Plan) -> int:
        if row["status"] == "succeeded":
            return plan.total_steps
        with self._read() as db:
            found = db.execute(
                "SELECT MAX(step_number) AS n FROM checkpoints WHERE job_id=?", (row["id"],)
            ).fetchone()
        return int(found["n"] or 0)

    def job_request(self, job_id: str) -> JSON:
        """What the create request of a job carried (control API): its body and auth header."""
        row = self._job_row(job_id)
        return {"id": job_id, "received": from_json(row["request"])}

    # ----------------------------------------------------------------- operations

    def retrieve_job(self, job_id: str) -> JSON:
        return self._job_json(self._advance(job_id))

    def list_jobs(self, *, after: str | None, limit: int, metadata: dict[str, str]) -> Page:
        """Newest first; ``metadata`` keeps jobs whose metadata holds every given pair."""
        with self._read() as db:
            if after is not None:
                rows = db.execute(
                    "SELECT id, metadata FROM jobs WHERE seq < ? ORDER BY seq DESC",
                    (cursor_seq(db, "jobs", after),),
                ).fetchall()
            else:
                rows = db.execute("SELECT id, metadata FROM jobs ORDER BY seq DESC").fetchall()
        ids: list[str] = []
        if not self.flavor.host.lists_by_metadata:
            metadata = {}  # the host's list takes no metadata filter: it is ignored
        for r in rows:
            if metadata:
                meta = from_json(r["metadata"]) or {}
                if any(meta.get(k) != v for k, v in metadata.items()):
                    continue
            ids.append(r["id"])
            if len(ids) > limit:
                break
        return Page([self.retrieve_job(i) for i in ids[:limit]], len(ids) > limit)

    def cancel_job(self, job_id: str) -> JSON:
        def cancel(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] in lifecycle.TERMINAL:
                raise InvalidRequest(
                    f"Job {job_id} has already completed (status: {row['status']}) "
                    "and cannot be cancelled."
                )
            self._event(db, job_id, f"cancel-{n}", int(now), "Fine-tuning job cancelled")
            db.execute(
                "UPDATE jobs SET status='cancelled', active_since=NULL, progress_base=?,"
                " transitions=? WHERE id=?",
                (self._timing(row).progress(now), n, job_id),
            )

        return self._transition(job_id, cancel)

    def pause_job(self, job_id: str) -> JSON:
        def pause(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] != "running":
                raise InvalidRequest(
                    f"Job {job_id} is {row['status']}; only running jobs can be paused."
                )
            self._event(db, job_id, f"pause-{n}", int(now), "Fine-tuning job paused")
            db.execute(
                "UPDATE jobs SET status='paused', active_since=NULL, progress_base=?,"
                " requeue_delay=0, transitions=? WHERE id=?",
                (self._timing(row).progress(now), n, job_id),
            )

        return self._transition(job_id, pause)

    def resume_job(self, job_id: str) -> JSON:
        def resume(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] != "paused":
                raise InvalidRequest(
                    f"Job {job_id} is {row['status']}; only paused jobs can be resumed."
                )
            message = "Fine-tuning job resumed"
            if row["host_paused"]:
                message += " after its cost cap: training spends more from here"
            self._event(db, job_id, f"resume-{n}", int(now), message)
            db.execute(
                "UPDATE jobs SET status='queued', active_since=?, requeue_delay=?,"
                " transitions=? WHERE id=?",
                (now, lifecycle.QUEUED_SECONDS, n, job_id),
            )

        return self._transition(job_id, resume)

    def _transition(
        self,
        job_id: str,
        apply: Callable[[sqlite3.Connection, sqlite3.Row, float, int], None],
    ) -> JSON:
        """Bring the job up to the clock, then apply a user-requested status change (the n-th
        of the job, which keys its event) to the current row, in one transaction."""
        self._advance(job_id)
        with self._tx() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            apply(db, row, self.now(), row["transitions"] + 1)
        return self.retrieve_job(job_id)

    def _job_items(
        self, table: str, job_id: str, after: str | None, limit: int
    ) -> list[sqlite3.Row]:
        """Up to ``limit + 1`` rows of a job's events or checkpoints, newest first."""
        self._advance(job_id)
        sql = f"SELECT * FROM {table} WHERE job_id=?"
        args: list[Any] = [job_id]
        with self._read() as db:
            if after is not None:
                sql += " AND seq < ?"
                args.append(cursor_seq(db, table, after, job_id=job_id))
            return db.execute(sql + " ORDER BY seq DESC LIMIT ?", [*args, limit + 1]).fetchall()

    def list_events(self, job_id: str, *, after: str | None, limit: int) -> Page:
        rows = self._job_items("events", job_id, after, limit)
        data = [
            {
                "object": "fine_tuning.job.event",
                "id": r["id"],
                "created_at": r["created_at"],
                "level": r["level"],
                "message": r["message"],
                "type": r["type"],
                "data": from_json(r["data"]) or {},
            }
            for r in rows[:limit]
        ]
        return Page(data, len(rows) > limit)

    def list_checkpoints(self, job_id: str, *, after: str | None, limit: int) -> Page:
        rows = self._job_items("checkpoints", job_id, after, limit)
        data = [
            {
                "object": "fine_tuning.job.checkpoint",
                "id": r["id"],
                "created_at": r["created_at"],
                "fine_tuned_model_checkpoint": r["model"],
                "step_number": r["step_number"],
                "metrics": json.loads(r["metrics"]),
                "fine_tuning_job_id": job_id,
            }
            for r in rows[:limit]
        ]
        return Page(data, len(rows) > limit)
