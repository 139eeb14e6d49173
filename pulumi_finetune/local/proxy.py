"""A counting proxy in front of one endpoint, for tests: it forwards every request as it came and
records which credential each one carried, so a test can count what reached an origin with
which key (`CountingProxy.carrying`).

It listens on a free port of 127.0.0.1 (an origin of its own) and forwards to the endpoint's
origin; bodies are streamed through unchanged, redirects are passed back as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

import requests
from werkzeug.wrappers import Request, Response

from .http import Server, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Headers a credential may travel in (OpenAI's, Azure's key header, a proxy's).
CREDENTIAL_HEADERS = ("authorization", "api-key", "x-api-key")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it."""

    method: str
    path: str
    credentials: tuple[str, ...]
    """The values of its credential headers (`Bearer ` removed)."""


class CountingProxy:
    """Forwards to `target` (a base URL: its origin is used); `url` is the same base URL at the
    proxy's own origin. Use as a context manager."""

    def __init__(self, target: str, max_body_bytes: int = 64 * 1024 * 1024) -> None:
        parts = urlsplit(target)
        self._upstream = f"{parts.scheme}://{parts.netloc}"
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._session = requests.Session()
        self._server: Server = make_server("127.0.0.1", 0, self._app, max_body_bytes=max_body_bytes)
        self.port = self._server.port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}{parts.path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def carrying(self, secret: str) -> int:
        """How many requests carried `secret` in a credential header."""
        return sum(secret in s.credentials for s in self.seen())

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        credentials = tuple(
            request.headers[h].removeprefix("Bearer ").strip()
            for h in CREDENTIAL_HEADERS
            if h in request.headers
        )
        with self._lock:
            self._seen.append(Seen(request.method, request.path, credentials))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = self._session.request(
            request.method,
            f"{self._upstream}{request.full_path.rstrip('?')}",
            headers=headers,
            data=request.get_data(),
            allow_redirects=False,
            timeout=(10, 300),
        )
        response = Response(upstream.content, status=upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in _HOP_BY_HOP | {"content-length", "content-encoding"}:
                response.headers[key] = value
        return response(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
