"""The HTTP client against servers that misbehave on purpose: redirects to another origin, answers
that trickle in, success bodies that are not JSON, and retry hints that ask for no wait.

Each server is a real `http.server` on 127.0.0.1 whose answers the test scripts; two servers on
different ports are two origins."""

from __future__ import annotations

import email.utils
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pulumi_finetune.client import Client, is_ambiguous
from pulumi_finetune.errors import (
    APIError,
    APITimeoutError,
    BadRequestError,
    FinetuneError,
    MalformedResponseError,
    RateLimitError,
    RedirectError,
    SettingsError,
)
from pulumi_finetune.settings import Settings, resolve

KEY = "sk-hostile-" + secrets.token_hex(16)
FILE = {"id": "file-abc", "object": "file", "bytes": 1, "filename": "a.jsonl"}
AZURE = "http://res.openai.azure.com"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Respond = Callable[["Handler", "Server"], None]


@dataclass
class Server:
    """One scripted HTTP server; records every request it receives."""

    respond: Respond
    seen: list[Seen] = field(default_factory=list)
    bytes_sent: int = 0
    cut: threading.Event = field(default_factory=threading.Event)
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def origin(self) -> str:
        return self.url


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def owner(self) -> Server:
        owner: Server = self.server.owner  # type: ignore[attr-defined]
        return owner

    def handle_any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.owner.seen.append(Seen(self.command, self.path, headers))
        self.owner.respond(self, self.owner)

    do_GET = do_POST = do_DELETE = do_HEAD = handle_any

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"x-request-id": "req_hostile", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.answer(status, body, {"content-type": "application/json", **(headers or {})})

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Respond], Server]]:
    servers: list[Server] = []

    def start(respond: Respond) -> Server:
        server = Server(respond)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.owner = server  # type: ignore[attr-defined]
        server.httpd = httpd
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.httpd is not None
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """`requests` honours proxy variables; these tests set them only where they say so."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(base_url: str, sleeps: Sleeps | None = None, **kw: Any) -> Client:
    settings = Settings(
        base_url=base_url, api_key=KEY, organization="org-hostile", project="proj_hostile"
    )
    return Client(settings, sleep=sleeps if sleeps is not None else Sleeps(), **kw)


def carries_credentials(seen: Seen) -> bool:
    return any(
        name in seen.headers
        for name in ("authorization", "api-key", "openai-organization", "openai-project")
    ) or any(KEY in value for value in seen.headers.values())


def outcome(call: Callable[[], object]) -> object:
    """What a call returned or raised, so a test can check what leaked before how it ended."""
    try:
        return call()
    except Exception as exc:
        return exc


def assert_key_absent(err: BaseException) -> None:
    for text in (str(err), repr(err), repr(vars(err))):
        assert KEY not in text


# -- the key goes to the configured origin only -------------------------------------------------


def redirect_to(location: Callable[[Server], str], status: int = 302) -> Respond:
    def respond(handler: Handler, server: Server) -> None:
        handler.answer(status, b"moved", {"location": location(server)})

    return respond


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_port_is_refused_and_the_key_never_leaves(serve, status):
    elsewhere = serve(lambda handler, _: handler.answer_json(200, FILE))
    endpoint = serve(redirect_to(lambda _: f"{elsewhere.url}/v1/files/file-abc", status))
    sleeps = Sleeps()
    with make_client(endpoint.url + "/v1", sleeps) as client:
        err = outcome(lambda: client.retrieve_file("file-abc"))

    assert not any(carries_credentials(seen) for seen in elsewhere.seen)
    assert elsewhere.seen == []
    assert isinstance(err, RedirectError)
    assert endpoint.seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert len(endpoint.seen) == 1 and sleeps == []  # refused, not retried
    assert (err.status, err.request_id) == (status, "req_hostile")
    assert elsewhere.origin in str(err) and endpoint.origin in str(err)
    assert_key_absent(err)


@pytest.mark.parametrize(
    "location",
    [
        lambda elsewhere, endpoint: f"//127.0.0.1:{elsewhere.url.rsplit(':', 1)[1]}/v1/files",
        lambda elsewhere, endpoint: endpoint.url.replace("127.0.0.1", "localhost") + "/v1/files",
        lambda elsewhere, endpoint: endpoint.url.replace("http:", "https:") + "/v1/files",
    ],
    ids=["scheme-relative", "other-host-same-port", "other-scheme"],
)
def test_every_spelling_of_another_origin_is_refused(serve, location):
    elsewhere = serve(lambda handler, _: handler.answer_json(200, FILE))
    endpoint = serve(redirect_to(lambda server: location(elsewhere, server)))
    with make_client(endpoint.url + "/v1") as client:
        err = outcome(lambda: client.retrieve_file("file-abc"))
    assert not any(carries_credentials(seen) for seen in elsewhere.seen)
    assert isinstance(err, RedirectError)
    assert endpoint.origin in str(err)
    assert_key_absent(err)


def test_an_azure_api_key_is_not_carried_to_another_origin(serve, monkeypatch):
    """Azure's `api-key` header is the one `requests` would have carried along. The Azure host is
    reached through a local proxy (no DNS needed); the redirect points at a loopback server."""
    elsewhere = serve(lambda handler, _: handler.answer_json(200, FILE))
    azure = serve(redirect_to(lambda _: f"{elsewhere.url}/v1/files/file-abc", 307))
    monkeypatch.setenv("HTTP_PROXY", azure.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with make_client(AZURE + "/openai/v1") as client:
        err = outcome(lambda: client.retrieve_file("file-abc"))

    assert azure.seen[0].path == f"{AZURE}/openai/v1/files/file-abc"
    assert azure.seen[0].headers["api-key"] == KEY
    assert "authorization" not in azure.seen[0].headers
    assert not any(carries_credentials(seen) for seen in elsewhere.seen)
    assert elsewhere.seen == []
    assert isinstance(err, RedirectError)
    assert "http://res.openai.azure.com:80" in str(err) and elsewhere.origin in str(err)
    assert_key_absent(err)


def test_a_same_origin_redirect_is_followed_with_the_key(serve):
    def respond(handler: Handler, _: Server) -> None:
        if handler.path == "/v1/files/file-abc":
            handler.answer(307, b"", {"location": "/v1/moved/file-abc"})
        else:
            handler.answer_json(200, FILE)

    endpoint = serve(respond)
    with make_client(endpoint.url + "/v1") as client:
        assert client.retrieve_file("file-abc") == FILE
    assert [seen.path for seen in endpoint.seen] == ["/v1/files/file-abc", "/v1/moved/file-abc"]
    assert all(seen.headers["authorization"] == f"Bearer {KEY}" for seen in endpoint.seen)


def test_a_303_after_a_post_is_followed_as_a_get(serve):
    def respond(handler: Handler, _: Server) -> None:
        if handler.command == "POST":
            handler.answer(303, b"", {"location": "/v1/fine_tuning/jobs/ftjob-1"})
        else:
            handler.answer_json(200, {"id": "ftjob-1", "object": "fine_tuning.job"})

    endpoint = serve(respond)
    with make_client(endpoint.url + "/v1") as client:
        assert client.create_job({"model": "m", "training_file": "file-abc"})["id"] == "ftjob-1"
    assert [(seen.method, seen.path) for seen in endpoint.seen] == [
        ("POST", "/v1/fine_tuning/jobs"),
        ("GET", "/v1/fine_tuning/jobs/ftjob-1"),
    ]


def test_a_redirect_loop_ends_with_a_clear_error(serve):
    endpoint = serve(redirect_to(lambda _: "/v1/files/file-abc"))
    with make_client(endpoint.url + "/v1") as client, pytest.raises(RedirectError) as info:
        client.retrieve_file("file-abc")
    assert "more than 5 redirects" in str(info.value)
    assert len(endpoint.seen) == 6


# -- the deadline bounds an answer that trickles in ---------------------------------------------


def trickle(body: bytes, every: float, *, chunked: bool = False) -> Respond:
    """Headers at once, then the body a byte at a time."""

    def respond(handler: Handler, server: Server) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("x-request-id", "req_slow")
        if chunked:
            handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            handler.wfile.write(f"{len(body):x}\r\n".encode())
        else:
            handler.send_header("content-length", str(len(body)))
            handler.end_headers()
        handler.wfile.flush()
        try:
            for byte in body:
                time.sleep(every)
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                server.bytes_sent += 1
            if chunked:
                handler.wfile.write(b"\r\n0\r\n\r\n")
        except OSError:
            handler.close_connection = True
            server.cut.set()

    return respond


SLOW_BODY = json.dumps({**FILE, "filename": "x" * 40}).encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_trickling_answer_is_cut_at_the_deadline(serve, chunked):
    endpoint = serve(trickle(SLOW_BODY, 0.25, chunked=chunked))
    full_time = len(SLOW_BODY) * 0.25  # about 30 s
    sleeps = Sleeps()
    started = time.monotonic()
    with (
        make_client(endpoint.url + "/v1", sleeps, deadline=1.0) as client,
        pytest.raises(APITimeoutError) as info,
    ):
        client.retrieve_file("file-abc")
    elapsed = time.monotonic() - started

    assert elapsed < 1.0 + 2.0 < full_time  # the deadline, plus one socket read at most
    assert info.value.sent and isinstance(info.value, TimeoutError)
    assert "1 s deadline" in str(info.value)
    assert len(endpoint.seen) == 1 and sleeps == []  # no time left to retry
    assert endpoint.cut.wait(timeout=5.0)  # the client hung up: the server could not finish
    assert endpoint.bytes_sent < len(SLOW_BODY) // 2


def test_a_trickling_answer_to_a_create_is_ambiguous_and_not_retried(serve):
    endpoint = serve(trickle(SLOW_BODY, 0.25))
    with (
        make_client(endpoint.url + "/v1", deadline=0.75) as client,
        pytest.raises(APITimeoutError) as info,
    ):
        client.create_job({"model": "m", "training_file": "file-abc"})
    assert is_ambiguous(info.value)
    assert len(endpoint.seen) == 1


def test_an_answer_within_the_deadline_is_read_whole(serve):
    endpoint = serve(trickle(json.dumps(FILE).encode(), 0.001))
    with make_client(endpoint.url + "/v1", deadline=5.0) as client:
        assert client.retrieve_file("file-abc") == FILE


# -- a success body that is not JSON is an API error ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "shown"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", "502 Bad Gateway"),
        (b'{"id": "file-abc", "obj', "application/json", '{"id": "file-abc", "obj'),
        (b"[1, 2, 3]", "application/json", "[1, 2, 3]"),
        (b"\xff\xfe\x00garbage", "application/octet-stream", "garbage"),
        (b"[" * 100_000, "application/json", "[[[["),
        (f"echo: Bearer {KEY}".encode(), "text/plain", "echo: Bearer [key]"),
    ],
    ids=["html", "truncated", "not-an-object", "not-utf8", "deeply-nested", "echoes-key"],
)
def test_a_success_body_that_is_not_a_json_object_raises_an_api_error(
    serve, body, content_type, shown
):
    endpoint = serve(lambda handler, _: handler.answer(200, body, {"content-type": content_type}))
    sleeps = Sleeps()
    with (
        make_client(endpoint.url + "/v1", sleeps) as client,
        pytest.raises(MalformedResponseError) as info,
    ):
        client.retrieve_file("file-abc")

    err = info.value
    assert isinstance(err, APIError) and isinstance(err, FinetuneError)
    assert (err.status, err.request_id, err.path) == (200, "req_hostile", "/files/file-abc")
    assert shown in str(err) and content_type in str(err)
    assert len(str(err)) < 400  # an excerpt, not the body
    assert "[request id req_hostile]" in str(err)
    assert len(endpoint.seen) == 1 and sleeps == []
    assert_key_absent(err)


def test_a_non_json_answer_to_a_create_is_ambiguous(serve):
    endpoint = serve(lambda handler, _: handler.answer(200, b"OK", {"content-type": "text/plain"}))
    with make_client(endpoint.url + "/v1") as client, pytest.raises(MalformedResponseError) as info:
        client.create_job({"model": "m", "training_file": "file-abc"})
    assert is_ambiguous(info.value)
    assert len(endpoint.seen) == 1


def test_a_deeply_nested_error_body_is_still_the_status_error(serve):
    endpoint = serve(lambda handler, _: handler.answer(400, b"[" * 100_000))
    with make_client(endpoint.url + "/v1") as client, pytest.raises(BadRequestError) as info:
        client.retrieve_file("file-abc")
    assert info.value.status == 400 and len(str(info.value)) < 400


# -- a retry hint that asks for no wait still backs off ------------------------------------------


def rate_limited_then_ok(headers: dict[str, str], times: int = 2) -> Respond:
    def respond(handler: Handler, server: Server) -> None:
        if len(server.seen) <= times:
            error = {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}
            handler.answer_json(429, {"error": error}, headers)
        else:
            handler.answer_json(200, FILE)

    return respond


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after-ms": "0"},
        {"retry-after-ms": "-250"},
        {"retry-after-ms": "nan"},
        {"retry-after-ms": "soon"},
        {"retry-after": "0"},
        {"retry-after": "-3"},
        {"retry-after": "inf"},
        {"retry-after": "later"},
        {"retry-after": email.utils.formatdate(time.time() - 60, usegmt=True)},
        {"retry-after-ms": "0", "retry-after": "-1"},
    ],
    ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items())[:40],
)
def test_a_retry_hint_asking_for_no_wait_falls_back_to_exponential_backoff(serve, headers):
    endpoint = serve(rate_limited_then_ok(headers))
    sleeps = Sleeps()
    with make_client(endpoint.url + "/v1", sleeps) as client:
        assert client.retrieve_file("file-abc") == FILE

    assert len(endpoint.seen) == 3
    assert len(sleeps) == 2
    for attempt, delay in enumerate(sleeps):
        assert 0.375 * 2**attempt <= delay <= 0.5 * 2**attempt


def test_a_zero_retry_after_ms_defers_to_a_usable_retry_after(serve):
    endpoint = serve(rate_limited_then_ok({"retry-after-ms": "0", "retry-after": "2"}, times=1))
    sleeps = Sleeps()
    with make_client(endpoint.url + "/v1", sleeps) as client:
        assert client.retrieve_file("file-abc") == FILE
    assert sleeps == [2.0]


def test_backoff_still_gives_up_at_max_retries(serve):
    endpoint = serve(rate_limited_then_ok({"retry-after-ms": "0"}, times=100))
    sleeps = Sleeps()
    with (
        make_client(endpoint.url + "/v1", sleeps, max_retries=3) as client,
        pytest.raises(RateLimitError) as info,
    ):
        client.retrieve_file("file-abc")
    assert len(endpoint.seen) == 4 and len(sleeps) == 3
    assert info.value.retry_after is None


# -- a credential goes only to the origin it is bound to, sent as the host's row says -----------


def test_a_base_url_at_another_origin_gets_no_request_and_no_key(serve):
    configured = serve(lambda handler, _: handler.answer_json(200, FILE))
    other = serve(lambda handler, _: handler.answer_json(200, FILE))
    config = {"finetune:baseUrl": configured.url + "/v1", "finetune:apiKey": KEY}
    err = outcome(lambda: Client(resolve({"base_url": other.url + "/v1"}, config, {})))
    assert isinstance(err, SettingsError)
    assert other.seen == [] and configured.seen == []
    assert other.origin + ":" not in str(err)  # the port is spelled once: origins, not guesses
    assert f"base_url is at {other.origin}" in str(err) and configured.origin in str(err)
    assert_key_absent(err)


def test_host_compatible_on_an_azure_url_sends_the_key_as_a_bearer(serve, monkeypatch):
    """What check calls `compatible` is authenticated as `compatible`: one row decides."""
    azure = serve(lambda handler, _: handler.answer_json(200, FILE))
    monkeypatch.setenv("HTTP_PROXY", azure.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    config = {
        "finetune:baseUrl": AZURE + "/openai/v1",
        "finetune:apiKey": KEY,
        "finetune:host": "compatible",
    }
    with Client(resolve({}, config, {})) as client:
        client.retrieve_file("file-abc")
    assert azure.seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in azure.seen[0].headers


def test_a_refused_token_names_its_expiry_and_never_itself(serve):
    token = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3NjUwMDAwMDB9.c2ln"  # exp 2025-12-06T05:46:40Z
    endpoint = serve(
        lambda handler, _: handler.answer_json(
            401, {"error": {"code": "401", "message": f"bad token {token}"}}
        )
    )
    config = {
        "finetune:baseUrl": endpoint.url + "/openai/v1",
        "finetune:azureToken": token,
        "finetune:host": "azure",
    }
    with Client(resolve({}, config, {}), max_retries=0) as client:
        err = outcome(lambda: client.retrieve_file("file-abc"))
    assert isinstance(err, APIError) and err.status == 401
    assert "expired at 2025-12-06T05:46:40Z" in str(err)
    assert token not in str(err) and endpoint.seen[0].headers["authorization"] == f"Bearer {token}"
