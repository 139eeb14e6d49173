"""The conformance hook itself: it must catch what it is there to catch."""

from __future__ import annotations

import json

import pytest

from .conformance import load_checker

CHECKER = load_checker()

JOB = {
    "object": "fine_tuning.job", "id": "ftjob-1", "model": "gpt-4o-mini", "created_at": 1,
    "finished_at": None, "fine_tuned_model": None, "organization_id": "org-x",
    "result_files": [], "status": "queued", "validation_file": None, "training_file": "file-1",
    "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8},
    "trained_tokens": None, "error": None, "seed": 1, "estimated_finish": None,
    "integrations": None, "metadata": None,
    "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
}  # fmt: skip
URL = "http://127.0.0.1:1/v1/fine_tuning/jobs/ftjob-1"


def _violations(body: object, status: int = 200, url: str = URL) -> list[str]:
    assert CHECKER is not None
    start = len(CHECKER.violations)
    CHECKER.check("GET", url, status, "application/json", json.dumps(body).encode())
    new = CHECKER.violations[start:]
    del CHECKER.violations[start:]
    return new


def test_a_correct_job_passes() -> None:
    assert _violations(JOB) == []
    assert _violations({**JOB, "status": "paused"}) == []  # documented deviation


@pytest.mark.parametrize(
    "change",
    [
        {"finished_at": "soon"},
        {"status": "exploded"},
        {"unexpected": 1},
        {"hyperparameters": {"n_epochs": 0}},
        {"metadata": {"k": 1}},
        {"error": {"code": "x"}},
    ],
)
def test_violations_are_caught(change: dict[str, object]) -> None:
    assert _violations({**JOB, **change})


def test_dropped_nulls_are_caught() -> None:
    job = {k: v for k, v in JOB.items() if v is not None}
    assert any("finished_at" in v for v in _violations(job))


def test_open_spots_stay_open() -> None:
    assert _violations({**JOB, "metadata": {"anything": "goes"}}) == []
    event = {"object": "fine_tuning.job.event", "id": "e", "created_at": 1, "level": "info",
             "message": "m", "type": "metrics", "data": {"whatever": [1, 2]}}  # fmt: skip
    assert (
        _violations({"object": "list", "data": [event], "has_more": False}, url=URL + "/events")
        == []
    )


def test_error_bodies_must_have_all_four_fields() -> None:
    assert (
        _violations({"error": {"message": "m", "type": "t", "param": None, "code": None}}, 404)
        == []
    )
    assert _violations({"error": {"message": "m", "type": "t"}}, 404)
