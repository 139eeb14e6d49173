"""Running the endpoint: in a background thread of this process, or as a separate process."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import urlsplit

import requests

from .app import LocalApp, create_app
from .config import DEFAULT_MAX_UPLOAD_BYTES, EndpointConfig
from .http import Server, make_server

KEY_ENV = "PULUMI_FINETUNE_LOCAL_KEY"


class Control:
    """A client of the ``/_local`` control API (faults, stats, clock): the one every test,
    benchmark and endpoint handle uses."""

    url: str
    key: str

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """The server's root URL, without the API path (``/v1``, ``/openai/v1``)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method,
            self.root + path,
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def add_fault(self, route: str, kind: str, **options: Any) -> dict[str, Any]:
        """``POST /_local/faults``: ``add_fault("POST /v1/fine_tuning/jobs", "429", times=2)``."""
        result: dict[str, Any] = self._call(
            "POST", "/_local/faults", {"route": route, "kind": kind, **options}
        )
        return result

    def clear_faults(self) -> None:
        """``DELETE /_local/faults``: remove every script and switch random faults off."""
        self._call("DELETE", "/_local/faults")

    def stats(self) -> dict[str, Any]:
        """``GET /_local/stats``: ``{"requests", "by_route", "jobs_created"}``."""
        result: dict[str, Any] = self._call("GET", "/_local/stats")
        return result

    def reset_stats(self) -> None:
        """``POST /_local/stats/reset``."""
        self._call("POST", "/_local/stats/reset")

    def wind_down(self, **settings: Any) -> dict[str, Any]:
        """``POST /_local/wind_down``: ``wind_down(jobs_end="2027-01-06")`` refuses new jobs
        from that day (None: never); ``wind_down(retire={"gpt-4o-mini": "2027-01-14"})``
        retires base models (a None date un-retires)."""
        result: dict[str, Any] = self._call("POST", "/_local/wind_down", settings)
        return result

    def advance_clock(self, seconds: float) -> None:
        """``POST /_local/clock``: pretend ``seconds`` of wall time passed for every job."""
        self._call("POST", "/_local/clock", {"advance_seconds": seconds})

    def job_request(self, job_id: str) -> dict[str, Any]:
        """``GET /_local/jobs/<id>/request``: the create body of a job as the endpoint received
        it, and which credential it came with (``bearer-key``, ``api-key``, ``bearer-token``)."""
        result: dict[str, Any] = self._call("GET", f"/_local/jobs/{job_id}/request")
        return result

    def set_cost_cap(self, usd: float | None) -> None:
        """``POST /_local/cost_cap``: where jobs created from now on pause themselves (a flavor
        whose host caps a method's cost); None restores the host's own cap."""
        self._call("POST", "/_local/cost_cap", {"usd": usd})


class LocalEndpoint(Control):
    """The endpoint in a background thread of this process, on a free port of 127.0.0.1.

    ``data_dir=None`` uses a temporary directory removed by :meth:`stop`; ``key=None`` generates
    one. Use as a context manager, or call :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        key: str | None = None,
        clock_speed: float = 1.0,
        jobs_end: date | None = None,
        retired_models: tuple[tuple[str, date], ...] = (),
        org: str = "personal",
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        fault_rate: float = 0.0,
        fault_seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        flavor: str = "openai",
        entra_token: str | None = None,
        cost_cap_usd: float | None = None,
        token_lifetime: float | None = None,
    ) -> None:
        self._tmp = None if data_dir is not None else tempfile.mkdtemp(prefix="pf-local-")
        self.data_dir = Path(data_dir if data_dir is not None else str(self._tmp))
        self.key = key or "sk-local-" + secrets.token_urlsafe(24)
        self.config = EndpointConfig(
            data_dir=self.data_dir,
            key=self.key,
            clock_speed=clock_speed,
            jobs_end=jobs_end,
            retired_models=retired_models,
            org=org,
            max_upload_bytes=max_upload_bytes,
            fault_rate=fault_rate,
            fault_seed=fault_seed,
            flavor=flavor,
            entra_token=entra_token,
            cost_cap_usd=cost_cap_usd,
            token_lifetime=token_lifetime,
        )
        self.app: LocalApp = create_app(self.config)
        try:
            self._server: Server = make_server(
                host, port, self.app, max_body_bytes=self.app.max_body_bytes
            )
        except BaseException:
            self.app.store.close()
            raise
        self.host = host
        self.port: int = self._server.port
        self.url = f"http://{host}:{self.port}{self.app.flavor.host.api_path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"local-endpoint-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the database and remove a temporary data directory."""
        self._server.shutdown()
        self._thread.join(timeout=10)
        self.app.store.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


class LocalProcess(Control):
    """A handle on ``python -m pulumi_finetune.local`` running as its own process."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, key: str, data_dir: Path):
        self.process = process
        self.url = url
        self.key = key
        self.data_dir = data_dir
        self.pid = process.pid
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        """SIGKILL (kill -9) and wait: nothing gets a chance to clean up."""
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM and wait."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        """SIGTERM and wait, unless the process has already exited."""
        if self.process.poll() is None:
            self.terminate()


def _drain(stream: IO[bytes]) -> None:
    with contextlib.suppress(Exception):
        for _ in stream:
            pass


def start_subprocess(
    data_dir: str | Path,
    *,
    key: str | None = None,
    clock_speed: float = 1.0,
    org: str = "personal",
    port: int = 0,
    extra_args: list[str] | None = None,
    timeout: float = 20.0,
) -> LocalProcess:
    """Start the endpoint as a separate process on 127.0.0.1 and wait until it answers.

    The key travels in the environment (never on the command line). Port 0 picks a free port,
    read back from the ``listening on ...`` line. The server's stderr goes to
    ``<data_dir>/server.log``.
    """
    data_path = Path(data_dir)
    data_path.mkdir(parents=True, exist_ok=True)
    key = key or "sk-local-" + secrets.token_urlsafe(24)
    env = {**os.environ, KEY_ENV: key}
    command = [
        sys.executable, "-m", "pulumi_finetune.local",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_path),
        "--clock-speed", repr(clock_speed), "--org", org, *(extra_args or []),
    ]  # fmt: skip
    log = (data_path / "server.log").open("ab")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env)
    log.close()
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = process.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        raise RuntimeError(
            f"local endpoint did not start (exit {process.returncode}); see {data_path}/server.log"
        )
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
    handle = LocalProcess(process, line.removeprefix("listening on "), key, data_path)
    while True:
        try:
            handle.stats()
            return handle
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                handle.kill() if process.poll() is None else None
                raise RuntimeError("local endpoint did not answer in time") from None
            time.sleep(0.05)
