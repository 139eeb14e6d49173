"""`Client`: the fine-tuning API's calls (jobs, events, checkpoints, models, files) in OpenAI's
vocabulary, carried over the host's wire by its shape (`pulumi_finetune.shapes`), through the
transport, with the retry policy and the answers read as JSON."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from requests_toolbelt import MultipartEncoder

from .. import shapes
from ..settings import Settings
from ..shapes import Shape
from ..shapes.openai import upload_expiry
from .credentials import with_identity_token
from .responses import JSON, read_answer
from .retries import RetryPolicy
from .transport import Body, Call, Transport


class Client:
    """One endpoint, one key. Cheap to create; holds a `requests.Session` for connection reuse.

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
        settings = with_identity_token(settings)
        self.settings = settings
        self._key = settings.require_key()
        self._transport = Transport(settings, self._key, timeout=timeout, deadline=deadline)
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
            return read_answer(method, path, response, content, key=self._key)

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

    def post_file(
        self,
        path: str,
        *,
        fields: Mapping[str, str],
        file_field: str,
        file_path: str | os.PathLike[str],
        filename: str,
    ) -> JSON:
        """A multipart POST of `fields` and the file, streamed from disk (memory does not grow
        with its size); never retried once it may have reached the server."""
        source = Path(file_path)
        handles: list[BinaryIO] = []

        def body() -> tuple[Any, str]:
            handles.append(source.open("rb"))
            encoder = MultipartEncoder(
                fields={**fields, file_field: (filename, handles[-1], "application/jsonl")}
            )
            return encoder, encoder.content_type

        try:
            return self.request("POST", path, body=body, retry_if_sent=False)
        finally:
            for handle in handles:
                handle.close()

    @cached_property
    def shape(self) -> Shape:
        """How this host's wire carries the calls below (`Host.shape`, `pulumi_finetune.shapes`):
        every call takes and returns OpenAI's objects whatever the host."""
        return shapes.for_host(self.settings.host_row())

    # -- fine-tuning jobs ----------------------------------------------------------------------

    def create_job(self, body: JSON) -> JSON:
        """POST a job. Never retried once it may have reached the server (no idempotency keys)."""
        return self.shape.create_job(self, body)

    def retrieve_job(self, job_id: str) -> JSON:
        return self.shape.retrieve_job(self, job_id)

    def cancel_job(self, job_id: str) -> JSON:
        return self.shape.cancel_job(self, job_id)

    def pause_job(self, job_id: str) -> JSON:
        return self.shape.pause_job(self, job_id)

    def resume_job(self, job_id: str) -> JSON:
        return self.shape.resume_job(self, job_id)

    def latest_events(self, job_id: str, limit: int = 20) -> list[JSON]:
        """The job's newest events, newest first (one page)."""
        return self.shape.latest_events(self, job_id, limit)

    def events(self, job_id: str, page_size: int = 100) -> Iterator[JSON]:
        """Every event of the job, newest first."""
        return self.shape.events(self, job_id, page_size=page_size)

    def list_checkpoints(self, job_id: str) -> list[JSON]:
        return self.shape.list_checkpoints(self, job_id)

    def list_jobs(
        self, *, metadata: Mapping[str, str] | None = None, limit: int = 100
    ) -> Iterator[JSON]:
        """Jobs, newest first: filtered by `metadata` where the host can, else all of them
        (check the filter on what comes back)."""
        return self.shape.list_jobs(self, metadata=metadata, limit=limit)

    # -- models --------------------------------------------------------------------------------

    def retrieve_model(self, model: str) -> JSON:
        return self.shape.retrieve_model(self, model)

    def delete_model(self, model: str) -> JSON:
        return self.shape.delete_model(self, model)

    # -- files ---------------------------------------------------------------------------------

    def upload_expiry(self) -> JSON:
        """`{"expires_after": ...}` where the host requires it on an upload, else `{}`."""
        return upload_expiry(self.settings.host_row())

    def upload_file(
        self, path: str | os.PathLike[str], *, purpose: str, filename: str | None = None
    ) -> JSON:
        """Upload a file in one request, streamed from disk, the way the host's shape says
        (`expires_after` where the host requires it)."""
        name = filename or Path(path).name
        return self.shape.upload_file(self, path, purpose=purpose, filename=name)

    def retrieve_file(self, file_id: str) -> JSON:
        return self.shape.retrieve_file(self, file_id)

    def delete_file(self, file_id: str) -> JSON:
        return self.shape.delete_file(self, file_id)

    def list_files(self, *, purpose: str | None = None) -> Iterator[JSON]:
        return self.shape.list_files(self, purpose=purpose)
