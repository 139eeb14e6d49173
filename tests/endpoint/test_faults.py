"""Scripted faults set over the control API: what the client sees and what really happened."""

from __future__ import annotations

import time

import pytest
import requests

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api

CREATE = "POST /v1/fine_tuning/jobs"


def test_429_sends_retry_after_then_recovers(api: Api, endpoint: LocalEndpoint) -> None:
    file_id = api.upload()
    endpoint.add_fault(CREATE, "429", times=2, retry_after=3)
    for _ in range(2):
        response = api.post(
            "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id}
        )
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        assert response.headers["retry-after-ms"] == "3000"
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
    response = api.post(
        "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id}
    )
    assert response.status_code == 200
    assert endpoint.stats()["jobs_created"] == 1
    assert endpoint.stats()["by_route"][CREATE] == 3


def test_insufficient_quota(api: Api, endpoint: LocalEndpoint) -> None:
    endpoint.add_fault(CREATE, "insufficient_quota")
    response = api.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": "x"})
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"


@pytest.mark.parametrize("kind,status", [("500", 500), ("503", 503)])
def test_server_errors_do_not_commit(
    api: Api, endpoint: LocalEndpoint, kind: str, status: int
) -> None:
    file_id = api.upload()
    endpoint.add_fault(CREATE, kind)
    response = api.post(
        "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id}
    )
    assert response.status_code == status
    assert response.json()["error"]["type"] == "server_error"
    assert endpoint.stats()["jobs_created"] == 0


def test_commit_then_500_creates_the_job_but_answers_500(api: Api, endpoint: LocalEndpoint) -> None:
    file_id = api.upload()
    endpoint.add_fault(CREATE, "commit_then_500")
    body = {"model": "gpt-4o-mini", "training_file": file_id, "metadata": {"marker": "m-500"}}
    response = api.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 500
    assert endpoint.stats()["jobs_created"] == 1
    found = api.get("/fine_tuning/jobs", params={"metadata[marker]": "m-500"}).json()["data"]
    assert len(found) == 1 and found[0]["training_file"] == file_id


@pytest.mark.parametrize("kind,committed", [("drop", 0), ("commit_then_drop", 1)])
def test_drop_closes_the_connection(
    api: Api, endpoint: LocalEndpoint, kind: str, committed: int
) -> None:
    file_id = api.upload()
    endpoint.add_fault(CREATE, kind)
    with pytest.raises(requests.ConnectionError):
        api.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id})
    assert endpoint.stats()["jobs_created"] == committed
    assert api.get("/models").status_code == 200  # the server is fine afterwards


def test_slow_delays_the_answer(api: Api, endpoint: LocalEndpoint) -> None:
    endpoint.add_fault("GET /v1/models", "slow", delay=0.3)
    start = time.monotonic()
    assert api.get("/models").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_route_templates_and_wildcards_match(api: Api, endpoint: LocalEndpoint) -> None:
    job = api.create_job()
    endpoint.add_fault("GET /v1/fine_tuning/jobs/{fine_tuning_job_id}", "503")
    assert api.get(f"/fine_tuning/jobs/{job['id']}").status_code == 503
    endpoint.add_fault("GET /v1/fine_tuning/jobs/*", "500", times=2)
    assert api.get(f"/fine_tuning/jobs/{job['id']}").status_code == 500
    assert api.get(f"/fine_tuning/jobs/{job['id']}/events").status_code == 500
    assert api.get(f"/fine_tuning/jobs/{job['id']}").status_code == 200


def test_control_api_lists_and_clears_faults(api: Api, endpoint: LocalEndpoint) -> None:
    endpoint.add_fault(CREATE, "429", times=5)
    active = api.get("/_local/faults").json()["data"]
    assert [(f["route"], f["kind"], f["times"]) for f in active] == [(CREATE, "429", 5)]
    assert api.delete("/_local/faults").json() == {"deleted": 1}
    assert api.get("/_local/faults").json()["data"] == []
    bad = api.post("/_local/faults", json={"route": CREATE, "kind": "teapot"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "kind"


def test_random_faults_are_reproducible(api: Api, endpoint: LocalEndpoint) -> None:
    def run() -> list[int]:
        api.post("/_local/faults", json={"random_rate": 0.5, "kinds": ["500", "503"], "seed": 3})
        codes = [api.get("/models").status_code for _ in range(20)]
        api.delete("/_local/faults")
        return codes

    first = run()
    assert first == run()
    assert {500, 503} & set(first) and 200 in first
    assert api.get("/models").status_code == 200
