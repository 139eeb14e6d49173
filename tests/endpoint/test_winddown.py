"""The local endpoint plays a host's wind-down: new jobs refused with OpenAI's 403 error shape
from a day on, base models retired on a day (creates refused, their fine-tuned models 404), and
everything about existing jobs still working. As flags of `pulumi-finetune-local` too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_finetune.local.server import LocalEndpoint, start_subprocess

from .conftest import Api

PAST, FUTURE = "2026-01-01", "2099-01-01"


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[LocalEndpoint]:
    with LocalEndpoint(tmp_path / "data", clock_speed=500.0) as server:
        yield server


def test_new_jobs_are_refused_with_a_403_and_existing_ones_stay_managed(
    fast: LocalEndpoint,
) -> None:
    api = Api(fast.url, fast.key)
    job = api.create_job()
    fast.wind_down(jobs_end=FUTURE)
    assert api.create_job()["id"]  # not yet
    assert fast.wind_down(jobs_end=PAST)["jobs_end"] == PAST
    file_id = api.upload()

    refused = api.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id})

    assert refused.status_code == 403
    error = refused.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "no longer create fine-tuning jobs" in error["message"] and PAST in error["message"]
    assert refused.headers["x-request-id"]
    # what an existing job needs keeps working: retrieve, list, events, cancel, its model
    assert api.job(job["id"])["id"] == job["id"]
    assert api.get("/fine_tuning/jobs").status_code == 200
    assert api.get(f"/fine_tuning/jobs/{job['id']}/events").status_code == 200
    assert api.post(f"/fine_tuning/jobs/{job['id']}/cancel").status_code in (200, 400)
    fast.wind_down(jobs_end=None)
    assert api.create_job()["id"]


def test_a_retired_base_model_takes_no_jobs_and_its_fine_tuned_models_404(
    fast: LocalEndpoint,
) -> None:
    api = Api(fast.url, fast.key)
    job = api.create_job(model="gpt-4o-mini-2024-07-18")
    fast.advance_clock(600)
    model = api.job(job["id"])["fine_tuned_model"]
    assert model and api.get(f"/models/{model}").status_code == 200

    fast.wind_down(retire={"gpt-4o-mini": PAST})  # the alias names the snapshot

    gone = api.get(f"/models/{model}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"
    assert api.get("/models/gpt-4o-mini-2024-07-18").status_code == 404
    refused = api.post(
        "/fine_tuning/jobs", json={"model": "gpt-4o-mini-2024-07-18", "training_file": api.upload()}
    )
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "model_not_found"
    assert refused.json()["error"]["param"] == "model"
    assert api.create_job(model="gpt-4.1-mini-2025-04-14")["id"]  # other models train on
    fast.wind_down(retire={"gpt-4o-mini-2024-07-18": None})
    assert api.get(f"/models/{model}").status_code == 200


def test_bad_settings_are_a_400() -> None:
    with LocalEndpoint() as server:
        api = Api(server.url, server.key)
        response = api.post("/_local/wind_down", json={"jobs_end": "soon"})
        assert response.status_code == 400 and response.json()["error"]["param"] == "jobs_end"


def test_the_command_line_flags(tmp_path: Path) -> None:
    server = start_subprocess(
        tmp_path,
        clock_speed=500.0,
        extra_args=["--jobs-end", PAST, "--retire-model", f"gpt-4.1-mini={FUTURE}"],
    )
    try:
        api = Api(server.url, server.key)
        assert server.wind_down() == {
            "jobs_end": PAST,
            "retire": {"gpt-4.1-mini-2025-04-14": FUTURE},
        }
        refused = api.post(
            "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": api.upload()}
        )
        assert refused.status_code == 403
    finally:
        server.stop()
