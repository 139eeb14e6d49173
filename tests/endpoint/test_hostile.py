"""Hostile and careless input to the local endpoint: each case gets a clear error or bounded use of
memory, and the endpoint keeps serving afterwards."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pulumi_finetune.local.errors import DataDirInUse
from pulumi_finetune.local.server import KEY_ENV, LocalEndpoint, LocalProcess, start_subprocess

from .conftest import Api

MB = 1024 * 1024
ERROR_KEYS = {"message", "type", "param", "code"}


def _raw(endpoint: LocalEndpoint | LocalProcess, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection; everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _openai_error(response: bytes, status: int) -> dict[str, object]:
    """The error object of a raw response, which must be ``status`` in OpenAI's JSON shape."""
    head, _, body = response.partition(b"\r\n\r\n")
    assert _status(response) == status, response[:300]
    assert b"content-type: application/json" in head.lower(), head
    error: dict[str, object] = json.loads(body)["error"]
    assert set(error) == ERROR_KEYS, error
    assert error["type"] == "invalid_request_error"
    return error


def _head(endpoint: LocalEndpoint | LocalProcess, method: str, path: str, *lines: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {endpoint.key}\r\n" + "".join(f"{line}\r\n" for line in lines)
    ).encode() + b"\r\n"


def _post_json_text(api: Api, path: str, text: str) -> dict[str, object]:
    response = api.post(path, data=text, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error: dict[str, object] = response.json()["error"]
    assert set(error) == ERROR_KEYS and error["type"] == "invalid_request_error"
    return error


def _cli(*args: str, key: str = "sk-hostile") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.local", "--host", "127.0.0.1", *args],
        env={**os.environ, KEY_ENV: key},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pulumi-finetune-local: ")
    for word in words:
        assert word in lines[0], lines[0]


# ---------------------------------------------------------------------- bodies and framing


@pytest.mark.parametrize(
    "path", ["/fine_tuning/jobs", "/uploads", "/uploads/upload_x/complete", "/_local/faults"]
)
def test_deeply_nested_json_is_a_400_in_openai_shape(api: Api, path: str) -> None:
    depth = 100_000
    error = _post_json_text(api, path, "[" * depth + "]" * depth)
    assert "nested too deeply" in str(error["message"])
    assert api.get("/models").status_code == 200


def test_nan_and_infinity_literals_are_not_json(api: Api) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        error = _post_json_text(api, "/fine_tuning/jobs", f'{{"model": {literal}}}')
        assert "could not parse the JSON body" in str(error["message"])


def test_malformed_chunked_body_is_a_400(api: Api, endpoint: LocalEndpoint) -> None:
    head = _head(endpoint, "POST", "/v1/fine_tuning/jobs", "Content-Type: application/json",
                 "Transfer-Encoding: chunked")  # fmt: skip
    body = b"zz\r\n{}\r\n0\r\n\r\n"  # "zz" is not a chunk size
    error = _openai_error(_raw(endpoint, head + body), 400)
    assert "chunk" in str(error["message"]).lower()
    assert endpoint.stats()["requests"] == 0  # it never reached the application
    assert api.get("/models").status_code == 200


@pytest.mark.parametrize("lengths", [("2", "20"), ("2", "2"), ("2, 20",), ("-1",), ("0x2",)])
def test_duplicate_or_conflicting_content_length_is_rejected(
    api: Api, endpoint: LocalEndpoint, lengths: tuple[str, ...]
) -> None:
    head = _head(endpoint, "POST", "/v1/fine_tuning/jobs", "Content-Type: application/json",
                 *(f"Content-Length: {n}" for n in lengths))  # fmt: skip
    error = _openai_error(_raw(endpoint, head + b"{}" + b" " * 18), 400)
    assert "content-length" in str(error["message"]).lower()
    assert endpoint.stats()["requests"] == 0


def _peak_rss_reset(pid: int) -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS; False where Linux cannot."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    """The endpoint as its own process, with a 20 MiB upload limit."""
    directory = tmp_path_factory.mktemp("hostile-process")
    with start_subprocess(directory, extra_args=["--max-upload-bytes", str(20 * MB)]) as proc:
        yield proc


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_300_mb_upload_streams_to_disk_with_bounded_memory(tmp_path: Path) -> None:
    size = 300 * MB
    with start_subprocess(tmp_path / "big") as proc:
        if not _peak_rss_reset(proc.pid):
            pytest.skip("cannot reset the peak RSS of a process here (/proc/<pid>/clear_refs)")
        before = _memory_kib(proc.pid, "VmRSS")
        boundary = "hostile-boundary"
        prefix = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        suffix = f"\r\n--{boundary}--\r\n".encode()
        connection = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=120)
        connection.putrequest("POST", "/v1/files")
        connection.putheader("Authorization", f"Bearer {proc.key}")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(prefix) + size + len(suffix)))
        connection.endheaders()
        connection.send(prefix)
        chunk = b"x" * MB
        for _ in range(size // MB):
            connection.send(chunk)
        connection.send(suffix)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        assert json.loads(body)["bytes"] == size
        assert (proc.data_dir / "files" / json.loads(body)["id"]).stat().st_size == size
        peak = _memory_kib(proc.pid, "VmHWM")
        connection.close()
    growth_mib = (peak - before) / 1024
    print(f"peak RSS growth for a 300 MiB upload: {growth_mib:.1f} MiB")
    assert growth_mib < 64, f"peak RSS grew by {growth_mib:.0f} MiB for a 300 MiB body"


def test_body_over_the_limit_is_refused_before_it_is_read(process: LocalProcess) -> None:
    for path in ("/v1/files", "/v1/fine_tuning/jobs"):
        head = _head(process, "POST", path, "Content-Type: application/octet-stream",
                     f"Content-Length: {300 * MB}")  # fmt: skip
        # Only the head is sent: the answer comes without the server waiting for 300 MB.
        error = _openai_error(_raw(process, head), 413)
        assert error["code"] == "request_too_large", path


def test_json_body_over_its_limit_is_a_413_in_openai_shape(process: LocalProcess) -> None:
    api = Api(process.url, process.key)
    body = b'{"model": "' + b"x" * (9 * MB) + b'"}'
    response = api.post(
        "/fine_tuning/jobs", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert set(response.json()["error"]) == ERROR_KEYS


# ---------------------------------------------------------------------- the control API


@pytest.mark.parametrize(
    "text",
    [
        '{"advance_seconds": Infinity}',
        '{"advance_seconds": NaN}',
        '{"advance_seconds": 1e999}',
        '{"advance_seconds": ' + "9" * 400 + "}",
        '{"advance_seconds": 4e9}',
        '{"advance_seconds": -1}',
    ],
)
def test_non_finite_clock_advance_is_a_400_and_persists_nothing(tmp_path: Path, text: str) -> None:
    with LocalEndpoint(tmp_path) as ep:
        _post_json_text(Api(ep.url, ep.key), "/_local/clock", text)
    with LocalEndpoint(tmp_path) as again:
        api = Api(again.url, again.key)
        offset = api.post("/_local/clock", json={"advance_seconds": 0}).json()["offset_seconds"]
        assert offset == 0
        job = api.create_job()
        assert job["status"] == "validating_files"


@pytest.mark.parametrize(
    "text,param",
    [
        ('{"route": "*", "kind": "slow", "delay": NaN}', None),
        ('{"route": "*", "kind": "slow", "delay": 1e999}', "delay"),
        ('{"route": "*", "kind": "slow", "delay": 1e6}', "delay"),
        ('{"route": "*", "kind": "429", "retry_after": 1e999}', "retry_after"),
        ('{"random_rate": 1e999}', "random_rate"),
        ('{"random_rate": 0.5, "seed": {"a": 1}}', "seed"),
        ('{"random_rate": 0.5, "route": 5}', "route"),
    ],
)
def test_bad_fault_spec_is_a_400_and_sets_nothing(api: Api, text: str, param: str | None) -> None:
    error = _post_json_text(api, "/_local/faults", text)
    assert error["param"] == param
    assert api.get("/_local/faults").json()["data"] == []
    assert api.get("/models").status_code == 200  # no random mode switched on either


def test_unknown_paths_share_one_stats_bucket(endpoint: LocalEndpoint) -> None:
    with requests.Session() as keyless:
        for i in range(200):
            assert keyless.get(f"{endpoint.url}/no/such/{i}", timeout=10).status_code == 401
    by_route = endpoint.stats()["by_route"]
    assert by_route == {"GET (no such route)": 200}


# ---------------------------------------------------------------------- start-up


@pytest.mark.parametrize("speed", ["nan", "inf", "-1", "0"])
def test_bad_clock_speed_is_refused_in_one_line(tmp_path: Path, speed: str) -> None:
    result = _cli("--port", "0", "--data-dir", str(tmp_path), "--clock-speed", speed)
    _one_line_error(result, "clock speed")
    assert result.returncode == 2
    assert not (tmp_path / "state.sqlite3").exists()


def test_second_process_on_one_data_directory_refuses_to_start(
    process: LocalProcess,
) -> None:
    result = _cli("--port", "0", "--data-dir", str(process.data_dir))
    _one_line_error(result, "in use by another local endpoint", f"pid {process.pid}")
    with pytest.raises(DataDirInUse, match="in use"):
        LocalEndpoint(process.data_dir)
    assert Api(process.url, process.key).get("/models").status_code == 200


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli("--port", str(port), "--data-dir", str(tmp_path))
    _one_line_error(result, "cannot listen", str(port))


def test_unusable_data_directory_is_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = _cli("--port", "0", "--data-dir", str(not_a_dir))
    _one_line_error(result, "cannot use data directory", str(not_a_dir))
