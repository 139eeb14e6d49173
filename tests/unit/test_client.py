"""The HTTP client against the real local endpoint with scripted faults: what is retried, how
long it waits, what is never retried, what its errors carry, and how many requests run at once."""

from __future__ import annotations

import email.utils
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_finetune.client import Client, is_ambiguous, transport
from pulumi_finetune.client.retries import retry_after_seconds
from pulumi_finetune.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    InsufficientQuotaError,
    InternalServerError,
    RateLimitError,
)
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
CREATE = "POST /v1/fine_tuning/jobs"
RETRIEVE = "GET /v1/fine_tuning/jobs/{fine_tuning_job_id}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(key="sk-local-" + secrets.token_hex(16), clock_speed=1000.0) as server:
        yield server


@pytest.fixture
def ep(endpoint: LocalEndpoint) -> Iterator[LocalEndpoint]:
    endpoint.clear_faults()
    endpoint.reset_stats()
    yield endpoint
    endpoint.clear_faults()


class Sleeps(list[float]):
    """Records the client's backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    ep: LocalEndpoint, sleeps: Sleeps | None = None, key: str | None = None, **kw: Any
) -> Client:
    settings = Settings(base_url=ep.url, api_key=key or ep.key)
    return Client(settings, sleep=sleeps if sleeps is not None else Sleeps(), **kw)


@pytest.fixture(scope="module")
def training_file(endpoint: LocalEndpoint) -> str:
    with make_client(endpoint) as client:
        file_id: str = client.upload_file(DATA, purpose="fine-tune")["id"]
    return file_id


@pytest.fixture(scope="module")
def job_id(endpoint: LocalEndpoint, training_file: str) -> str:
    with make_client(endpoint) as client:
        job_id: str = client.create_job({"model": MODEL, "training_file": training_file})["id"]
    return job_id


def routes(ep: LocalEndpoint) -> dict[str, int]:
    by_route: dict[str, int] = ep.stats()["by_route"]
    return by_route


def request_ids(client: Client) -> list[str]:
    """Every x-request-id the client receives, in order."""
    seen: list[str] = []
    client._transport.session.hooks["response"].append(
        lambda response, *_, **__: seen.append(response.headers.get("x-request-id", ""))
    )
    return seen


# -- what is retried, and how long the client waits -------------------------------------------


def test_429_is_retried_after_the_servers_retry_after(ep, job_id):
    ep.add_fault(RETRIEVE, "429", times=2, retry_after=0.25)
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client:
        job = client.retrieve_job(job_id)

    assert job["id"] == job_id
    assert sleeps == [0.25, 0.25]  # retry-after-ms (250) taken as is: no backoff, no jitter
    assert routes(ep)[RETRIEVE] == 3


def test_429_on_create_is_retried_and_creates_one_job(ep, training_file):
    ep.add_fault(CREATE, "429", times=2, retry_after=0.1)
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client:
        client.create_job({"model": MODEL, "training_file": training_file})

    assert sleeps == [0.1, 0.1]
    assert routes(ep)[CREATE] == 3
    assert ep.stats()["jobs_created"] == 1


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "-3"}) is None  # no usable hint: back off
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 <= (retry_after_seconds({"retry-after": in_ten}) or 0) <= 10.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize("kinds", [["500"], ["503"], ["drop"], ["500", "drop", "503"]])
def test_5xx_and_dropped_connections_are_retried_for_get(ep, job_id, kinds):
    for kind in kinds:
        ep.add_fault(RETRIEVE, kind)
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client:
        assert client.retrieve_job(job_id)["id"] == job_id

    assert routes(ep)[RETRIEVE] == len(kinds) + 1
    # Exponential backoff from 0.5 s, doubling, with up to 25 % jitter below.
    for attempt, delay in enumerate(sleeps):
        assert 0.375 * 2**attempt <= delay <= 0.5 * 2**attempt


def test_backoff_is_capped_and_the_deadline_bounds_the_retries(ep, job_id):
    ep.add_fault(RETRIEVE, "503", times=20)
    sleeps = Sleeps()
    with make_client(ep, sleeps, max_retries=8) as client, pytest.raises(InternalServerError):
        client.retrieve_job(job_id)
    assert len(sleeps) == 8 and max(sleeps) <= 8.0
    assert routes(ep)[RETRIEVE] == 9

    ep.clear_faults()
    ep.reset_stats()
    ep.add_fault(RETRIEVE, "429", times=5, retry_after=30)
    sleeps = Sleeps()
    with make_client(ep, sleeps, deadline=10.0) as client, pytest.raises(RateLimitError):
        client.retrieve_job(job_id)
    assert sleeps == []  # waiting 30 s would overrun the 10 s deadline: fail now, honestly
    assert routes(ep)[RETRIEVE] == 1


@pytest.mark.parametrize(
    ("kind", "committed"),
    [
        ("500", False),
        ("503", False),
        ("drop", False),
        ("commit_then_500", True),
        ("commit_then_drop", True),
    ],
)
def test_create_is_never_retried_once_it_may_have_taken_effect(ep, training_file, kind, committed):
    ep.add_fault(CREATE, kind)
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client, pytest.raises((APIError, APIConnectionError)) as info:
        client.create_job({"model": MODEL, "training_file": training_file})

    assert is_ambiguous(info.value)
    assert sleeps == []
    assert routes(ep)[CREATE] == 1
    assert ep.stats()["jobs_created"] == (1 if committed else 0)


def refusing_url() -> str:
    """A base URL on a loopback port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_a_refused_connection_was_not_sent_so_even_a_create_is_retried(ep):
    sleeps = Sleeps()
    settings = Settings(base_url=refusing_url(), api_key=ep.key)
    client = Client(settings, sleep=sleeps, max_retries=2)
    with client, pytest.raises(APIConnectionError) as info:
        client.create_job({"model": MODEL, "training_file": "file-x"})
    assert not info.value.sent and not is_ambiguous(info.value)
    assert len(sleeps) == 2
    assert ep.key not in str(info.value) + repr(info.value)


# -- what is never retried --------------------------------------------------------------------


@pytest.mark.parametrize("route", [CREATE, RETRIEVE])
def test_insufficient_quota_fails_at_once(ep, job_id, training_file, route):
    ep.add_fault(route, "insufficient_quota", times=5)
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client, pytest.raises(InsufficientQuotaError) as info:
        ids = request_ids(client)
        if route == CREATE:
            client.create_job({"model": MODEL, "training_file": training_file})
        else:
            client.retrieve_job(job_id)

    err = info.value
    assert sleeps == [] and routes(ep)[route] == 1 and len(ids) == 1
    assert not err.retryable and not is_ambiguous(err)
    assert (err.status, err.code) == (429, "insufficient_quota")
    assert err.message.startswith("You exceeded your current quota")
    assert err.request_id == ids[0] and ids[0].startswith("req_")
    assert err.message in str(err) and ids[0] in str(err)


def test_bad_request_is_not_retried_and_names_the_param(ep):
    sleeps = Sleeps()
    with make_client(ep, sleeps) as client, pytest.raises(BadRequestError) as info:
        ids = request_ids(client)
        client.create_job({"model": MODEL, "training_file": "file-does-not-exist"})

    err = info.value
    assert sleeps == [] and routes(ep)[CREATE] == 1
    assert (err.status, err.param, err.type) == (400, "training_file", "invalid_request_error")
    assert "file-does-not-exist" in err.message
    assert err.request_id == ids[0]
    assert str(err) == (
        f"POST /fine_tuning/jobs failed with HTTP 400 (param=training_file): {err.message} "
        f"[request id {ids[0]}]"
    )


# -- errors never carry the key ---------------------------------------------------------------


def test_errors_never_carry_the_key(ep, job_id):
    wrong = "sk-wrong-" + secrets.token_hex(16)
    with make_client(ep, key=wrong) as client, pytest.raises(AuthenticationError) as info:
        client.retrieve_job(job_id)
    err = info.value
    assert (err.status, err.code) == (401, "invalid_api_key")
    for text in (str(err), repr(err), str(err.args), repr(vars(err))):
        assert wrong not in text and ep.key not in text

    ep.add_fault(RETRIEVE, "insufficient_quota")
    with make_client(ep) as client, pytest.raises(InsufficientQuotaError) as info2:
        client.retrieve_job(job_id)
    assert ep.key not in str(info2.value) + repr(info2.value) + repr(vars(info2.value))

    ep.add_fault(CREATE, "drop")
    with make_client(ep) as client, pytest.raises(APIConnectionError) as info3:
        client.create_job({"model": MODEL, "training_file": "file-x"})
    assert ep.key not in str(info3.value) + repr(info3.value) + repr(vars(info3.value))


# -- many callers do not stampede -------------------------------------------------------------


def test_requests_per_process_are_capped(ep, job_id, monkeypatch):
    """Sixteen threads at once (Pulumi runs many resource operations in parallel): never more
    than the cap in flight at the endpoint."""
    cap = transport.MAX_CONCURRENT
    ep.add_fault(RETRIEVE, "slow", times=16, delay=0.2)
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    original = transport.Transport._exchange

    def counting_send(
        self: transport.Transport, *args: Any, **kwargs: Any
    ) -> tuple[requests.Response, bytes]:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(transport.Transport, "_exchange", counting_send)
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            with make_client(ep) as client:
                client.retrieve_job(job_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(16)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.monotonic() - started

    assert not errors
    assert peak == cap == 4
    assert elapsed >= 16 / cap * 0.2 * 0.9  # four waves of 0.2 s, not one
