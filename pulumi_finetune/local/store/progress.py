"""How a stored job catches up with the clock: each milestone it passed applied once.

See ``lifecycle.py`` for the plan; here the milestones become rows (events, checkpoints, the
results file, the final status) in one transaction per catch-up.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading

from .. import lifecycle
from ..datacheck import DataCheck, check_training_file
from ..errors import NotFound
from ..flavors import REINFORCEMENT_USD_PER_SECOND
from ..ids import stable_id
from .db import JSON, from_json, to_json
from .files import Files
from .models import Models

# Milestones after which the job's row itself changed (tokens, status): read it again.
_ROW_CHANGING = frozenset({"validated", "finished"})


@functools.lru_cache(maxsize=1024)
def _plan_of(hyperparameters: str, n_examples: int) -> lifecycle.Plan:
    hyper = json.loads(hyperparameters)
    return lifecycle.make_plan(hyper["n_epochs"], hyper["batch_size"], n_examples)


@functools.lru_cache(maxsize=1024)
def _milestones_of(plan: lifecycle.Plan) -> tuple[lifecycle.Milestone, ...]:
    return tuple(plan.milestones())


class Progress(Files, Models):
    """Reading a job brings it up to the clock (:meth:`_advance`); nothing runs in background."""

    def _event(
        self,
        db: sqlite3.Connection,
        job_id: str,
        key: str,
        created_at: int,
        message: str,
        *,
        level: str = "info",
        type_: str = "message",
        data: JSON | None = None,
    ) -> None:
        db.execute(
            "INSERT OR IGNORE INTO events(id, job_id, created_at, level, message, type, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                stable_id("ftevent-", job_id, key),
                job_id,
                created_at,
                level,
                message,
                type_,
                to_json(data if data is not None else {}),
            ),
        )

    @staticmethod
    def _timing(row: sqlite3.Row) -> lifecycle.Timing:
        return lifecycle.Timing(
            speed=row["speed"],
            active_since=row["active_since"],
            progress_base=row["progress_base"],
            requeue_delay=row["requeue_delay"],
        )

    @staticmethod
    def _plan(row: sqlite3.Row) -> lifecycle.Plan:
        return _plan_of(row["hyperparameters"], row["n_examples"])

    def _job_row(self, job_id: str) -> sqlite3.Row:
        with self._read() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"Could not find fine-tuning job {job_id}.", param="fine_tuning_job_id")
        return row  # type: ignore[no-any-return]

    def _needs_datacheck(self, row: sqlite3.Row, now: float) -> bool:
        if row["status"] in lifecycle.TERMINAL or row["datacheck"] is not None:
            return False
        return self._timing(row).progress(now) >= lifecycle.VALIDATING_SECONDS

    def _run_datacheck(self, row: sqlite3.Row) -> DataCheck:
        path = self.file_path(row["training_file"])
        if not path.exists():
            return DataCheck(ok=False, message=f"Training file {row['training_file']} was deleted.")
        return check_training_file(path, file_id=row["training_file"], model=row["base_model"])

    def _cap_progress(self, row: sqlite3.Row) -> float | None:
        """The progress at which the host pauses the job at its cost cap, if it will."""
        if row["cost_cap"] is None or row["host_paused"]:
            return None
        plan = self._plan(row)
        at = plan.started_at + row["cost_cap"] / REINFORCEMENT_USD_PER_SECOND
        return at if at < plan.finished_at else None

    def _due(self, row: sqlite3.Row, now: float) -> bool:
        """Whether bringing the job up to ``now`` changes anything (else reading it writes not)."""
        if row["status"] in lifecycle.TERMINAL or row["status"] == "paused":
            return False
        if self._needs_datacheck(row, now):
            return True
        cap = self._cap_progress(row)
        if cap is not None and self._timing(row).progress(now) >= cap:
            return True
        milestones = _milestones_of(self._plan(row))
        done = row["milestones_done"]
        if done < len(milestones) and milestones[done].at <= self._timing(row).progress(now):
            return True
        return bool(self._live_status(row, now) != row["status"])

    def _advance(self, job_id: str) -> sqlite3.Row:
        """Bring a job up to the clock, applying each passed milestone once; returns the row.

        One transaction, and none when nothing is due. The slow parts run before it, outside
        the write lock: the data check (may read a large file) and the results file (written
        idempotently, so a kill -9 between the two leaves a file the retry reuses).
        """
        row = self._job_row(job_id)
        now = self.now()
        if not self._due(row, now):
            return row
        datacheck = None
        if self._needs_datacheck(row, now):
            datacheck = json.dumps(self._run_datacheck(row).__dict__)
        plan = self._plan(row)
        cap = self._cap_progress(row)
        if (
            row["status"] not in lifecycle.TERMINAL
            and row["status"] != "paused"
            and self._timing(row).progress(now) >= plan.finished_at
            and cap is None
        ):
            self._write_results(row, plan)
        with self._tx() as db:
            if datacheck is not None:
                db.execute(
                    "UPDATE jobs SET datacheck=? WHERE id=? AND datacheck IS NULL",
                    (datacheck, job_id),
                )
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row["status"] in lifecycle.TERMINAL or row["status"] == "paused":
                return row  # type: ignore[no-any-return]
            # The same `now` that decided whether to run the data check: reading the clock again
            # could pass the "validated" milestone without a check, and a bad file would pass.
            timing = self._timing(row)
            progress = timing.progress(now)
            cap = self._cap_progress(row)
            if cap is not None:
                progress = min(progress, cap)
            milestones = _milestones_of(self._plan(row))
            done = row["milestones_done"]
            while done < len(milestones) and milestones[done].at <= progress:
                milestone = milestones[done]
                applied = self._apply(db, row, milestone, timing)
                if applied:
                    done += 1
                if not applied or milestone.kind in _ROW_CHANGING:
                    db.execute("UPDATE jobs SET milestones_done=? WHERE id=?", (done, job_id))
                    row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
                if not applied:
                    break
            status = row["status"]
            if status not in lifecycle.TERMINAL and cap is not None and progress >= cap:
                return self._pause_at_cap(db, row, done, cap, timing)
            if status not in lifecycle.TERMINAL:
                status = self._live_status(row, now, done)
            if done != row["milestones_done"] or status != row["status"]:
                db.execute(
                    "UPDATE jobs SET milestones_done=?, status=? WHERE id=?",
                    (done, status, job_id),
                )
                row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            return row  # type: ignore[no-any-return]

    def _pause_at_cap(
        self,
        db: sqlite3.Connection,
        row: sqlite3.Row,
        done: int,
        cap: float,
        timing: lifecycle.Timing,
    ) -> sqlite3.Row:
        """The host pauses the job itself: its training cost reached the cap (Azure OpenAI's
        reinforcement fine-tuning stops at $5,000). Only a resume continues it."""
        job_id = row["id"]
        self._event(
            db,
            job_id,
            "cost-cap",
            int(timing.clock_time_of(cap)),
            f"Fine-tuning job paused: its training cost reached the ${row['cost_cap']:,.0f} cap. "
            "Deploy its last checkpoint, or resume it to train on (at further cost).",
            level="warn",
        )
        db.execute(
            "UPDATE jobs SET status='paused', active_since=NULL, progress_base=?, requeue_delay=0,"
            " host_paused=1, milestones_done=? WHERE id=?",
            (cap, done, job_id),
        )
        return db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()  # type: ignore[no-any-return]

    def _write_results(self, row: sqlite3.Row, plan: lifecycle.Plan) -> str:
        """The ``fine-tune-results`` file of a finished job, written once; returns its id."""
        result_id = stable_id("file-", row["id"], "results", length=22)
        path = self.file_path(result_id)
        if not path.exists():
            tmp = path.with_name(f"{result_id}.{threading.get_ident()}.tmp")
            tmp.write_bytes(lifecycle.results_csv(row["seed"], plan.total_steps))
            os.replace(tmp, path)
        return result_id

    def _live_status(self, row: sqlite3.Row, now: float, done: int | None = None) -> str:
        """The status a non-terminal job shows at ``now`` (``done``: milestones applied)."""
        if row["status"] == "paused":
            return "paused"
        if self._timing(row).requeued(now):
            return "queued"
        if done is None:
            done = row["milestones_done"]
        if done == 0:
            return "validating_files"
        if done == 1:
            return "queued"
        return "running"

    def _apply(
        self,
        db: sqlite3.Connection,
        row: sqlite3.Row,
        milestone: lifecycle.Milestone,
        timing: lifecycle.Timing,
    ) -> bool:
        """Apply one milestone idempotently. False when the job stops here (failed)."""
        job_id = row["id"]
        at = int(timing.clock_time_of(milestone.at))
        plan = self._plan(row)
        if milestone.kind == "validated":
            check = from_json(row["datacheck"]) or {"ok": True}
            if not check["ok"]:
                error = {
                    "code": "invalid_training_file",
                    "message": check["message"],
                    "param": "training_file",
                }
                self._event(db, job_id, "failed", at, check["message"], level="error")
                db.execute(
                    "UPDATE jobs SET status='failed', error=?, finished_at=? WHERE id=?",
                    (to_json(error), at, job_id),
                )
                return False
            if check.get("tokens"):
                db.execute(
                    "UPDATE jobs SET tokens_per_epoch=? WHERE id=?", (check["tokens"], job_id)
                )
            self._event(db, job_id, "validated", at, "Files validated, moving job to queued state")
        elif milestone.kind == "started":
            self._event(db, job_id, "started", at, "Fine-tuning job started")
        elif milestone.kind == "step":
            metrics = lifecycle.step_metrics(row["seed"], milestone.step, plan.total_steps)
            self._event(
                db,
                job_id,
                f"step-{milestone.step}",
                at,
                f"Step {milestone.step}/{plan.total_steps}: training loss="
                f"{metrics['train_loss']:.2f}, validation loss={metrics['valid_loss']:.2f}",
                type_="metrics",
                data={"step": milestone.step, "total_steps": plan.total_steps, **metrics},
            )
        elif milestone.kind == "checkpoint":
            metrics = lifecycle.step_metrics(row["seed"], milestone.step, plan.total_steps)
            ckpt_id = stable_id(self.flavor.host.checkpoint_prefix, job_id, milestone.step)
            name = self.flavor.checkpoint_model(
                job_id, self._model_name(row), ckpt_id, milestone.step
            )
            db.execute(
                "INSERT OR IGNORE INTO checkpoints(id, job_id, created_at, model, step_number,"
                " metrics) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    ckpt_id,
                    job_id,
                    at,
                    name,
                    milestone.step,
                    to_json(
                        {
                            "step": float(milestone.step),
                            **metrics,
                            "full_valid_loss": metrics["valid_loss"],
                            "full_valid_mean_token_accuracy": metrics["valid_mean_token_accuracy"],
                        }
                    ),
                ),
            )
            self._event(
                db,
                job_id,
                f"checkpoint-{milestone.step}",
                at,
                f"Checkpoint created at step {milestone.step}",
            )
        elif milestone.kind == "finished":
            result_id = self._write_results(row, plan)
            path = self.file_path(result_id)
            db.execute(
                "INSERT OR IGNORE INTO files(id, bytes, created_at, filename, purpose)"
                " VALUES (?, ?, ?, 'step_metrics.csv', 'fine-tune-results')",
                (result_id, path.stat().st_size, at),
            )
            model = self._model_name(row)
            hyper = json.loads(row["hyperparameters"])
            trained = row["tokens_per_epoch"] * hyper["n_epochs"]
            if model is not None:
                self._event(db, job_id, "model", at, f"New fine-tuned model created: {model}")
            self._event(db, job_id, "succeeded", at, "The job has successfully completed")
            db.execute(
                "UPDATE jobs SET status='succeeded', finished_at=?, fine_tuned_model=?,"
                " trained_tokens=?, result_files=? WHERE id=?",
                (at, model, trained, to_json([result_id]), job_id),
            )
        return True

    def _model_name(self, row: sqlite3.Row) -> str | None:
        return self.flavor.fine_tuned_name(row["base_model"], self.org, row["suffix"], row["id"])
