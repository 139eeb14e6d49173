"""`Client`: the OpenAI fine-tuning API's calls (jobs, events, checkpoints, models, files) over
the transport, with the retry policy and the answers read as JSON."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from requests_toolbelt import MultipartEncoder

from ..errors import AuthenticationError
from ..settings import Settings
from .credentials import credential_for
from .responses import JSON, read_answer
from .retries import RetryPolicy
from .transport import Body, Call, Transport


class Client:
    """One endpoint, its credential (`credentials`: bound to its origin, sent as its host's row
    says). Cheap to create; holds a `requests.Session` for connection reuse.

    `timeout` is (connect, read) per socket wait; `deadline` bounds a whole call, its retries
    included; `max_retries` counts attempts after the first; `sleep` waits between them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: tuple[float, float] = (10.0, 120.0),
        max_retries: int = 6,
        deadline: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._credential = credential_for(settings)
        self._transport = Transport(settings, self._credential, timeout=timeout, deadline=deadline)
        self._retries = RetryPolicy(max_retries=max_retries, deadline=deadline, sleep=sleep)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: Mapping[str, Any] | None = None,
        body: Body | None = None,
        retry_if_sent: bool = True,
    ) -> JSON:
        """Send a request with retries; returns the answer's JSON object (`{}` when empty).

        `body` makes a fresh (stream, content type) per attempt, for uploads.
        With `retry_if_sent=False`, a 5xx or a dropped connection is raised at once, because the
        request may have taken effect.
        """
        call = Call(method, path, json=json, params=params, body=body)

        def attempt(by: float) -> JSON:
            response, content = self._transport.send(call, by)
            try:
                return read_answer(method, path, response, content, key=self._credential.value())
            except AuthenticationError as exc:
                note = self._credential.unauthorized_note()
                if note:
                    exc.message = f"{exc.message} ({note})"
                    exc.args = (exc._render(),)
                raise

        return self._retries.run(attempt, retry_if_sent=retry_if_sent)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[JSON]:
        """Every item of a cursor-paginated list (`after` = last item's id)."""
        query = dict(params or {})
        while True:
            page = self.request("GET", path, params=query)
            items = page.get("data") or []
            yield from items
            if not page.get("has_more") or not items:
                return
            query["after"] = items[-1]["id"]

    # -- fine-tuning jobs ----------------------------------------------------------------------

    def create_job(self, body: JSON) -> JSON:
        """POST a job. Never retried once it may have reached the server (no idempotency keys)."""
        return self.request("POST", "fine_tuning/jobs", json=body, retry_if_sent=False)

    def retrieve_job(self, job_id: str) -> JSON:
        return self.request("GET", f"fine_tuning/jobs/{job_id}")

    def cancel_job(self, job_id: str) -> JSON:
        return self.request("POST", f"fine_tuning/jobs/{job_id}/cancel")

    def pause_job(self, job_id: str) -> JSON:
        return self.request("POST", f"fine_tuning/jobs/{job_id}/pause")

    def resume_job(self, job_id: str) -> JSON:
        return self.request("POST", f"fine_tuning/jobs/{job_id}/resume")

    def latest_events(self, job_id: str, limit: int = 20) -> list[JSON]:
        """The job's newest events, newest first (one page)."""
        page = self.request("GET", f"fine_tuning/jobs/{job_id}/events", params={"limit": limit})
        events: list[JSON] = page.get("data") or []
        return events

    def list_checkpoints(self, job_id: str) -> list[JSON]:
        return list(self.paginate(f"fine_tuning/jobs/{job_id}/checkpoints", {"limit": 100}))

    def list_jobs(
        self, *, metadata: Mapping[str, str] | None = None, limit: int = 100
    ) -> Iterator[JSON]:
        params: dict[str, Any] = {"limit": limit}
        for key, value in (metadata or {}).items():
            params[f"metadata[{key}]"] = value
        return self.paginate("fine_tuning/jobs", params)

    # -- models --------------------------------------------------------------------------------

    def retrieve_model(self, model: str) -> JSON:
        return self.request("GET", f"models/{model}")

    def delete_model(self, model: str) -> JSON:
        return self.request("DELETE", f"models/{model}")

    # -- files ---------------------------------------------------------------------------------

    def upload_expiry(self) -> JSON:
        """`{"expires_after": ...}` where the host requires it on an upload (Azure OpenAI's v1
        spec: `{anchor: "created_at", seconds}`), else `{}` (the file does not expire)."""
        row = self.settings.host_row()
        if row.upload_expires_after is None:
            return {}
        return {"expires_after": {"anchor": "created_at", "seconds": row.upload_expires_after}}

    def upload_file(
        self, path: str | os.PathLike[str], *, purpose: str, filename: str | None = None
    ) -> JSON:
        """Upload a file as multipart, streamed from disk (memory does not grow with its size);
        with `expires_after` where the host requires it (`upload_expiry`)."""
        file_path = Path(path)
        name = filename or file_path.name
        handles: list[BinaryIO] = []
        expiry = self.upload_expiry().get("expires_after") or {}
        form = {f"expires_after[{k}]": str(v) for k, v in expiry.items()}

        def body() -> tuple[Any, str]:
            handles.append(file_path.open("rb"))
            encoder = MultipartEncoder(
                fields={
                    "purpose": purpose,
                    **form,
                    "file": (name, handles[-1], "application/jsonl"),
                }
            )
            return encoder, encoder.content_type

        try:
            return self.request("POST", "files", body=body, retry_if_sent=False)
        finally:
            for handle in handles:
                handle.close()

    def retrieve_file(self, file_id: str) -> JSON:
        return self.request("GET", f"files/{file_id}")

    def delete_file(self, file_id: str) -> JSON:
        return self.request("DELETE", f"files/{file_id}")

    def list_files(self, *, purpose: str | None = None) -> Iterator[JSON]:
        return self.paginate("files", {"purpose": purpose} if purpose else None)
