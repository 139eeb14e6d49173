"""``pulumi-finetune watch`` against real jobs on a local endpoint: the lines a pipe gets, the
live view a terminal gets, the PNG, and what following costs in requests."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import secrets
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_finetune import watch
from pulumi_finetune.cli import main
from pulumi_finetune.client import Client
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
TOTAL_STEPS = 96  # chat_12: 12 examples, batch 1, 8 epochs
FINISHED = 60.0  # seconds of job time after which a job has succeeded
EVENTS_ROUTE = "GET /v1/fine_tuning/jobs/{fine_tuning_job_id}/events"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def endpoint() -> Iterator[LocalEndpoint]:
    """Jobs move only when a test advances the clock."""
    with LocalEndpoint(key="sk-local-" + secrets.token_hex(16), clock_speed=1.0) as server:
        yield server


@pytest.fixture
def client(endpoint: LocalEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("OPENAI_API_KEY", endpoint.key)
    with Client(Settings(base_url=endpoint.url, api_key=endpoint.key)) as c:
        yield c


def start_jobs(client: Client, n: int) -> list[str]:
    file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
    return [client.create_job({"model": MODEL, "training_file": file_id})["id"] for _ in range(n)]


def watch_cli(
    capsys: pytest.CaptureFixture[str], endpoint: LocalEndpoint, *args: str
) -> tuple[int, str, str]:
    code = main(["watch", *args, "--base-url", endpoint.url])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_steps(client: Client, job_id: str) -> list[int]:
    """The steps of every metrics event of a job, read page by page."""
    events = client.paginate(f"fine_tuning/jobs/{job_id}/events", {"limit": 7})
    return sorted(e["data"]["step"] for e in events if e["type"] == "metrics")


def test_once_prints_each_jobs_status_and_progress(endpoint, client, capsys) -> None:
    [done] = start_jobs(client, 1)
    endpoint.advance_clock(FINISHED)
    [running] = start_jobs(client, 1)
    endpoint.advance_clock(19.0)  # 4 s validating and queued, then 15 of 30 s of training

    code, out, _ = watch_cli(capsys, endpoint, done, running, "--once")

    assert code == 0
    first, second = out.splitlines()
    assert re.fullmatch(
        rf"{done} succeeded, step {TOTAL_STEPS}/{TOTAL_STEPS} \(100%\), train loss \d\.\d{{3}}",
        first,
    ), first
    step = re.fullmatch(
        rf"{running} running, step (\d+)/{TOTAL_STEPS} \(\d+%\), train loss \d\.\d{{3}}, "
        r"est\. finish \d\d:\d\d UTC",
        second,
    )
    assert step and 30 <= int(step[1]) <= 50, second


def test_a_cancelled_job_makes_watch_exit_1(endpoint, client, capsys) -> None:
    done, stopped = start_jobs(client, 2)
    client.cancel_job(stopped)
    endpoint.advance_clock(FINISHED)

    code, out, _ = watch_cli(capsys, endpoint, done, stopped)

    assert code == 1
    assert f"{done} succeeded" in out and f"{stopped} cancelled" in out


def test_piped_output_follows_jobs_to_the_end_in_plain_lines(tmp_path) -> None:
    png = tmp_path / "loss.png"
    key = "sk-local-" + secrets.token_hex(16)
    with LocalEndpoint(key=key, clock_speed=10.0) as endpoint:  # a job takes about 3.5 s
        with Client(Settings(base_url=endpoint.url, api_key=key)) as c:
            jobs = start_jobs(c, 2)
        run = subprocess.run(
            [sys.executable, "-m", "pulumi_finetune.cli", "watch", *jobs,
             "--base-url", endpoint.url, "--interval", "0.1", "--png", str(png)],
            env={**os.environ, "OPENAI_API_KEY": key, "TERM": "xterm-256color"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout + run.stderr
    for job in jobs:
        lines = [line for line in run.stdout.splitlines() if line.startswith(job)]
        steps = [int(m[1]) for line in lines if (m := re.search(r"step (\d+)/", line))]
        assert len(lines) >= 3 and steps == sorted(steps), lines  # progress, line by line
        assert lines[-1].startswith(f"{job} succeeded, step {TOTAL_STEPS}/{TOTAL_STEPS}")
    assert run.stderr.strip() == f"pulumi-finetune watch: wrote the training-loss curves to {png}"


def run_in_terminal(
    argv: list[str], env: dict[str, str], ctrl_c_once: str | None = None
) -> tuple[int, str]:
    """Run a command on a pseudo-terminal of 120x40, pressing Ctrl-C once it has shown
    `ctrl_c_once`; its exit code and everything it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
        if ctrl_c_once and ctrl_c_once.encode() in b"".join(chunks):
            proc.send_signal(signal.SIGINT)
            ctrl_c_once = None
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_a_bar_per_job_and_the_loss_curves(endpoint, client) -> None:
    jobs = start_jobs(client, 2)
    endpoint.advance_clock(FINISHED)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}

    code, screen = run_in_terminal(
        [sys.executable, "-m", "pulumi_finetune.cli", "watch", *jobs, "--once",
         "--base-url", endpoint.url],
        {**env, "OPENAI_API_KEY": endpoint.key, "TERM": "xterm-256color"},
    )  # fmt: skip

    assert code == 0, screen
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    # Two curves in two colours (rich writes colour 12 as bright blue), each job's bar in its own.
    assert screen.count("\x1b[94m") >= 2 and screen.count("\x1b[38;5;208m") >= 2
    for job in jobs:
        assert re.search(rf"━{{30}} {job} succeeded, step 96/96", text), text
        assert f"▚ {job}" in text  # in the chart's legend
    assert "training loss" in text and text.strip().splitlines()[-1].strip() == "step"


def test_ctrl_c_stops_watching_and_still_writes_the_png(endpoint, client, tmp_path) -> None:
    jobs = start_jobs(client, 2)
    endpoint.advance_clock(14.0)  # running, and staying so: the clock moves only when told
    png = tmp_path / "loss.png"

    code, screen = run_in_terminal(
        [sys.executable, "-m", "pulumi_finetune.cli", "watch", *jobs,
         "--base-url", endpoint.url, "--interval", "0.2", "--png", str(png)],
        {**os.environ, "OPENAI_API_KEY": endpoint.key, "TERM": "xterm-256color"},
        ctrl_c_once=f"{jobs[1]} running, step",
    )  # fmt: skip

    assert code == 130, screen
    assert "Traceback" not in screen
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_png_is_a_valid_image_with_one_curve_per_job(endpoint, client, capsys, tmp_path) -> None:
    from PIL import Image

    jobs = start_jobs(client, 2)
    endpoint.advance_clock(FINISHED)
    png = tmp_path / "loss.png"

    code, _, err = watch_cli(capsys, endpoint, *jobs, "--once", "--png", str(png))

    assert code == 0 and f"wrote the training-loss curves to {png}" in err
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (960, 540)
        colours = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    # matplotlib's first two line colours are drawn, its third is not: two curves.
    assert {(0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)} <= colours
    assert (0x2C, 0xA0, 0x2C) not in colours

    follows = [watch.Follow(job) for job in jobs]
    for follow in follows:
        follow.refresh(client)
    lines = watch.loss_figure(watch.curves_of(follows)).axes[0].get_lines()
    assert [line.get_label() for line in lines] == jobs
    for job, line in zip(jobs, lines, strict=True):
        assert list(line.get_xdata()) == metrics_steps(client, job)  # every metrics event


def test_following_reads_every_event_once_then_only_what_is_new(endpoint, client) -> None:
    [job] = start_jobs(client, 1)
    endpoint.advance_clock(14.0)  # a third of the way
    follow = watch.Follow(job)
    pages = []

    def events_pages() -> int:
        return int(endpoint.stats()["by_route"].get(EVENTS_ROUTE, 0))

    for advance in (0.0, 8.0, 0.0, FINISHED):
        endpoint.advance_clock(advance)
        endpoint.reset_stats()
        follow.refresh(client, page_size=4)
        pages.append(events_pages())
    endpoint.reset_stats()
    follow.refresh(client, page_size=4)  # ended and read: nothing more to ask

    assert endpoint.stats()["requests"] == 0
    assert pages[0] >= 3  # the first read pages back to the job's first event
    assert pages[1] >= 2 and pages[2] == 1  # then only pages with something new (and one to see)
    assert sorted(follow.curve) == metrics_steps(client, job)
    assert follow.metrics["step"] == TOTAL_STEPS


def test_without_jobs_or_a_key_watch_says_what_is_missing(endpoint, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    assert main(["watch"]) == 2
    assert "give job ids or --stack NAME" in capsys.readouterr().err
    code, _, err = watch_cli(capsys, endpoint, "ftjob-x")
    assert code == 2 and "no API key" in err and "OPENAI_API_KEY" in err


def test_an_unknown_job_fails_with_the_apis_message(endpoint, client, capsys) -> None:
    code, _, err = watch_cli(capsys, endpoint, "ftjob-nope", "--once")

    assert code == 1
    assert "GET /fine_tuning/jobs/ftjob-nope failed with HTTP 404" in err, err
    assert endpoint.key not in err


def test_png_without_matplotlib_names_the_extra(endpoint, client, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the `plot` extra were missing

    code, _, err = watch_cli(capsys, endpoint, "ftjob-x", "--png", "x.png")

    assert code == 2
    assert "pip install 'pulumi-finetune[plot]'" in err
    assert endpoint.stats()["requests"] == 0  # said before watching anything
