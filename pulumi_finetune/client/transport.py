"""One request to the configured endpoint: the session, the auth headers, redirects within the
configured origin, the deadline, and the body read in full.

The deadline bounds a whole call: every attempt, the answers read in full, and the waits between
them. A request that sends a file is the exception while it sends (a large upload on a slow link
may outlast it; each send is bounded by the socket timeout): its answer then gets the read
timeout after it starts to arrive.

The credential goes to the base URL's origin (scheme, host, port) and nowhere else (and only where
it is bound: `pulumi_finetune.settings`); redirects
within that origin are followed, any other is refused with `RedirectError`. (`requests` would
follow it with every session header but `Authorization`, so Azure's `api-key` would leak.)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from .._version import __version__
from ..errors import APIConnectionError, APITimeoutError, RedirectError
from ..settings import Settings, origin
from .credentials import Credential
from .responses import JSON, answered

USER_AGENT = f"pulumi-finetune/{__version__}"
# Pulumi runs many resource operations at once; a cap per provider process keeps them from
# stampeding the endpoint (and its rate limits).
MAX_CONCURRENT = max(1, int(os.environ.get("PULUMI_FINETUNE_MAX_CONCURRENT_REQUESTS", "4")))
_in_flight = threading.BoundedSemaphore(MAX_CONCURRENT)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_READ_SIZE = 64 * 1024

Body = Callable[[], tuple[Any, str]]
"""Makes a fresh (stream, content type) per attempt, for uploads."""


@dataclass(frozen=True)
class Call:
    """A request as the caller asked for it; errors name its method and its path."""

    method: str
    path: str
    """Relative to the base URL."""
    json: JSON | None = None
    params: Mapping[str, Any] | None = None
    body: Body | None = None


def session_headers(settings: Settings) -> dict[str, str]:
    """What every request carries besides the credential (`credentials.Credential`, read per
    request so that an identity token is fetched again before it expires)."""
    headers = {"User-Agent": USER_AGENT}
    if settings.organization:
        headers["OpenAI-Organization"] = settings.organization
    if settings.project:
        headers["OpenAI-Project"] = settings.project
    return headers


class Transport:
    """Sends requests to one endpoint with its key; holds a `requests.Session` for connection
    reuse. At most `MAX_CONCURRENT` requests are in flight per process, over all transports."""

    def __init__(
        self,
        settings: Settings,
        credential: Credential,
        *,
        timeout: tuple[float, float],
        deadline: float,
    ) -> None:
        self.base_url = settings.base_url
        self.origin = origin(settings.base_url)
        self.credential = credential
        self.timeout = timeout
        self.deadline = deadline
        """Only for messages: the caller says by when each call must end (`by`)."""
        self.session = requests.Session()
        self.session.headers.update(session_headers(settings))

    def close(self) -> None:
        self.session.close()

    def send(self, call: Call, by: float) -> tuple[requests.Response, bytes]:
        """One attempt: the answer and its whole body, read by monotonic time `by`."""
        with _in_flight:
            return self._exchange(call, by)

    def _exchange(self, call: Call, by: float) -> tuple[requests.Response, bytes]:
        """Redirects within the configured origin are followed (as `requests` would: 301 turns a
        POST into a GET, 302 and 303 any method but HEAD); any other is refused."""
        hop, url = call, f"{self.base_url}/{call.path.lstrip('/')}"
        for count in range(_MAX_REDIRECTS + 1):
            if time.monotonic() >= by:
                raise APITimeoutError(
                    call.method,
                    call.path,
                    f"no answer within the {self.deadline:g} s deadline",
                    sent=count > 0,
                )
            response = self._open(call, hop, url, by)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_STATUSES or not location:
                # An upload may have spent the deadline sending; its answer gets the read timeout.
                answer_by = by if hop.body is None else max(by, time.monotonic() + self.timeout[1])
                return response, self._read(call, response, answer_by)
            response.close()
            target = urljoin(response.url, location)
            if origin(target) != self.origin:
                raise RedirectError(
                    **answered(call.method, call.path, response),
                    message=f"redirected to {origin(target)}, not the configured origin "
                    f"{self.origin}; the API key is sent only to the configured origin, so the "
                    "redirect was not followed (set the base URL to where the API is served)",
                )
            hop, url = _redirected(hop, response.status_code), target
        raise RedirectError(
            **answered(call.method, call.path, response),
            message=f"more than {_MAX_REDIRECTS} redirects; the last was not followed",
        )

    def _open(self, call: Call, hop: Call, url: str, by: float) -> requests.Response:
        """Send `hop` to `url` and return once the answer's headers are in; the body is unread.
        Errors name `call`, the request the caller asked for."""
        data: Any = None
        headers = self.credential.headers()
        if hop.body is not None:
            data, headers["Content-Type"] = hop.body()
        # No socket wait outlasts the deadline, except for an upload's answer (see `_exchange`).
        remaining = by - time.monotonic()
        connect = min(self.timeout[0], remaining)
        read = self.timeout[1] if hop.body is not None else min(self.timeout[1], remaining)
        try:
            return self.session.request(
                hop.method,
                url,
                json=hop.json,
                params=hop.params,
                data=data,
                headers=headers,
                timeout=(connect, read),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise APITimeoutError(
                call.method,
                call.path,
                "request timed out",
                sent=_was_sent(exc),
            ) from None
        except requests.RequestException as exc:
            raise APIConnectionError(
                call.method,
                call.path,
                f"connection failed ({type(exc).__name__})",
                sent=_was_sent(exc),
            ) from None

    def _read(self, call: Call, response: requests.Response, by: float) -> bytes:
        """The whole body, or APITimeoutError once monotonic time `by` passes.

        `read1` returns what one socket read brings, so a body that trickles in a byte at a time
        meets the clock between bytes rather than after the last one.
        """
        chunks: list[bytes] = []
        with response:
            while chunk := _read1(call, response):
                chunks.append(chunk)
                if time.monotonic() > by:
                    raise APITimeoutError(
                        call.method,
                        call.path,
                        f"the answer was still arriving at the {self.deadline:g} s deadline",
                        sent=True,
                    )
        return b"".join(chunks)


def _redirected(hop: Call, status: int) -> Call:
    """What to send on after a redirect (the target URL carries its own query). As `requests`
    does: 301 turns a POST into a GET, 302 and 303 any method but HEAD, without the body."""
    if (status in (302, 303) and hop.method != "HEAD") or (status == 301 and hop.method == "POST"):
        return replace(hop, method="GET", json=None, params=None, body=None)
    return replace(hop, params=None)


def _read1(call: Call, response: requests.Response) -> bytes:
    try:
        return response.raw.read1(_READ_SIZE, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError:
        raise APITimeoutError(
            call.method, call.path, "reading the answer timed out", sent=True
        ) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise APIConnectionError(
            call.method, call.path, f"the answer was cut off ({type(exc).__name__})", sent=True
        ) from None


def _was_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    text = repr(exc)
    return not any(
        marker in text
        for marker in ("NewConnectionError", "Connection refused", "NameResolutionError")
    )
