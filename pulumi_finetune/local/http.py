"""Serving the WSGI application with waitress: HTTP framing, limits and slow clients are its job.

Waitress parses requests in one I/O thread and hands only complete requests to a pool of worker
threads, so a client that trickles its headers or body in (or reads its answer slowly) holds no
worker. It keeps connections alive, rejects malformed framing (bad chunked encoding, conflicting
``Content-Length``) with 400, refuses a body declared larger than ``max_body_bytes`` with 413
before reading it, and spools bodies larger than 512 KiB to a temporary file instead of memory.

What this module adds: those refusals in OpenAI's error shape (waitress answers them in plain
text), reading back the port chosen for port 0, a graceful stop callable from any thread, an
optional access log, and a way for the application to drop a connection without answering
(raise :class:`DropConnection`), which the fault injection uses.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from .errors import DropConnection

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

SERVER_SOFTWARE = "pulumi-finetune-local"
DEFAULT_THREADS = 16


class _OpenAIErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's refusal of a request it could not frame (bad chunked encoding, conflicting
    ``Content-Length``, a body over the limit), as OpenAI's ``{"error": {...}}`` JSON."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        message = f"{error.reason}: {error.body}"
        if status == 413:
            limit = self.channel.server.adj.max_request_body_size
            message = f"The request body exceeds the maximum size of {limit} bytes."
        body = json.dumps(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error" if status < 500 else "server_error",
                    "param": None,
                    "code": "request_too_large" if status == 413 else None,
                }
            }
        ).encode()
        self.status = f"{status} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):  # type: ignore[misc]
    error_task_class = _OpenAIErrorTask


class Server:
    """``app`` served on ``(host, port)``; port 0 picks a free port, read back in :attr:`port`.

    Binding happens in the constructor (so a port in use fails there, as ``OSError``). Call
    :meth:`serve_forever` in one thread and :meth:`shutdown` from another (or from a signal
    handler's helper thread): it stops accepting, lets requests in flight finish and flush (up to
    ``close_timeout`` seconds), then closes every connection and makes ``serve_forever`` return.
    :attr:`app` is looked up per request, so it may be wrapped after the server started.
    """

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        *,
        max_body_bytes: int,
        threads: int = DEFAULT_THREADS,
        idle_timeout: int = 120,
        log_requests: bool = False,
        close_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.close_timeout = close_timeout
        self._log_requests = log_requests
        self._waitress: Any = create_server(
            self._serve_request,
            host=host,
            port=port,
            threads=threads,
            ident=SERVER_SOFTWARE,
            max_request_body_size=max_body_bytes,
            channel_timeout=idle_timeout,
            connection_limit=1000,
            asyncore_use_poll=True,  # no FD_SETSIZE ceiling on open connections
            clear_untrusted_proxy_headers=True,
        )
        self._waitress.channel_class = _Channel
        self.host: str = self._waitress.effective_host
        self.port: int = self._waitress.effective_port
        self._stopped = threading.Event()

    def _serve_request(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Call :attr:`app` (read per request, so a test may wrap it after start)."""
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(*args: Any) -> Any:
            status.append(args[0])
            return start_response(*args)

        try:
            return self.app(environ, recording_start_response)
        except DropConnection:
            raise ClientDisconnected() from None  # waitress closes without writing anything
        finally:
            if self._log_requests:
                log.info(
                    '%s "%s %s" %s %.1f ms',
                    environ.get("REMOTE_ADDR", "-"),
                    environ.get("REQUEST_METHOD"),
                    environ.get("REQUEST_URI") or environ.get("PATH_INFO"),
                    (status[0] if status else "dropped").split(" ", 1)[0],
                    (time.perf_counter() - started) * 1000,
                )

    def serve_forever(self) -> None:
        try:
            self._waitress.run()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop gracefully (see the class docstring); safe to call twice."""
        waitress = self._waitress
        if self._stopped.is_set():
            return
        not_accepting = threading.Event()

        def stop_accepting() -> None:
            waitress.del_channel()
            not_accepting.set()

        try:
            waitress.trigger.pull_trigger(stop_accepting)
        except OSError:  # the I/O loop has already ended and closed its trigger
            return
        not_accepting.wait(timeout=self.close_timeout)
        waitress.task_dispatcher.shutdown(cancel_pending=True, timeout=self.close_timeout)
        deadline = time.monotonic() + self.close_timeout
        while time.monotonic() < deadline and any(
            getattr(channel, "total_outbufs_len", 0) for channel in list(waitress._map.values())
        ):
            time.sleep(0.01)  # let the I/O thread flush what the last requests wrote

        def close_all() -> None:
            for channel in list(waitress._map.values()):
                channel.close()
            waitress.socket.close()

        try:
            waitress.trigger.pull_trigger(close_all)
        except OSError:
            return
        self._stopped.wait(timeout=self.close_timeout)


def make_server(
    host: str,
    port: int,
    app: WSGIApplication,
    *,
    max_body_bytes: int,
    log_requests: bool = False,
) -> Server:
    """A waitress server for ``app`` (see :class:`Server`)."""
    return Server(host, port, app, max_body_bytes=max_body_bytes, log_requests=log_requests)
