"""A throwaway Pulumi stack driven by the real `pulumi` CLI against the local endpoint.

Test support shared by the package's tests, examples' tests and benchmarks (and usable to test
your own programs): `Project` is one project and stack in a temporary directory on a local file
backend, `EndpointClient` reads and steers a local endpoint, `start_pulumi` runs a command in the
background to interrupt it. `engine_dir` finds the `pulumi` CLI: `PULUMI_FINETUNE_ENGINE`, else
the cached build of a clone, else the directory of the `pulumi` on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import requests
from pulumi.dynamic import CreateResult, Resource, ResourceProvider, UpdateResult

from .server import Control

ENGINE_ENV = "PULUMI_FINETUNE_ENGINE"

# A generic program: resources come from program.json, so a test changes the program by
# rewriting that file. "@name" in training_file/validation_file refers to a TrainingFile.
PROGRAM = textwrap.dedent(
    """
    import json
    import pulumi
    from pulumi_finetune import FineTuningJob, TrainingFile

    from pulumi_finetune.local.testing import Echo

    spec = json.load(open("program.json"))
    files = {name: TrainingFile(name, **args) for name, args in spec.get("files", {}).items()}
    jobs = {}

    def resolve(value):
        # "@file" is a TrainingFile's id; "@job.attribute" another job's output
        if isinstance(value, str) and value.startswith("@"):
            name, _, attribute = value[1:].partition(".")
            return getattr(jobs[name], attribute) if attribute else files[name].id
        return value

    for name, data in files.items():
        pulumi.export(f"{name}.id", data.id)
        pulumi.export(f"{name}.estimated_billed_tokens", data.estimated_billed_tokens)
    for name, job_id in spec.get("gets", {}).items():
        jobs[name] = FineTuningJob.get(name, job_id)
        pulumi.export(f"{name}.status", jobs[name].status)
        pulumi.export(f"{name}.fine_tuned_model", jobs[name].fine_tuned_model)
    for name, args in spec.get("jobs", {}).items():
        job = jobs[name] = FineTuningJob(name, **{k: resolve(v) for k, v in args.items()})
        pulumi.export(f"{name}.id", job.id)
        pulumi.export(f"{name}.status", job.status)
        pulumi.export(f"{name}.fine_tuned_model", job.fine_tuned_model)
    for name, value in spec.get("echoes", {}).items():
        pulumi.export(f"{name}.value", Echo(name, value=resolve(value)).value)
    """
)


class _EchoProvider(ResourceProvider):
    """Create and update return the inputs as outputs."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"echo-{secrets.token_hex(8)}", _without_provider(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_without_provider(news))


def _without_provider(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != "__provider"}


class Echo(Resource, module="testing", name="Echo"):
    """A resource that consumes a value (e.g. a job's `fine_tuned_model`) and echoes it."""

    value: pulumi.Output[Any]

    def __init__(self, name: str, value: Any, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_EchoProvider(), name, {"value": value}, opts)


def pulumi_env(root: Path, engine: Path) -> dict[str, str]:
    """The environment of a `pulumi` run with its own PULUMI_HOME and a file backend under
    `root`, offline, with this interpreter (and so this package) for programs and providers."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "OPENAI_"))},
        "PATH": os.pathsep.join(
            [str(engine), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "1",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "1",
        "PULUMI_PYTHON_CMD": sys.executable,
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
    }


def engine_dir() -> Path:
    """The directory holding the `pulumi` CLI (and the Python language host beside it):
    `PULUMI_FINETUNE_ENGINE`; else, in a clone of pulumi-finetune, the pinned build that
    `scripts/install-pulumi.sh` caches (building it once); else the `pulumi` on PATH."""
    configured = os.environ.get(ENGINE_ENV)
    if configured:
        return Path(configured)
    script = Path(__file__).resolve().parents[2] / "scripts" / "install-pulumi.sh"
    if script.is_file():
        out = subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True)
        return Path(out.stdout.strip().splitlines()[-1])
    found = shutil.which("pulumi")
    if found is None:
        raise RuntimeError(
            f"no pulumi CLI: put it on PATH or set {ENGINE_ENV} (in a clone of pulumi-finetune, "
            "`source scripts/env.sh` builds and caches one)"
        )
    return Path(found).resolve().parent


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Project:
    """One Pulumi project and stack in a temporary directory."""

    root: Path
    engine: Path
    endpoint_url: str
    api_key: str
    name: str = "e2e"
    env: dict[str, str] = field(default_factory=dict)
    """Overrides of `pulumi_env` (another backend, a passphrase file, ...)."""
    config: dict[str, str] = field(default_factory=dict)
    """More stack config, set on every stack this project inits (e.g. `finetune:host`)."""

    def __post_init__(self) -> None:
        self.dir = self.root / "project"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        (self.dir / "Pulumi.yaml").write_text(f"name: {self.name}\nruntime: python\n")
        (self.dir / "__main__.py").write_text(PROGRAM)
        self.env = {**pulumi_env(self.root, self.engine), **self.env}
        self.init_stack()

    def init_stack(self, name: str = "dev") -> None:
        """Create the stack and set its endpoint and (secret) key."""
        self.pulumi("stack", "init", name)
        self.pulumi("config", "set", "finetune:baseUrl", self.endpoint_url)
        self.pulumi("config", "set", "--secret", "finetune:apiKey", self.api_key)
        for key, value in self.config.items():
            self.pulumi("config", "set", key, value)

    def write(self, program: dict[str, Any]) -> None:
        (self.dir / "program.json").write_text(json.dumps(program, indent=1))

    def pulumi(self, *args: str, check: bool = True, timeout: float = 300) -> Result:
        proc = subprocess.run(
            [str(self.engine / "pulumi"), *args, "--non-interactive"],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{result.output}"
            )
        return result

    def up(self, *extra: str, check: bool = True) -> Result:
        return self.pulumi("up", "--yes", "--skip-preview", *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> Result:
        return self.pulumi("preview", "--diff", *extra, check=check)

    def refresh(self, *extra: str) -> Result:
        return self.pulumi("refresh", "--yes", "--skip-preview", *extra)

    def destroy(self, *extra: str, check: bool = True) -> Result:
        return self.pulumi("destroy", "--yes", "--skip-preview", *extra, check=check)

    def outputs(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.pulumi("stack", "output", "--json").stdout)
        return out

    def export(self, *, show_secrets: bool = False) -> str:
        args = ["stack", "export"] + (["--show-secrets"] if show_secrets else [])
        return self.pulumi(*args).stdout

    def import_without(self, keys: tuple[str, ...]) -> int:
        """Export the stack, drop `keys` from every resource's inputs and outputs, and import it
        back: a state as an older version of the package wrote it. The number of values dropped."""
        deployment = json.loads(self.export())
        dropped = 0
        for resource in deployment["deployment"]["resources"]:
            for props in (resource.get("inputs") or {}, resource.get("outputs") or {}):
                for key in keys:
                    dropped += props.pop(key, None) is not None
        state = self.root / "old-state.json"
        state.write_text(json.dumps(deployment))
        self.pulumi("stack", "import", "--file", str(state))
        return dropped

    def state_resources(self) -> list[dict[str, Any]]:
        deployment = json.loads(self.export())["deployment"]
        resources: list[dict[str, Any]] = deployment.get("resources") or []
        return resources

    def resource_outputs(self, name: str) -> dict[str, Any]:
        """A resource's outputs as recorded in state (refresh updates these, not stack outputs)."""
        for resource in self.state_resources():
            if resource["urn"].endswith(f"::{name}"):
                outputs: dict[str, Any] = resource.get("outputs") or {}
                return outputs
        raise KeyError(f"no resource named {name!r} in state")

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class EndpointClient(Control):
    """Test-side access to a local endpoint: its API (as a plain HTTP client would use it) and
    its `/_local` control routes (faults, stats, clock)."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        # A flavor whose host takes the key in a header of its own (Azure: `api-key`) reads it
        # there first; the others ignore it.
        self.session.headers["api-key"] = key

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{self.url}/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.post(f"{self.url}/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = self.get("fine_tuning/jobs", **params)
            jobs.extend(page["data"])
            if not page["has_more"]:
                return jobs
            params["after"] = page["data"][-1]["id"]

    def upload(self, path: Path) -> str:
        with path.open("rb") as handle:
            response = self.session.post(
                f"{self.url}/files",
                files={"file": (path.name, handle)},
                data={"purpose": "fine-tune"},
                timeout=30,
            )
        response.raise_for_status()
        file_id: str = response.json()["id"]
        return file_id

    def fault(self, **script: Any) -> None:
        """``POST /_local/faults`` with a whole script (e.g. random faults on a route)."""
        self._call("POST", "/_local/faults", script)


# -- interrupted runs: start `pulumi` in the background and SIGKILL it --------------------------
# (tests/e2e/test_money_safety.py and benchmarks/reliability.py)

RUN_TOKEN_ENV = "PULUMI_FINETUNE_E2E_RUN"


def _pids_with_env(name: str, value: str) -> list[int]:
    """Processes (Linux /proc) whose environment holds name=value: a run's whole process tree,
    even after a kill has re-parented it."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@dataclass
class Running:
    """A `pulumi` command running in the background; its output goes to `log`."""

    process: subprocess.Popen[bytes]
    token: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> list[int]:
        """SIGKILL the pulumi CLI, as `kill -9 <pid>` would.

        The CLI's language host and provider plugin are not killed with it: they keep running,
        re-parented, and a provider inside `create` carries on. Returns their pids (call
        `kill_leftovers` to end them, as a CI runner tearing down the job would)."""
        self.process.kill()
        self.process.wait(timeout=30)
        return _pids_with_env(RUN_TOKEN_ENV, self.token)

    def leftovers(self) -> list[int]:
        """Processes of this run still alive (the CLI, its language host, its providers)."""
        return [pid for pid in _pids_with_env(RUN_TOKEN_ENV, self.token) if _alive(pid)]

    def providers(self) -> list[int]:
        """This run's dynamic-provider processes still alive (they are the ones that poll)."""
        return [pid for pid in self.leftovers() if b"pulumi.dynamic" in _cmdline(pid)]

    def kill_leftovers(self) -> None:
        for pid in _pids_with_env(RUN_TOKEN_ENV, self.token):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def start_pulumi(project: Project, *args: str) -> Running:
    """Start `pulumi <args> --non-interactive` for `project` without waiting for it."""
    token = secrets.token_hex(8)
    log = project.root / f"pulumi-{token}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(project.engine / "pulumi"), *args, "--non-interactive"],
            cwd=project.dir,
            env={**project.env, RUN_TOKEN_ENV: token},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Running(process, token, log)


def run_rss_kib(token: str, command: bytes) -> dict[int, int]:
    """pid -> VmRSS (KiB) of the processes of one run (`PULUMI_FINETUNE_E2E_RUN=token` in their
    environment) whose command line contains `command` (Linux /proc; for the benchmarks)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"PULUMI_FINETUNE_E2E_RUN={token}".encode() not in (entry / "environ").read_bytes():
                continue
            if command not in (entry / "cmdline").read_bytes():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[int(entry.name)] = int(line.split()[1])
        except OSError:
            continue
    return found
