"""Fixtures for the real-engine tests: the pulumi CLI, a local endpoint, a project per test."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulumi_finetune.local.server import LocalEndpoint

from .harness import REPO, EndpointClient, Project, engine_dir

DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine() -> Path:
    return engine_dir()


class Endpoint:
    def __init__(self, server: LocalEndpoint, key: str) -> None:
        self.server = server
        self.url = server.url
        self.key = key
        self.api = EndpointClient(server.url, key)


@pytest.fixture(scope="session")
def fast_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """Jobs finish in well under a second."""
    key = "sk-local-" + secrets.token_hex(16)
    server = LocalEndpoint(
        data_dir=tmp_path_factory.mktemp("fast-endpoint"), key=key, clock_speed=500.0
    )
    try:
        yield Endpoint(server, key)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def slow_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """Jobs stay running for minutes unless the test advances the clock."""
    key = "sk-local-" + secrets.token_hex(16)
    server = LocalEndpoint(
        data_dir=tmp_path_factory.mktemp("slow-endpoint"), key=key, clock_speed=1.0
    )
    try:
        yield Endpoint(server, key)
    finally:
        server.stop()


@pytest.fixture
def make_project(engine: Path, tmp_path: Path) -> Iterator[Callable[[Endpoint], Project]]:
    made: list[Project] = []

    def make(endpoint: Endpoint) -> Project:
        root = tmp_path / f"p{len(made)}"
        project = Project(root=root, engine=engine, endpoint_url=endpoint.url, api_key=endpoint.key)
        shutil.copy(DATASET, project.dir / "train.jsonl")
        made.append(project)
        return project

    yield make
    for project in made:
        project.cleanup()
