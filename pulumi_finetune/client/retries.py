"""The retry policy: what is retried, how long to wait between attempts, when to give up.

Retries follow OpenAI's SDK: connection failures, 408, 409, 429 and 5xx, with exponential backoff
(0.5 s x 2^n, capped at 8 s) and jitter, honouring a positive `retry-after-ms` or `retry-after`
of at most 60 s. `insufficient_quota` and other 4xx fail at once. A request that creates
something is never retried once it may have reached the server: the caller gets the error and
decides (see `providers.job` for how a lost create is found again).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ..errors import APIConnectionError, APIError, InternalServerError, MalformedResponseError

T = TypeVar("T")

MAX_RETRY_AFTER = 60.0
"""The longest `retry-after` honoured as is; a longer one falls back to backoff."""


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
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


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number `attempt` + 1 (0-based): the server's hint if it
    gave a usable one, otherwise 0.5 s x 2^attempt capped at 8 s, less up to 25 % jitter."""
    if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
        return retry_after
    base = min(8.0, 0.5 * 2.0**attempt)
    return base * (1 - 0.25 * random.random())


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


@dataclass(frozen=True)
class RetryPolicy:
    """Runs one call's attempts until one succeeds, the error is final, or time runs out."""

    max_retries: int
    """Attempts after the first, at the most."""
    deadline: float
    """Seconds for the whole call: every attempt and the waits between them."""
    sleep: Callable[[float], None] = time.sleep

    def run(self, attempt: Callable[[float], T], *, retry_if_sent: bool) -> T:
        """`attempt(by)` until it returns; `by` is the call's deadline in monotonic time.

        An `APIError` is retried when its class says so (`retryable`), a connection failure
        always; with `retry_if_sent=False` neither a 5xx nor a connection that failed after the
        request was sent is retried, because the request may have taken effect.
        """
        started = time.monotonic()
        by = started + self.deadline
        retries = 0
        while True:
            try:
                return attempt(by)
            except APIConnectionError as exc:
                if exc.sent and not retry_if_sent:
                    raise
                error: Exception = exc
                hint = None
            except APIError as exc:
                if not exc.retryable or (
                    isinstance(exc, InternalServerError) and not retry_if_sent
                ):
                    raise
                error = exc
                hint = exc.retry_after
            delay = backoff(retries, hint)
            retries += 1
            if retries > self.max_retries or time.monotonic() - started + delay > self.deadline:
                raise error
            self.sleep(delay)
