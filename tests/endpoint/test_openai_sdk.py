"""OpenAI's official SDK against the local endpoint: every fine-tuning operation it offers."""

from __future__ import annotations

import io

import openai
import pytest

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import training_bytes, wait_for


def _upload(oai: openai.OpenAI) -> str:
    return oai.files.create(
        file=("train.jsonl", io.BytesIO(training_bytes())), purpose="fine-tune"
    ).id


def test_sdk_files_and_job_lifecycle(oai: openai.OpenAI) -> None:
    file_id = _upload(oai)
    assert oai.files.retrieve(file_id).bytes == len(training_bytes())
    assert oai.files.content(file_id).read() == training_bytes()
    job = oai.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, suffix="sdk", metadata={"via": "sdk"}
    )
    assert job.status == "validating_files" and job.metadata == {"via": "sdk"}
    done = wait_for(
        lambda: (j := oai.fine_tuning.jobs.retrieve(job.id)).status == "succeeded" and j
    )
    assert done.fine_tuned_model and done.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:")
    events = oai.fine_tuning.jobs.list_events(job.id, limit=5)
    assert len(events.data) == 5 and events.has_more
    assert len(list(oai.fine_tuning.jobs.list_events(job.id, limit=5))) > 5  # auto-pagination
    checkpoints = oai.fine_tuning.jobs.checkpoints.list(job.id)
    assert len(checkpoints.data) == 3
    assert oai.models.retrieve(done.fine_tuned_model).id == done.fine_tuned_model
    assert oai.models.delete(done.fine_tuned_model).deleted is True
    assert oai.files.delete(file_id).deleted is True


def test_sdk_list_paginates_and_filters_by_metadata(oai: openai.OpenAI) -> None:
    file_id = _upload(oai)
    made = [
        oai.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=file_id, metadata={"group": "sdk-list"}
        ).id
        for _ in range(3)
    ]
    first = oai.fine_tuning.jobs.list(limit=2, metadata={"group": "sdk-list"})
    assert [j.id for j in first.data] == made[:0:-1] and first.has_more
    everything = [j.id for j in oai.fine_tuning.jobs.list(limit=2, metadata={"group": "sdk-list"})]
    assert everything == made[::-1]


def test_sdk_pause_resume_cancel(slow_endpoint: LocalEndpoint) -> None:
    oai = openai.OpenAI(base_url=slow_endpoint.url, api_key=slow_endpoint.key, max_retries=0)
    job = oai.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=_upload(oai))
    slow_endpoint.advance_clock(5)
    assert oai.fine_tuning.jobs.pause(job.id).status == "paused"
    assert oai.fine_tuning.jobs.resume(job.id).status == "queued"
    assert oai.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError) as info:
        oai.fine_tuning.jobs.cancel(job.id)
    assert info.value.status_code == 400


def test_sdk_error_classes(endpoint: LocalEndpoint, oai: openai.OpenAI) -> None:
    bad = openai.OpenAI(base_url=endpoint.url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        bad.fine_tuning.jobs.list()
    assert auth.value.code == "invalid_api_key"
    assert auth.value.request_id and auth.value.request_id.startswith("req_")
    with pytest.raises(openai.NotFoundError):
        oai.fine_tuning.jobs.retrieve("ftjob-missing")
    with pytest.raises(openai.BadRequestError) as bad_request:
        oai.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-missing")
    assert bad_request.value.param == "training_file"
    endpoint.add_fault("POST /v1/fine_tuning/jobs", "insufficient_quota")
    with pytest.raises(openai.RateLimitError) as quota:
        oai.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-missing")
    assert quota.value.code == "insufficient_quota"


def test_sdk_retries_429_with_retry_after(endpoint: LocalEndpoint) -> None:
    oai = openai.OpenAI(base_url=endpoint.url, api_key=endpoint.key, max_retries=2)
    file_id = _upload(oai)
    endpoint.reset_stats()
    endpoint.add_fault("POST /v1/fine_tuning/jobs", "429", times=2, retry_after=0.05)
    job = oai.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id)
    stats = endpoint.stats()
    assert stats["by_route"]["POST /v1/fine_tuning/jobs"] == 3
    assert stats["jobs_created"] == 1 and job.id


def test_sdk_multipart_upload(oai: openai.OpenAI) -> None:
    content = training_bytes(40)
    upload = oai.uploads.create(
        filename="big.jsonl", purpose="fine-tune", bytes=len(content), mime_type="text/jsonl"
    )
    part_a = oai.uploads.parts.create(upload.id, data=content[:500])
    part_b = oai.uploads.parts.create(upload.id, data=content[500:])
    done = oai.uploads.complete(upload.id, part_ids=[part_a.id, part_b.id])
    assert done.status == "completed" and done.file is not None
    assert oai.files.content(done.file.id).read() == content
