"""Fixtures for the endpoint tests: a shared fast-clock server, HTTP helpers, and a conformance
hook that checks every JSON response any test receives (via ``requests`` or the ``openai`` SDK)
against OpenAI's response schemas."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import requests

from pulumi_finetune.local.server import LocalEndpoint

from .conformance import Checker, load_checker

_CHECKER: Checker = load_checker()


def chat_example(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": f"Answer {i}."},
        ]
    }


def training_bytes(n: int = 12) -> bytes:
    return "".join(json.dumps(chat_example(i)) + "\n" for i in range(n)).encode()


class Api:
    """``requests`` bound to one endpoint: paths are under ``/v1`` unless they start ``/_local``."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.root = url.removesuffix("/v1")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def _url(self, path: str) -> str:
        return self.root + path if path.startswith("/_local") else self.url + path

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self._url(path), timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self._url(path), timeout=10, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self._url(path), timeout=10, **kw)

    def upload(self, content: bytes | None = None, purpose: str = "fine-tune") -> str:
        response = self.post(
            "/files",
            files={"file": ("train.jsonl", content if content is not None else training_bytes())},
            data={"purpose": purpose},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def create_job(self, **body: Any) -> dict[str, Any]:
        body.setdefault("model", "gpt-4o-mini")
        if "training_file" not in body:
            body["training_file"] = self.upload()
        response = self.post("/fine_tuning/jobs", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/fine_tuning/jobs/{job_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """One in-process endpoint for the session; its clock runs 100x (a job takes ~0.4 s)."""
    with LocalEndpoint(tmp_path_factory.mktemp("endpoint"), clock_speed=100) as ep:
        yield ep


@pytest.fixture
def slow_endpoint(tmp_path: Path) -> Iterator[LocalEndpoint]:
    """A private endpoint at real speed; tests move its clock with ``advance_clock``."""
    with LocalEndpoint(tmp_path / "slow", clock_speed=1.0) as ep:
        yield ep


@pytest.fixture(autouse=True)
def _clean_endpoint(request: pytest.FixtureRequest) -> None:
    if "endpoint" in request.fixturenames:
        ep: LocalEndpoint = request.getfixturevalue("endpoint")
        ep.clear_faults()
        ep.reset_stats()


@pytest.fixture
def api(endpoint: LocalEndpoint) -> Api:
    return Api(endpoint.url, endpoint.key)


@pytest.fixture
def oai(endpoint: LocalEndpoint) -> openai.OpenAI:
    return openai.OpenAI(base_url=endpoint.url, api_key=endpoint.key, max_retries=0)


# ---------------------------------------------------------------------- conformance hook


@pytest.fixture(autouse=True)
def conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checker]:
    """Check every JSON response of the test; fail the test on any schema violation."""
    checker = _CHECKER
    start = len(checker.violations)
    send_requests = requests.Session.send
    send_httpx = httpx2.Client.send

    def checked_requests(self: requests.Session, request: Any, **kw: Any) -> Any:
        response = send_requests(self, request, **kw)
        if not kw.get("stream"):
            checker.check(
                str(request.method), str(request.url), response.status_code,
                response.headers.get("content-type", ""), response.content,
            )  # fmt: skip
        return response

    def checked_httpx(self: httpx2.Client, request: Any, *args: Any, **kw: Any) -> Any:
        response = send_httpx(self, request, *args, **kw)
        if not kw.get("stream"):
            checker.check(
                request.method, str(request.url), response.status_code,
                response.headers.get("content-type", ""), response.content,
            )  # fmt: skip
        return response

    monkeypatch.setattr(requests.Session, "send", checked_requests)
    monkeypatch.setattr(httpx2.Client, "send", checked_httpx)
    yield checker
    new = checker.violations[start:]
    assert not new, "responses that break OpenAI's schemas:\n" + "\n".join(new)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"OpenAI schema conformance: {_CHECKER.checked} JSON responses checked, "
        f"{len(_CHECKER.violations)} violations"
    )
