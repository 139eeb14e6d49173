"""A small threaded HTTP/1.1 WSGI server that keeps connections alive.

Werkzeug's development server closes the connection after every response, so each request pays
a TCP handshake, an ``accept`` in the serving thread and a new thread, and its header parsing goes
through ``email.parser``. Under load (50 clients polling) that was most of the endpoint's CPU and
of its latency tail. This server keeps one thread per open connection and serves request after
request on it:

* request line and headers are parsed directly (limits: 64 KiB line, 100 headers);
* a body is read through a stream bounded by ``Content-Length``; whatever the application left
  unread is drained (up to 1 MiB, else the connection is closed) so the next request parses;
  ``Transfer-Encoding: chunked`` request bodies are decoded and the connection closed after them;
  ``Expect: 100-continue`` is answered before the application reads;
* a response without ``Content-Length`` is buffered and measured; one with it (``send_file``) is
  streamed; head and body go out in as few ``sendall`` calls as possible;
* HTTP/1.0 requests, ``Connection: close``, errors and server shutdown close the connection;
  idle connections time out after ``idle_timeout`` seconds.

``environ["werkzeug.socket"]`` is the connection's socket, as with werkzeug's server, so the
application can drop a connection without answering.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from werkzeug.serving import DechunkedInput

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
MAX_HEADERS = 100
MAX_DRAIN = 1024 * 1024
SERVER_SOFTWARE = "pulumi-finetune-local"

_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    505: "HTTP Version Not Supported",
}


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Body(io.RawIOBase):
    """The request body: at most ``length`` bytes of the connection's buffered reader."""

    def __init__(self, rfile: io.BufferedReader, length: int) -> None:
        self._rfile = rfile
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            return 0
        view = memoryview(buffer)
        if len(view) > self.remaining:
            view = view[: self.remaining]
        n = self._rfile.readinto(view)
        if not n:
            raise ConnectionError("the client closed the connection inside the request body")
        self.remaining -= n
        return n

    def drain(self) -> bool:
        """Read and discard what is left; False when too much is left to bother."""
        if self.remaining > MAX_DRAIN:
            return False
        while self.remaining > 0:
            chunk = self._rfile.read(min(self.remaining, 65536))
            if not chunk:
                return False
            self.remaining -= len(chunk)
        return True


class _DateCache:
    """The ``Date`` header, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._value = formatdate(now, usegmt=True)
            self._second = now
        return self._value


_dates = _DateCache()


class _Connection(socketserver.BaseRequestHandler):
    """Serves the requests of one connection, one after another."""

    server: WSGIServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.server.idle_timeout)
        rfile = sock.makefile("rb", buffering=65536)
        assert isinstance(rfile, io.BufferedReader)
        self.server.track(sock, True)
        try:
            while not self.server.closing and self._serve_one(sock, rfile):
                pass
        except (OSError, ValueError):
            pass  # the peer went away, timed out, or the server is shutting down
        finally:
            self.server.track(sock, False)
            with contextlib.suppress(OSError):
                rfile.close()

    def _serve_one(self, sock: socket.socket, rfile: io.BufferedReader) -> bool:
        """One request and its response; whether the connection stays open."""
        line = rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        if line in (b"\r\n", b"\n"):  # tolerated between requests (RFC 9112 2.2)
            line = rfile.readline(MAX_LINE + 1)
            if not line:
                return False
        try:
            environ, keep_alive = self._environ(sock, rfile, line)
        except _BadRequest as exc:
            self._send_error(sock, exc.status)
            return False
        if environ.get("HTTP_EXPECT", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        keep_alive = self._run_app(sock, environ, keep_alive)
        body = environ["wsgi.input"]
        if isinstance(body, _Body):
            return keep_alive and body.drain()
        return False  # a chunked body: simplest to start afresh

    def _environ(
        self, sock: socket.socket, rfile: io.BufferedReader, line: bytes
    ) -> tuple[WSGIEnvironment, bool]:
        if len(line) > MAX_LINE:
            raise _BadRequest(414)
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3:
            raise _BadRequest(400)
        method, target, version = parts
        if not version.startswith("HTTP/1."):
            raise _BadRequest(505)
        keep_alive = version == "HTTP/1.1"

        if target.startswith(("http://", "https://")):  # absolute form
            scheme_end = target.index("//") + 2
            slash = target.find("/", scheme_end)
            host = target[scheme_end:] if slash < 0 else target[scheme_end:slash]
            target = "/" if slash < 0 else target[slash:]
        else:
            host = None
        path, _, query = target.partition("?")
        path = path.split("#", 1)[0]

        server_host, server_port = self.server.server_address[:2]
        client_host, client_port = self.client_address[:2]
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": sock,
            "SERVER_SOFTWARE": SERVER_SOFTWARE,
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": target,
            "RAW_URI": target,
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": client_port,
            "SERVER_NAME": str(server_host),
            "SERVER_PORT": str(server_port),
            "SERVER_PROTOCOL": version,
        }

        for _ in range(MAX_HEADERS + 1):
            raw = rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n"):
                break
            if not raw:
                raise ConnectionError("the client closed the connection inside the headers")
            if len(raw) > MAX_LINE:
                raise _BadRequest(431)
            name, colon, value = raw.decode("latin-1").partition(":")
            if not colon or not name or name != name.strip() or name[0] in " \t":
                raise _BadRequest(400)
            if "_" in name:
                continue  # as werkzeug: never let a header pose as CONTENT_TYPE and such
            key = name.upper().replace("-", "_")
            value = value.strip()
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        else:
            raise _BadRequest(431)

        if host is not None:
            environ["HTTP_HOST"] = host
        connection = environ.get("HTTP_CONNECTION", "").lower()
        if "close" in connection:
            keep_alive = False
        elif "keep-alive" in connection:
            keep_alive = True

        transfer = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if "chunked" in transfer:
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input"] = DechunkedInput(rfile)
            environ["wsgi.input_terminated"] = True
        else:
            raw_length = environ.get("CONTENT_LENGTH", "").strip()
            if raw_length and not raw_length.isdigit():
                raise _BadRequest(400)
            environ["wsgi.input"] = _Body(rfile, int(raw_length or 0))
        return environ, keep_alive

    def _run_app(self, sock: socket.socket, environ: WSGIEnvironment, keep_alive: bool) -> bool:
        """Call the application and send its response; whether the connection may stay open."""
        state: dict[str, Any] = {}
        buffered: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if exc_info is not None and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])  # type: ignore[union-attr]
            state["status"] = status
            state["headers"] = headers
            return buffered.append

        started = time.perf_counter()
        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
        except Exception:
            log.exception("unhandled error in the application")
            self._send_error(sock, 500)
            return False
        try:
            return self._send(sock, environ, state, buffered, result, keep_alive)
        except (OSError, ValueError):
            return False  # the client went away, or the application dropped the connection
        except Exception:
            log.exception("unhandled error while sending a response")
            if not state.get("sent"):
                self._send_error(sock, 500)
            return False
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            if self.server.log_requests:
                log.info(
                    '%s "%s %s %s" %s %.1f ms',
                    self.client_address[0],
                    environ["REQUEST_METHOD"],
                    environ["REQUEST_URI"],
                    environ["SERVER_PROTOCOL"],
                    str(state.get("status", "-")).split(" ", 1)[0],
                    (time.perf_counter() - started) * 1000,
                )

    def _send(
        self,
        sock: socket.socket,
        environ: WSGIEnvironment,
        state: dict[str, Any],
        buffered: list[bytes],
        result: Iterable[bytes],
        keep_alive: bool,
    ) -> bool:
        iterator = iter(result)
        first: list[bytes] = []
        for chunk in iterator:  # start_response may be called as late as the first chunk
            if chunk:
                first.append(chunk)
                break
        if "status" not in state:
            raise RuntimeError("the application did not call start_response")
        headers: list[tuple[str, str]] = state["headers"]
        names = {name.lower() for name, _ in headers}
        streamed = "content-length" in names
        chunks = buffered + first
        if not streamed:
            chunks.extend(c for c in iterator if c)
            length = sum(len(c) for c in chunks)
            headers = [*headers, ("Content-Length", str(length))]
        if not keep_alive or self.server.closing:
            keep_alive = False
            headers = [(n, v) for n, v in headers if n.lower() != "connection"]
            headers.append(("Connection", "close"))
        lines = [f"HTTP/1.1 {state['status']}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if "date" not in names:
            lines.append(f"Date: {_dates.get()}")
        if "server" not in names:
            lines.append(f"Server: {SERVER_SOFTWARE}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        state["sent"] = True
        if environ["REQUEST_METHOD"] == "HEAD":
            sock.sendall(head)
            return keep_alive
        if not streamed or len(chunks) <= 1:
            sock.sendall(b"".join([head, *chunks]))
        else:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
        if streamed:
            for chunk in iterator:
                if chunk:
                    sock.sendall(chunk)
        return keep_alive

    @staticmethod
    def _send_error(sock: socket.socket, status: int) -> None:
        reason = _REASONS.get(status, "Error")
        body = f"{status} {reason}\n".encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with contextlib.suppress(OSError):
            sock.sendall(head + body)


class WSGIServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Serves ``app`` on ``(host, port)``; port 0 picks a free one. One thread per connection.

    ``serve_forever`` in one thread; ``shutdown`` from another, then ``server_close``, which also
    closes open connections and waits (up to ``close_timeout``) for requests in flight.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        *,
        idle_timeout: float = 120.0,
        log_requests: bool = False,
        close_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.log_requests = log_requests
        self.close_timeout = close_timeout
        self.closing = False
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address_family = family
        super().__init__((host, port), _Connection)

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections[sock] = threading.current_thread()
            else:
                self._connections.pop(sock, None)
                self._idle.notify_all()

    def server_close(self) -> None:
        """Stop accepting, close every connection, wait for requests in flight to finish."""
        self.closing = True
        super().server_close()
        with self._lock:
            for sock in list(self._connections):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)  # wakes a thread waiting for a request
            deadline = time.monotonic() + self.close_timeout
            while self._connections and time.monotonic() < deadline:
                self._idle.wait(timeout=max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error serving %s", client_address)


def make_server(
    host: str, port: int, app: WSGIApplication, *, log_requests: bool = False
) -> WSGIServer:
    """A keep-alive threaded server for ``app`` (see the module docstring)."""
    return WSGIServer(host, port, app, log_requests=log_requests)
