"""Waiting for a job: the polling cadence over hours, the progress a user sees, and a provider
that stops when its engine is gone."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.client import Client
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.providers import waiting
from pulumi_finetune.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"


def test_polling_backs_off_to_a_minute_and_speeds_up_after_a_status_change() -> None:
    cadence = waiting.Cadence()
    first = [cadence.after(changed=False) for _ in range(14)]
    assert first[0] == 0.5 and first[-1] == 60.0 and first == sorted(first)
    assert cadence.after(changed=True) == 0.5


def test_an_hour_of_waiting_costs_under_a_hundred_polls() -> None:
    cadence, elapsed, polls = waiting.Cadence(), 0.0, 0
    while elapsed < 3600:
        elapsed += cadence.after(changed=polls in (3, 40))  # two status changes in the hour
        polls += 1
    assert 60 <= polls <= 100, polls


def test_a_progress_line_has_status_step_loss_and_estimated_finish() -> None:
    job = {"id": "ftjob-1", "status": "running", "estimated_finish": 1_767_225_600}
    metrics = waiting.latest_metrics(
        [
            {"type": "message", "message": "Step 121"},
            {"type": "metrics", "data": {"step": 120, "total_steps": 300, "train_loss": 0.41234}},
            {"type": "metrics", "data": {"step": 110, "total_steps": 300, "train_loss": 0.5}},
        ]
    )

    line = waiting.describe(job, metrics)

    assert line == "ftjob-1 running, step 120/300 (40%), train loss 0.412, est. finish 00:00 UTC"
    tokens = waiting.describe({"id": "ftjob-2", "status": "succeeded", "trained_tokens": 26880}, {})
    assert tokens == "ftjob-2 succeeded, 26,880 tokens trained"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_reports_status_changes_at_once_and_otherwise_every_30_seconds(capsys) -> None:
    clock = Clock()
    progress = waiting.Progress("support-bot", log=waiting.EngineLog(None), clock=clock)
    running = {"id": "ftjob-1", "status": "running"}

    assert progress.due(running)
    progress.report(running, {})
    clock.now = 29.0
    assert not progress.due(running)
    assert progress.due({**running, "status": "succeeded"})
    clock.now = 30.0
    assert progress.due(running)

    line = capsys.readouterr().err  # no engine to show it on the row: stderr names the resource
    assert line.startswith("support-bot: ftjob-1 running. Ctrl-C twice stops waiting")
    assert "the next `pulumi up` picks it up" in line


def test_the_engine_watch_exits_once_the_engines_port_closes() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    exited = threading.Event()
    codes: list[int] = []

    def record(code: int) -> None:
        codes.append(code)
        exited.set()

    address = f"127.0.0.1:{listener.getsockname()[1]}"
    assert waiting.watch_engine(address, interval=0.05, exit=record)
    time.sleep(0.3)
    assert not exited.is_set()  # the engine answers: keep going
    listener.close()

    assert exited.wait(2.0) and codes == [1]


def test_no_watch_outside_the_provider_host() -> None:
    assert waiting.engine_address() is None
    assert not waiting.watch_engine()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    # validating_files lasts 0.1 s at this speed, so the create's answer still has it even on a
    # loaded machine; the whole job takes under 2 s
    with LocalEndpoint(key="sk-local-" + secrets.token_hex(16), clock_speed=20.0) as server:
        yield server


def test_waiting_for_a_real_job_reports_each_status_and_returns_it_succeeded(endpoint) -> None:
    reported: list[str] = []

    class Recorder(waiting.EngineLog):
        def status(self, urn: str, message: str) -> bool:
            reported.append(message)
            return True

    with Client(Settings(base_url=endpoint.url, api_key=endpoint.key)) as client:
        file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
        job: dict[str, Any] = client.create_job({"model": MODEL, "training_file": file_id})
        progress = waiting.Progress("support-bot", urn="urn:x", log=Recorder(None))
        done = waiting.wait_for_job(client, job, timeout=120.0, progress=progress)

    assert done["status"] == "succeeded" and done["fine_tuned_model"]
    statuses = [line.split(" ")[1].rstrip(".,") for line in reported]
    assert statuses[0] == "validating_files" and statuses[-1] == "succeeded"
    assert len(statuses) == len(set(statuses))  # one line per status: none repeated
