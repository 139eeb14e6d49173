"""How a job progresses: a deterministic plan of milestones on a clock derived from stored times.

Nothing runs in the background. A job's progress is ``progress_base`` plus the time elapsed since
``active_since`` multiplied by the job's clock speed (minus a re-queue delay after a resume), so
reading the job after a restart — even after kill -9 — lands exactly where the clock says. Every
milestone the job has passed yields the same events and checkpoints each time it is derived, with
stable ids, so applying it twice changes nothing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

VALIDATING_SECONDS = 2.0
QUEUED_SECONDS = 2.0
EPOCH_SECONDS = 10.0
MAX_RUNNING_SECONDS = 30.0
KEPT_CHECKPOINT_EPOCHS = 3

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class Milestone:
    """A point on a job's timeline; ``kind``: validated, started, step, checkpoint, finished."""

    index: int
    at: float
    kind: str
    step: int = 0


@dataclass(frozen=True)
class Plan:
    """The timeline of one job, fixed at creation from its resolved hyperparameters."""

    n_epochs: int
    steps_per_epoch: int

    @property
    def total_steps(self) -> int:
        return self.n_epochs * self.steps_per_epoch

    @property
    def validated_at(self) -> float:
        return VALIDATING_SECONDS

    @property
    def started_at(self) -> float:
        return VALIDATING_SECONDS + QUEUED_SECONDS

    @property
    def running_seconds(self) -> float:
        return min(EPOCH_SECONDS * self.n_epochs, MAX_RUNNING_SECONDS)

    @property
    def finished_at(self) -> float:
        return self.started_at + self.running_seconds

    def step_at(self, step: int) -> float:
        return self.started_at + self.running_seconds * step / self.total_steps

    def milestones(self) -> list[Milestone]:
        """Every milestone in order; metrics every ``stride`` steps (at most ~20 per job)."""
        items: list[tuple[float, str, int]] = [
            (self.validated_at, "validated", 0),
            (self.started_at, "started", 0),
        ]
        stride = max(1, math.ceil(self.total_steps / 20))
        first_kept = max(1, self.n_epochs - KEPT_CHECKPOINT_EPOCHS + 1)
        checkpoint_steps = {
            epoch * self.steps_per_epoch for epoch in range(first_kept, self.n_epochs + 1)
        }
        for step in range(1, self.total_steps + 1):
            if step % stride == 0 or step == 1 or step == self.total_steps:
                items.append((self.step_at(step), "step", step))
            if step in checkpoint_steps:
                items.append((self.step_at(step), "checkpoint", step))
        items.append((self.finished_at, "finished", self.total_steps))
        return [Milestone(i, at, kind, step) for i, (at, kind, step) in enumerate(items)]


def make_plan(n_epochs: int, batch_size: int, n_examples: int) -> Plan:
    return Plan(n_epochs=n_epochs, steps_per_epoch=max(1, math.ceil(n_examples / batch_size)))


@dataclass(frozen=True)
class Timing:
    """The stored clock state of a job (see the module docstring)."""

    speed: float
    active_since: float | None
    progress_base: float
    requeue_delay: float

    def progress(self, now: float) -> float:
        """Simulated seconds of progress at clock time ``now``."""
        if self.active_since is None:
            return self.progress_base
        return self.progress_base + max(
            0.0, (now - self.active_since) * self.speed - self.requeue_delay
        )

    def requeued(self, now: float) -> bool:
        """True while a resumed job waits in the queue again."""
        return (
            self.active_since is not None
            and (now - self.active_since) * self.speed < self.requeue_delay
        )

    def clock_time_of(self, progress: float) -> float:
        """The clock time at which this segment reaches ``progress`` (deterministic timestamps)."""
        if self.active_since is None:
            raise ValueError("a paused job does not progress")
        return self.active_since + (self.requeue_delay + progress - self.progress_base) / self.speed


def step_metrics(seed: int, step: int, total_steps: int) -> dict[str, float]:
    """Plausible, deterministic training metrics for one step."""
    rng = random.Random(f"{seed}:{step}")
    frac = step / max(1, total_steps)
    train_loss = 2.2 * math.exp(-2.5 * frac) + 0.1 + rng.uniform(-0.05, 0.05)
    valid_loss = train_loss + 0.05 + rng.uniform(0.0, 0.08)
    train_acc = min(1.0, 0.45 + 0.5 * (1 - math.exp(-3 * frac)) + rng.uniform(-0.02, 0.02))
    valid_acc = max(0.0, train_acc - rng.uniform(0.0, 0.05))
    return {
        "train_loss": round(train_loss, 5),
        "train_mean_token_accuracy": round(train_acc, 5),
        "valid_loss": round(valid_loss, 5),
        "valid_mean_token_accuracy": round(valid_acc, 5),
    }


def results_csv(seed: int, total_steps: int) -> bytes:
    """The ``fine-tune-results`` file: one row per step."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, total_steps + 1):
        m = step_metrics(seed, step, total_steps)
        lines.append(
            f"{step},{m['train_loss']},{m['train_mean_token_accuracy']},"
            f"{m['valid_loss']},{m['valid_mean_token_accuracy']}"
        )
    return ("\n".join(lines) + "\n").encode()
