"""The HTTP client for OpenAI-compatible fine-tuning endpoints: auth, retries, errors, uploads.

Retries follow OpenAI's SDK: connection failures, 408, 409, 429 and 5xx, with exponential backoff
(0.5 s x 2^n, capped at 8 s) and jitter, honouring a positive `retry-after-ms` or `retry-after`
of at most 60 s. `insufficient_quota` and other 4xx fail at once. A request that creates
something is never retried once it may have reached the server: the caller gets the error and
decides (see `providers.job` for how a lost create is found again).

The deadline bounds a whole call: every attempt, the answers read in full, and the waits between
them. A request that sends a file is the exception while it sends (a large upload on a slow link
may outlast it; each send is bounded by the socket timeout): its answer then gets the read
timeout after it starts to arrive.

The key goes to the configured base URL's origin (scheme, host, port) and nowhere else: redirects
within that origin are followed, any other is refused with `RedirectError`. (`requests` would
follow it with every session header but `Authorization`, so Azure's `api-key` would leak.)
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests_toolbelt import MultipartEncoder

from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InternalServerError,
    MalformedResponseError,
    RedirectError,
    error_class_for,
)
from .settings import Settings

USER_AGENT = f"pulumi-finetune/{__version__}"
# Pulumi runs many resource operations at once; a cap per provider process keeps them from
# stampeding the endpoint (and its rate limits).
_MAX_CONCURRENT = max(1, int(os.environ.get("PULUMI_FINETUNE_MAX_CONCURRENT_REQUESTS", "4")))
_in_flight = threading.BoundedSemaphore(_MAX_CONCURRENT)

JSON = dict[str, Any]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_READ_SIZE = 64 * 1024
_EXCERPT_CHARS = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asks for, in seconds; None when it asks for none we can use.

    Zero, negative, non-finite and unparseable values (or a date in the past) count as no hint,
    so the caller backs off exponentially instead of retrying at once.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            wait = _positive(float(ms) / 1000)
        except ValueError:
            wait = None
        if wait is not None:
            return wait
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return _positive(float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # neither seconds nor an HTTP date: fall back to backoff
    return _positive(float(parsed.timestamp()) - time.time())


def _positive(seconds: float) -> float | None:
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def origin(url: str) -> str:
    """`scheme://host:port` of a URL, the port spelled out: where a key may be sent."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return f"{scheme}://{parts.netloc}"  # a malformed port matches no configured origin
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed request may have taken effect all the same.

    True for a 5xx answer, for a success answer whose body was not JSON, and for a connection
    that failed after the request was sent (dropped, timed out). For a create, the caller must
    then look for what it may have created before sending it again (see `providers.job`); the
    client never retries such a create itself.
    """
    if isinstance(exc, InternalServerError | MalformedResponseError):
        return True
    return isinstance(exc, APIConnectionError) and exc.sent


def _was_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    text = repr(exc)
    return not any(
        marker in text
        for marker in ("NewConnectionError", "Connection refused", "NameResolutionError")
    )


class Client:
    """One endpoint, one key. Cheap to create; holds a `requests.Session` for connection reuse."""

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
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self._sleep = sleep
        self._origin = origin(settings.base_url)
        self._key = settings.require_key()
        self._session = requests.Session()
        self._session.headers.update(self._auth_headers())

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _auth_headers(self) -> dict[str, str]:
        key = self._key
        host = urlsplit(self.settings.base_url).hostname or ""
        headers = {"User-Agent": USER_AGENT}
        if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com")):
            headers["api-key"] = key
        else:
            headers["Authorization"] = f"Bearer {key}"
        if self.settings.organization:
            headers["OpenAI-Organization"] = self.settings.organization
        if self.settings.project:
            headers["OpenAI-Project"] = self.settings.project
        return headers

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: Mapping[str, Any] | None = None,
        body: Callable[[], tuple[Any, str]] | None = None,
        retry_if_sent: bool = True,
        raw: bool = False,
    ) -> Any:
        """Send a request with retries; returns parsed JSON (or bytes with `raw`).

        `body` makes a fresh (stream, content type) per attempt, for uploads.
        With `retry_if_sent=False`, a 5xx or a dropped connection is raised at once, because the
        request may have taken effect.
        """
        url = f"{self.settings.base_url}/{path.lstrip('/')}"
        started = time.monotonic()
        deadline_at = started + self.deadline
        attempt = 0
        while True:
            try:
                with _in_flight:
                    response, content = self._send(
                        method, url, path, json=json, params=params, body=body, by=deadline_at
                    )
            except APIConnectionError as exc:
                if exc.sent and not retry_if_sent:
                    raise
                error: Exception = exc
                wait = None
            else:
                if response.status_code < 400:
                    if raw:
                        return content
                    return self._parse(method, path, response, content) if content else {}
                api_error = self._api_error(method, path, response, content)
                if not api_error.retryable or (
                    isinstance(api_error, InternalServerError) and not retry_if_sent
                ):
                    raise api_error
                error = api_error
                wait = api_error.retry_after
            delay = self._backoff(attempt, wait)
            attempt += 1
            if attempt > self.max_retries or time.monotonic() - started + delay > self.deadline:
                raise error
            self._sleep(delay)

    @staticmethod
    def _backoff(attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and 0 < retry_after <= 60:
            return retry_after
        base = min(8.0, 0.5 * 2.0**attempt)
        return base * (1 - 0.25 * random.random())

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        json: JSON | None,
        params: Mapping[str, Any] | None,
        body: Callable[[], tuple[Any, str]] | None,
        by: float,
    ) -> tuple[requests.Response, bytes]:
        """One attempt: the answer and its whole body, read by monotonic time `by`.

        Redirects within the configured origin are followed (as `requests` would: 301 turns a
        POST into a GET, 302 and 303 any method but HEAD); any other is refused. Errors name
        the method and path the caller asked for.
        """
        verb = method
        for hop in range(_MAX_REDIRECTS + 1):
            if time.monotonic() >= by:
                raise APITimeoutError(
                    method, path, f"no answer within the {self.deadline:g} s deadline", sent=hop > 0
                )
            response = self._open(verb, url, path, json=json, params=params, body=body, by=by)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_STATUSES or not location:
                # An upload may have spent the deadline sending; its answer gets the read timeout.
                answer_by = by if body is None else max(by, time.monotonic() + self.timeout[1])
                return response, self._read(method, path, response, answer_by)
            response.close()
            target = urljoin(response.url, location)
            if origin(target) != self._origin:
                raise self._redirect_error(
                    method,
                    path,
                    response,
                    f"redirected to {origin(target)}, not the configured origin {self._origin}; "
                    "the API key is sent only to the configured origin, so the redirect was not "
                    "followed (set the base URL to where the API is served)",
                )
            status = response.status_code
            if (status in (302, 303) and verb != "HEAD") or (status == 301 and verb == "POST"):
                verb, json, body = "GET", None, None
            url, params = target, None
        raise self._redirect_error(
            method,
            path,
            response,
            f"more than {_MAX_REDIRECTS} redirects; the last was not followed",
        )

    def _open(
        self,
        method: str,
        url: str,
        path: str,
        *,
        json: JSON | None,
        params: Mapping[str, Any] | None,
        body: Callable[[], tuple[Any, str]] | None,
        by: float,
    ) -> requests.Response:
        """Send one request and return once the answer's headers are in; the body is unread."""
        data: Any = None
        headers: dict[str, str] = {}
        if body is not None:
            data, content_type = body()
            headers["Content-Type"] = content_type
        # No socket wait outlasts the deadline, except for an upload's answer (see `_send`).
        remaining = by - time.monotonic()
        connect = min(self.timeout[0], remaining)
        read = self.timeout[1] if body is not None else min(self.timeout[1], remaining)
        try:
            return self._session.request(
                method,
                url,
                json=json,
                params=params,
                data=data,
                headers=headers,
                timeout=(connect, read),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise APITimeoutError(method, path, "request timed out", sent=_was_sent(exc)) from None
        except requests.RequestException as exc:
            raise APIConnectionError(
                method, path, f"connection failed ({type(exc).__name__})", sent=_was_sent(exc)
            ) from None

    def _read(self, method: str, path: str, response: requests.Response, by: float) -> bytes:
        """The whole body, or APITimeoutError once monotonic time `by` passes.

        `read1` returns what one socket read brings, so a body that trickles in a byte at a time
        meets the clock between bytes rather than after the last one.
        """
        chunks: list[bytes] = []
        with response:
            while chunk := self._read1(method, path, response):
                chunks.append(chunk)
                if time.monotonic() > by:
                    raise APITimeoutError(
                        method,
                        path,
                        f"the answer was still arriving at the {self.deadline:g} s deadline",
                        sent=True,
                    )
        return b"".join(chunks)

    @staticmethod
    def _read1(method: str, path: str, response: requests.Response) -> bytes:
        try:
            return response.raw.read1(_READ_SIZE, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            raise APITimeoutError(method, path, "reading the answer timed out", sent=True) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise APIConnectionError(
                method, path, f"the answer was cut off ({type(exc).__name__})", sent=True
            ) from None

    def _parse(self, method: str, path: str, response: requests.Response, content: bytes) -> JSON:
        try:
            payload = jsonlib.loads(content)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict):
            return payload
        kind = response.headers.get("content-type") or "no content type"
        raise MalformedResponseError(
            method=method,
            path="/" + path.lstrip("/"),
            status=response.status_code,
            message=f"({kind}, {len(content)} bytes) {self._excerpt(content)}",
            request_id=response.headers.get("x-request-id"),
        )

    def _excerpt(self, content: bytes) -> str:
        """The start of a body, on one line, with the key masked (a server may echo it)."""
        text = " ".join(content[: _EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
        text = text.replace(self._key, "[key]")
        return repr(text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else ""))

    def _redirect_error(
        self, method: str, path: str, response: requests.Response, message: str
    ) -> RedirectError:
        return RedirectError(
            method=method,
            path="/" + path.lstrip("/"),
            status=response.status_code,
            message=message,
            request_id=response.headers.get("x-request-id"),
        )

    def _api_error(
        self, method: str, path: str, response: requests.Response, content: bytes
    ) -> APIError:
        message = self._excerpt(content) if content else response.reason
        code = type_ = param = None
        try:
            payload = jsonlib.loads(content)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            err = payload["error"]
            message = str(err.get("message") or message).replace(self._key, "[key]")
            code, type_, param = err.get("code"), err.get("type"), err.get("param")
        cls = error_class_for(response.status_code, code)
        return cls(
            method=method,
            path="/" + path.lstrip("/"),
            status=response.status_code,
            message=message,
            code=str(code) if code is not None else None,
            type=str(type_) if type_ is not None else None,
            param=str(param) if param is not None else None,
            request_id=response.headers.get("x-request-id"),
            retry_after=_retry_after_seconds(response.headers),
        )

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
        result: JSON = self.request("POST", "fine_tuning/jobs", json=body, retry_if_sent=False)
        return result

    def retrieve_job(self, job_id: str) -> JSON:
        result: JSON = self.request("GET", f"fine_tuning/jobs/{job_id}")
        return result

    def cancel_job(self, job_id: str) -> JSON:
        result: JSON = self.request("POST", f"fine_tuning/jobs/{job_id}/cancel")
        return result

    def pause_job(self, job_id: str) -> JSON:
        result: JSON = self.request("POST", f"fine_tuning/jobs/{job_id}/pause")
        return result

    def resume_job(self, job_id: str) -> JSON:
        result: JSON = self.request("POST", f"fine_tuning/jobs/{job_id}/resume")
        return result

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

    def retrieve_model(self, model: str) -> JSON:
        result: JSON = self.request("GET", f"models/{model}")
        return result

    def delete_model(self, model: str) -> JSON:
        result: JSON = self.request("DELETE", f"models/{model}")
        return result

    # -- files ---------------------------------------------------------------------------------

    def upload_file(
        self, path: str | os.PathLike[str], *, purpose: str, filename: str | None = None
    ) -> JSON:
        """Upload a file as multipart, streamed from disk (memory does not grow with its size)."""
        file_path = Path(path)
        name = filename or file_path.name
        handles: list[BinaryIO] = []

        def body() -> tuple[Any, str]:
            handles.append(file_path.open("rb"))
            encoder = MultipartEncoder(
                fields={"purpose": purpose, "file": (name, handles[-1], "application/jsonl")}
            )
            return encoder, encoder.content_type

        try:
            result: JSON = self.request("POST", "files", body=body, retry_if_sent=False)
        finally:
            for handle in handles:
                handle.close()
        return result

    def retrieve_file(self, file_id: str) -> JSON:
        result: JSON = self.request("GET", f"files/{file_id}")
        return result

    def delete_file(self, file_id: str) -> JSON:
        result: JSON = self.request("DELETE", f"files/{file_id}")
        return result

    def list_files(self, *, purpose: str | None = None) -> Iterator[JSON]:
        return self.paginate("files", {"purpose": purpose} if purpose else None)
