"""The package's exceptions: one root, API errors per HTTP status, job outcomes, settings, and
the local side (data files, uploads, stacks).

Every API message is built here, so none of them can carry the API key: they are made from the
method, the path, the status, OpenAI's error body and the request id, never from headers.

Imported by the program side: the standard library only.
"""

from __future__ import annotations

import os
from typing import Any, cast


class FinetuneError(Exception):
    """Root of every error this package raises."""


class APIError(FinetuneError):
    """The endpoint answered with an error status.

    Carries OpenAI's error fields (`code`, `type`, `param`, `message`) and the `x-request-id`.
    Whether a retry is safe depends on the subclass: see `retryable`.
    """

    retryable = False

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        message: str,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.code = code
        self.type = type
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.method} {self.path} failed with HTTP {self.status}"]
        details = [
            f"{name}={value}"
            for name, value in (("code", self.code), ("param", self.param))
            if value
        ]
        if details:
            parts.append(f" ({', '.join(details)})")
        parts.append(f": {self.message}")
        if self.request_id:
            parts.append(f" [request id {self.request_id}]")
        return "".join(parts)


class BadRequestError(APIError):
    """400: the request is invalid; retrying it unchanged fails again."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (e.g. deleting a model needs the owner role)."""


class NotFoundError(APIError):
    """404: no such object."""


class ConflictError(APIError):
    """409: the object is in a state that forbids this; OpenAI's SDK retries it."""

    retryable = True


class UnprocessableEntityError(APIError):
    """422: well-formed but semantically rejected."""


class RateLimitError(APIError):
    """429: slow down; safe to retry after `retry_after` seconds."""

    retryable = True


class InsufficientQuotaError(RateLimitError):
    """429 with code `insufficient_quota`: the account is out of credit. Never retried."""

    retryable = False


class RequestTimeoutError(APIError):
    """408 from the server: safe to retry."""

    retryable = True


class InternalServerError(APIError):
    """5xx: the server failed. For a request that creates something, it may have taken effect."""

    retryable = True


class RedirectError(APIError):
    """The endpoint redirected to another origin, or too many times; the redirect was not
    followed. The key goes only to the configured base URL's origin (scheme, host and port), so
    a redirect elsewhere is refused rather than followed with the key or without it."""


class MalformedResponseError(APIError):
    """A success status with a body that is not a JSON object (a proxy's HTML page, a cut-off
    body). Not retried; for a create, the request took effect all the same (see
    `client.is_ambiguous`). `message` holds a short excerpt of the body."""

    def _render(self) -> str:
        text = (
            f"{self.method} {self.path} answered HTTP {self.status} with a body that is not a "
            f"JSON object: {self.message}"
        )
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class APIConnectionError(FinetuneError, ConnectionError):
    """No usable answer: the connection failed or dropped.

    `sent` says whether the request may have reached the server (a refused connection was not
    sent; a dropped one may have been processed).
    """

    def __init__(self, method: str, path: str, reason: str, *, sent: bool) -> None:
        self.method = method
        self.path = "/" + path.lstrip("/")  # as API errors name it
        self.sent = sent
        super().__init__(f"{method} {self.path}: {reason}")


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out."""


class JobFailedError(FinetuneError):
    """A fine-tuning job that was being waited on ended in `failed` (or `cancelled`)."""

    def __init__(self, job_id: str, status: str, error: dict[str, Any] | None) -> None:
        self.job_id = job_id
        self.status = status
        error = error or {}
        self.code = error.get("code")
        self.error_message = error.get("message")
        self.param = error.get("param")
        detail = f"fine-tuning job {job_id} ended with status {status!r}"
        if self.code or self.error_message:
            detail += f": {self.code or 'error'}: {self.error_message or ''}".rstrip()
        if self.param:
            detail += f" (param: {self.param})"
        super().__init__(detail)


class SettingsError(FinetuneError):
    """A setting is missing or malformed; the message says where to set it."""


class DataFileError(FinetuneError, OSError):
    """A data file that cannot be read: missing, not a regular file (a directory, a FIFO, a
    device), a symlink loop, a name too long, no permission. ``str()`` is one line that names
    the file and the reason; ``errno`` is set when the system gave one."""

    def __init__(self, path: str | os.PathLike[str], reason: str, code: int | None = None) -> None:
        shown = os.fsdecode(path)
        if len(shown) > 120:
            shown = shown[:60] + "..." + shown[-40:]
        super().__init__(code, f"{shown}: {reason}")
        self.filename = os.fsdecode(path)
        self.reason = reason

    def __str__(self) -> str:
        return cast(str, self.strerror)


class UploadError(FinetuneError):
    """An upload could not be finished; the message says whether anything was left behind."""


class FileChangedError(UploadError):
    """The local file changed after `pulumi preview` validated it, or while it was being sent."""


class StackError(FinetuneError):
    """The `pulumi` CLI is missing, or could not read the stack."""


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int, code: str | None) -> type[APIError]:
    if status == 429 and code == "insufficient_quota":
        return InsufficientQuotaError
    if status >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status, APIError)
