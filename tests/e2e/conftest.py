"""Fixtures for the real-engine tests: the pulumi CLI, a local endpoint, a project per test."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project, engine_dir

from ..endpoint.conformance import Checker, load_checker

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine() -> Path:
    return engine_dir()


_CHECKER: Checker | None = load_checker()


def _conformance_middleware(app: Any, checker: Checker) -> Any:
    """Check every JSON response the endpoint sends (to the provider process too)."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)
            return start_response(status, headers, *args)

        body = b"".join(app(environ, capture))
        headers = {k.lower(): v for k, v in captured.get("headers", {}).items()}
        checker.check(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            captured.get("status", 0),
            headers.get("content-type", ""),
            body,
        )
        return [body]

    return wrapped


class Endpoint:
    def __init__(self, server: LocalEndpoint, key: str) -> None:
        self.server = server
        self.url = server.url
        self.key = key
        self.api = EndpointClient(server.url, key)
        if _CHECKER is not None:
            server._server.app = _conformance_middleware(server._server.app, _CHECKER)


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """Fail a test whose run made the endpoint send a response that breaks OpenAI's schemas."""
    start = len(_CHECKER.violations) if _CHECKER else 0
    yield
    if _CHECKER is not None:
        new = _CHECKER.violations[start:]
        assert not new, "responses that break OpenAI's schemas:\n" + "\n".join(new)


@contextmanager
def running_endpoint(data_dir: Path, clock_speed: float) -> Iterator[Endpoint]:
    """A local endpoint in this process, with a fresh key, checked for conformance."""
    key = "sk-local-" + secrets.token_hex(16)
    server = LocalEndpoint(data_dir=data_dir, key=key, clock_speed=clock_speed)
    try:
        yield Endpoint(server, key)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fast_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """Jobs finish in well under a second."""
    with running_endpoint(tmp_path_factory.mktemp("fast-endpoint"), 500.0) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def slow_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """Jobs stay running for minutes unless the test advances the clock."""
    with running_endpoint(tmp_path_factory.mktemp("slow-endpoint"), 1.0) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """An endpoint of the test module's own (its faults never leak into other modules), on a
    real-time clock: jobs stay running until a test advances it. A module may override it."""
    with running_endpoint(tmp_path_factory.mktemp("module-endpoint"), 1.0) as endpoint:
        yield endpoint


@pytest.fixture
def ep(endpoint: Endpoint) -> Iterator[Endpoint]:
    """The module's endpoint with no faults scripted and its request counts at zero."""
    endpoint.server.clear_faults()
    endpoint.server.reset_stats()
    yield endpoint
    endpoint.server.clear_faults()


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.05)


@pytest.fixture
def make_project(engine: Path, tmp_path: Path) -> Iterator[Callable[[Endpoint], Project]]:
    made: list[Project] = []

    def make(endpoint: Endpoint, env: dict[str, str] | None = None) -> Project:
        root = tmp_path / f"p{len(made)}"
        project = Project(
            root=root, engine=engine, endpoint_url=endpoint.url, api_key=endpoint.key, env=env or {}
        )
        shutil.copy(DATASET, project.dir / "train.jsonl")
        made.append(project)
        return project

    yield make
    for project in made:
        project.cleanup()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _CHECKER is not None:
        terminalreporter.write_line(
            f"OpenAI schema conformance (real-engine tests): {_CHECKER.checked} JSON responses "
            f"checked, {len(_CHECKER.violations)} violations"
        )
