"""Waiting for a fine-tuning job inside `pulumi up`: gentle polling, visible progress, and a
provider that stops when its engine is gone.

Progress goes to the engine's Log service as an ephemeral status message for the resource's URN:
`pulumi up` shows it on the resource's row (updated in place on a terminal, one line each in
`--non-interactive` output) without repeating it under "Diagnostics". When the engine cannot be
reached that way, a line on stderr (shown on the stack's row) names the resource instead.

Pulumi's dynamic-provider host ignores the engine's Cancel, so the first Ctrl-C of `pulumi up`
does not end a wait; the second ends `pulumi up` within seconds and the job keeps running, to be
picked up by the next `pulumi up`. Every progress line says so. The provider plugin
(`pulumi_finetune.plugin`) does receive Cancel: it sets `STOP`, which ends every wait at once
with the job as last seen (`serve_interruptibly` switches the hint and the engine's address). A
`pulumi` process killed outright leaves its provider processes behind: `watch_engine` makes ours
exit within seconds of the engine's port closing, instead of polling on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import FinetuneError

if TYPE_CHECKING:
    from ..client import Client

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
STOP_HINT = "Ctrl-C twice stops waiting; the job keeps running and the next `pulumi up` picks it up"
INTERRUPTIBLE_HINT = (
    "Ctrl-C stops waiting; the job keeps running and the next `pulumi up` waits for it again"
)

STOP = threading.Event()
"""Set when the engine cancels the operation (the plugin's Cancel: a Ctrl-C, or the end of a
run): waits stop polling and return the job as last seen. Never set in the dynamic provider."""
_hint = STOP_HINT

ENGINE_CHECK_SECONDS = 2.0
ENGINE_MISSES = 2


@dataclass
class Cadence:
    """Seconds between polls: quick at first and after a status change (0.5 s), then backing
    off (x1.5) to a minute, so an hour of waiting costs about 75 polls."""

    first: float = 0.5
    growth: float = 1.5
    ceiling: float = 60.0
    _next: float = 0.0

    def after(self, changed: bool) -> float:
        if changed or self._next == 0.0:
            self._next = self.first
        else:
            self._next = min(self._next * self.growth, self.ceiling)
        return self._next


def latest_metrics(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The data of the newest `metrics` event (events come newest first), or {}."""
    for event in events:
        if event.get("type") == "metrics" and isinstance(event.get("data"), Mapping):
            return dict(event["data"])
    return {}


def describe(job: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """One line: status, progress (step of total, or trained tokens), loss, estimated finish."""
    parts = [f"{job.get('id')} {job.get('status')}"]
    step, total = metrics.get("step"), metrics.get("total_steps")
    if isinstance(step, int | float) and isinstance(total, int | float) and total:
        parts.append(f"step {int(step)}/{int(total)} ({100 * step / total:.0f}%)")
    elif isinstance(job.get("trained_tokens"), int):
        parts.append(f"{job['trained_tokens']:,} tokens trained")
    loss = metrics.get("train_loss")
    if isinstance(loss, int | float):
        parts.append(f"train loss {loss:.3f}")
    finish = job.get("estimated_finish")
    if isinstance(finish, int | float) and finish > 0:
        parts.append(f"est. finish {datetime.fromtimestamp(finish, UTC):%H:%M} UTC")
    return ", ".join(parts)


class EngineLog:
    """Ephemeral status messages on a resource's row, through the engine's Log service."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._stub: Any = None
        self._failed = address is None

    def status(self, urn: str, message: str) -> bool:
        """Show `message` on the row of `urn`; False if the engine could not be told."""
        return self._log("INFO", urn, message, ephemeral=True)

    def warning(self, urn: str, message: str) -> bool:
        """A warning on the row of `urn`, kept (and repeated under "Diagnostics" at the end);
        False if the engine could not be told."""
        return self._log("WARNING", urn, message, ephemeral=False)

    def _log(self, severity: str, urn: str, message: str, *, ephemeral: bool) -> bool:
        if self._failed or not urn:
            return False
        try:
            import grpc
            from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

            if self._stub is None:
                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self.address))
            self._stub.Log(
                engine_pb2.LogRequest(
                    severity=getattr(engine_pb2, severity),
                    message=message,
                    urn=urn,
                    ephemeral=ephemeral,
                ),
                timeout=5,
            )
            return True
        except Exception:  # an engine without the Log service: fall back to stderr for good
            self._failed = True
            return False


def serve_interruptibly(address: str | None) -> None:
    """In the provider plugin: progress goes to the engine at `address`, and says that one
    Ctrl-C stops waiting (the plugin sets `STOP` on the engine's Cancel)."""
    global _engine_log, _hint
    _engine_log = EngineLog(address)
    _hint = INTERRUPTIBLE_HINT


def stopped_sleep(seconds: float) -> None:
    """Sleep `seconds`, or until `STOP` is set."""
    STOP.wait(seconds)


def engine_address() -> str | None:
    """The engine's address, when this process is Pulumi's dynamic-provider host (whose first
    argument it is); None elsewhere (tests, the program side)."""
    main = sys.argv[0] if sys.argv else ""
    if len(sys.argv) > 1 and main.endswith(os.path.join("pulumi", "dynamic", "__main__.py")):
        return sys.argv[1]
    return None


_engine_log: EngineLog | None = None


def engine_log() -> EngineLog:
    global _engine_log
    if _engine_log is None:
        _engine_log = EngineLog(engine_address())
    return _engine_log


@dataclass
class Progress:
    """Reports a waited job: on every status change, otherwise at most every `interval` s."""

    name: str
    urn: str = ""
    interval: float = 30.0
    log: EngineLog = field(default_factory=engine_log)
    clock: Callable[[], float] = time.monotonic
    _last_status: str | None = None
    _last_at: float = float("-inf")

    def due(self, job: Mapping[str, Any]) -> bool:
        return (
            job.get("status") != self._last_status or self.clock() - self._last_at >= self.interval
        )

    def report(self, job: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
        message = f"{describe(job, metrics)}. {_hint}"
        if not self.log.status(self.urn, message):
            print(f"{self.name}: {message}", file=sys.stderr, flush=True)
        self._last_status = str(job.get("status"))
        self._last_at = self.clock()
        return message


def wait_for_job(
    client: Client,
    job: dict[str, Any],
    timeout: float,
    progress: Progress,
    sleep: Callable[[float], Any] = stopped_sleep,
) -> dict[str, Any]:
    """Poll until the job ends, is paused, `timeout` passes or `STOP` is set, reporting
    progress; the job as last seen. A paused job does not go on by itself (a host that pauses a
    job at its cost cap, someone else's pause): waiting for it would only run out the timeout.

    A job still running at the timeout, or when the endpoint stops answering (the client's
    retries and deadline exhausted), is returned as observed: raising would make Pulumi forget a
    running job. Metrics (step, loss) are read from the job's events only when a line is due.
    """
    deadline = time.monotonic() + timeout
    cadence = Cadence()
    changed = True

    def report() -> None:
        if not progress.due(job):
            return
        metrics: dict[str, Any] = {}
        if job.get("status") == "running":
            with contextlib.suppress(FinetuneError):
                metrics = latest_metrics(client.latest_events(str(job["id"])))
        progress.report(job, metrics)

    report()
    while job.get("status") not in TERMINAL_STATUSES and job.get("status") != "paused":
        remaining = deadline - time.monotonic()
        if remaining <= 0 or STOP.is_set():
            return job
        sleep(min(cadence.after(changed), remaining))
        if STOP.is_set():
            return job
        try:
            latest = client.retrieve_job(str(job["id"]))
        except FinetuneError:
            return job
        changed = latest.get("status") != job.get("status")
        job = latest
        report()
    return job


_watching = threading.Lock()
_watched: set[str] = set()


def watch_engine(
    address: str | None = None,
    interval: float = ENGINE_CHECK_SECONDS,
    exit: Callable[[int], Any] = os._exit,
) -> bool:
    """Exit this process once the engine's port stops answering (a `pulumi` killed with
    SIGKILL, an OOM kill, a CI runner's hard stop). Started once per process; returns whether a
    watcher runs. A job this provider started keeps running; the next `pulumi up` adopts it."""
    address = address or engine_address()
    if address is None or ":" not in address:
        return False
    with _watching:
        if address in _watched:
            return True
        _watched.add(address)
    host, _, port = address.rpartition(":")

    def watch() -> None:
        misses = 0
        while True:
            time.sleep(interval)
            try:
                socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0).close()
                misses = 0
            except OSError:
                misses += 1
            if misses >= ENGINE_MISSES:
                # stderr was a pipe to the dead engine: writing to it may fail, exiting may not
                with contextlib.suppress(OSError, ValueError):
                    print(
                        "pulumi-finetune: the pulumi engine is gone; stopping this provider. A "
                        "job it started keeps running: the next `pulumi up` picks it up.",
                        file=sys.stderr,
                        flush=True,
                    )
                exit(1)
                return

    threading.Thread(target=watch, name="pulumi-finetune-engine-watch", daemon=True).start()
    return True
