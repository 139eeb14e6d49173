"""OpenAI's shape: OpenAI's paths and objects as they are (OpenAI's API reference and OpenAPI
description, openai/openai-openapi), for OpenAI, Azure OpenAI, Nebius, Amazon Bedrock's
OpenAI-compatible endpoint and any compatible host. What differs among those hosts is data in
their rows (`expires_after` on uploads, create fields, ...), read here, never their names."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from .. import hosts
from . import JSON, Shape, Wire


def upload_expiry(host: hosts.Host) -> JSON:
    """`{"expires_after": ...}` where the host requires it on an upload (Azure OpenAI's v1 spec:
    `{anchor: "created_at", seconds}`), else `{}` (the file does not expire)."""
    if host.upload_expires_after is None:
        return {}
    return {"expires_after": {"anchor": "created_at", "seconds": host.upload_expires_after}}


class OpenAI(Shape):
    """`/fine_tuning/jobs`, `/files`, `/models`: one method per route, nothing translated."""

    jobs_path = "/fine_tuning/jobs"
    upload_route = "POST /files"
    result_field = "fine_tuned_model"

    def create_job(self, wire: Wire, body: JSON) -> JSON:
        return wire.request("POST", "fine_tuning/jobs", json=body, retry_if_sent=False)

    def retrieve_job(self, wire: Wire, job_id: str) -> JSON:
        return wire.request("GET", f"fine_tuning/jobs/{job_id}")

    def cancel_job(self, wire: Wire, job_id: str) -> JSON:
        return wire.request("POST", f"fine_tuning/jobs/{job_id}/cancel")

    def pause_job(self, wire: Wire, job_id: str) -> JSON:
        return wire.request("POST", f"fine_tuning/jobs/{job_id}/pause")

    def resume_job(self, wire: Wire, job_id: str) -> JSON:
        return wire.request("POST", f"fine_tuning/jobs/{job_id}/resume")

    def list_jobs(
        self, wire: Wire, *, metadata: Mapping[str, str] | None, limit: int
    ) -> Iterator[JSON]:
        params: dict[str, Any] = {"limit": limit}
        for key, value in (metadata or {}).items():
            params[f"metadata[{key}]"] = value
        return wire.paginate("fine_tuning/jobs", params)

    def events(self, wire: Wire, job_id: str, *, page_size: int) -> Iterator[JSON]:
        return wire.paginate(f"fine_tuning/jobs/{job_id}/events", {"limit": page_size})

    def latest_events(self, wire: Wire, job_id: str, limit: int) -> list[JSON]:
        """One page (newest first), one request."""
        page = wire.request("GET", f"fine_tuning/jobs/{job_id}/events", params={"limit": limit})
        events: list[JSON] = page.get("data") or []
        return events

    def list_checkpoints(self, wire: Wire, job_id: str) -> list[JSON]:
        return list(wire.paginate(f"fine_tuning/jobs/{job_id}/checkpoints", {"limit": 100}))

    def upload_file(
        self, wire: Wire, path: str | os.PathLike[str], *, purpose: str, filename: str
    ) -> JSON:
        expiry = upload_expiry(self.host).get("expires_after") or {}
        form = {f"expires_after[{k}]": str(v) for k, v in expiry.items()}
        return wire.post_file(
            "files",
            fields={"purpose": purpose, **form},
            file_field="file",
            file_path=path,
            filename=filename,
        )

    def retrieve_file(self, wire: Wire, file_id: str) -> JSON:
        return wire.request("GET", f"files/{file_id}")

    def delete_file(self, wire: Wire, file_id: str) -> JSON:
        return wire.request("DELETE", f"files/{file_id}")

    def list_files(self, wire: Wire, *, purpose: str | None) -> Iterator[JSON]:
        return wire.paginate("files", {"purpose": purpose} if purpose else None)

    def retrieve_model(self, wire: Wire, model: str) -> JSON:
        return wire.request("GET", f"models/{model}")

    def delete_model(self, wire: Wire, model: str) -> JSON:
        return wire.request("DELETE", f"models/{model}")


SHAPE = OpenAI
