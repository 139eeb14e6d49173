"""A key goes only where it was configured to go, under the real CLI: two origins behind counting
proxies, a key over plain http off loopback, a move by stack config, and a wait several times
an identity token's life on the local Azure flavor (azure-identity fetching its tokens)."""

from __future__ import annotations

import json
import re
import secrets
import textwrap
import time
from pathlib import Path

from pulumi_finetune.local import identity
from pulumi_finetune.local.proxy import CountingProxy
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project

from .conftest import DATASET, MODEL

# A file and a job, on the stack's provider or (program.json `provider`) on a provider of their
# own for origin B (`host_provider`), with `base_url` as program.json says.
PROGRAM = textwrap.dedent(
    """
    import json
    import pulumi
    from pulumi_finetune import FineTuningJob, TrainingFile, host_provider

    spec = json.load(open("program.json"))
    opts = None
    if spec.get("provider"):
        b = host_provider(
            "b", base_url=spec["provider"], api_key=pulumi.Config().require_secret("bKey")
        )
        opts = pulumi.ResourceOptions(provider=b)
    data = TrainingFile("data", path=spec["path"], base_url=spec.get("base_url"), opts=opts)
    job = FineTuningJob(
        "job",
        model=spec["model"],
        training_file=data.id,
        base_url=spec.get("base_url"),
        wait_for_completion=spec.get("wait", False),
        on_destroy="cancel",
        opts=opts,
    )
    pulumi.export("job", job.id)
    pulumi.export("host", job.host)
    """
)


def _project(root: Path, engine: Path, url: str, key: str, **spec: object) -> Project:
    project = Project(root, engine, url, key)
    (project.dir / "__main__.py").write_text(PROGRAM)
    _write(project, **spec)
    return project


def _write(project: Project, **spec: object) -> None:
    (project.dir / "program.json").write_text(
        json.dumps({"path": str(DATASET), "model": MODEL, **spec})
    )


def test_a_job_naming_another_origin_gets_no_key(engine: Path, tmp_path: Path) -> None:
    with (
        LocalEndpoint(tmp_path / "a", clock_speed=500.0) as a,
        LocalEndpoint(tmp_path / "b", clock_speed=500.0) as b,
        CountingProxy(a.url) as proxy_a,
        CountingProxy(b.url) as proxy_b,
    ):
        project = _project(tmp_path / "p", engine, proxy_a.url, a.key, base_url=proxy_b.url)
        preview = project.preview(check=False)
        assert preview.returncode != 0, preview.output
        assert f"base_url is at {proxy_b.origin}" in preview.output, preview.output
        assert f"bound to {proxy_a.origin}" in preview.output
        assert "host_provider" in preview.output and "Traceback" not in preview.output
        assert proxy_b.seen() == [] and proxy_a.seen() == []

        failed = project.up(check=False)
        assert failed.returncode != 0 and f"base_url is at {proxy_b.origin}" in failed.output
        assert proxy_b.seen() == [] and proxy_a.seen() == []

        # The fix the error names: a provider of its own for origin B, with B's key.
        project.pulumi("config", "set", "--secret", "e2e:bKey", b.key)
        _write(project, base_url=proxy_b.url, provider=proxy_b.url)
        project.up()
        assert EndpointClient(b.url, b.key).jobs()[0]["id"] == project.outputs()["job"]
        project.destroy()
        assert proxy_b.carrying(a.key) == 0 and proxy_a.carrying(b.key) == 0
        assert proxy_b.carrying(b.key) == len(proxy_b.seen()) >= 3
        assert proxy_a.seen() == []
        assert b.stats()["unauthorized"] == 0
        print(f"two origins: B saw {len(proxy_b.seen())} requests, all with B's key, 0 with A's")


def test_a_key_over_plain_http_off_loopback_is_warned_about_once(
    engine: Path, tmp_path: Path
) -> None:
    gateway = "http://finetune-gateway.internal:8080/v1"  # never resolved: preview sends nothing
    project = Project(tmp_path / "p", engine, gateway, "sk-" + secrets.token_hex(8))
    project.write(
        {
            "files": {"data": {"path": str(DATASET)}},
            "jobs": {"j": {"model": MODEL, "training_file": "@data"}},
        }
    )
    preview = project.pulumi("preview")  # the display users see, with its diagnostics
    summary = preview.stdout.split("Diagnostics:", 1)[-1]
    warnings = re.findall(r"warning: the key for (\S+) is sent over plain http://", summary)
    assert warnings == ["http://finetune-gateway.internal:8080"], preview.stdout
    assert project.pulumi("config", "get", "finetune:apiKey").stdout.strip() not in preview.output


def test_a_move_by_stack_config_sends_no_key_to_the_other_origin(
    engine: Path, tmp_path: Path
) -> None:
    """finetune:baseUrl and finetune:apiKey move to another host: the new job is created there;
    the old job's destroy goes through the stack's provider, now set for B, so nothing of A is
    sent to B nor of B to A: the old job is left on A as it is, and the preview and up say so."""
    with (
        LocalEndpoint(tmp_path / "a", clock_speed=500.0) as a,
        LocalEndpoint(tmp_path / "b", clock_speed=500.0, flavor="azure") as b,
        CountingProxy(a.url) as proxy_a,
        CountingProxy(b.url) as proxy_b,
    ):
        project = _project(tmp_path / "p", engine, proxy_a.url, a.key, wait=True)
        project.pulumi("config", "set", "finetune:host", "openai")
        project.up()
        old = project.outputs()["job"]
        project.pulumi("config", "set", "finetune:host", "azure")
        project.pulumi("config", "set", "finetune:baseUrl", proxy_b.url)
        project.pulumi("config", "set", "--secret", "finetune:apiKey", b.key)
        _write(project, model="gpt-4.1-mini-2025-04-14", wait=True)
        proxy_a.reset()
        preview = project.preview()
        assert "a provider per host" in preview.output.replace("\n", " ").lower()
        assert proxy_a.seen() == [] and proxy_b.seen() == []
        up = project.up()
        assert project.outputs()["host"] == "azure"
        assert f"job {old}" in up.output and "forgotten" in up.output
        assert proxy_a.seen() == []  # nothing reached A, with any key
        assert proxy_b.carrying(a.key) == 0 and proxy_b.carrying(b.key) == len(proxy_b.seen())
        assert EndpointClient(a.url, a.key).jobs()[0]["id"] == old  # left as it was
        assert b.stats()["unauthorized"] == 0
        project.destroy()


def test_a_wait_of_five_token_lives_on_azure_identity(engine: Path, tmp_path: Path) -> None:
    """The one long test (about 5 minutes): tokens live 60 s; the job trains for about 300 s
    on the endpoint's slowed clock, waited for by `pulumi up`; azure-identity fetches tokens
    from the endpoint's managed-identity route and the provider fetches them again in time."""
    with LocalEndpoint(
        tmp_path / "azure", flavor="azure", clock_speed=0.11, token_lifetime=60.0
    ) as azure:
        origin = azure.url.removesuffix("/openai/v1")
        project = Project(
            tmp_path / "p",
            engine,
            azure.url,
            azure.key,
            env={"IDENTITY_ENDPOINT": origin + identity.PATH, "IDENTITY_HEADER": azure.key},
            config={"finetune:host": "azure"},
        )
        project.pulumi("config", "rm", "finetune:apiKey")  # no key: identity tokens only
        project.write(
            {
                "files": {"data": {"path": str(DATASET)}},
                "jobs": {
                    "j": {
                        "model": "gpt-4.1-mini-2025-04-14",
                        "training_file": "@data",
                        "wait_for_completion": True,
                    }
                },
            }
        )
        started = time.monotonic()
        project.pulumi("up", "--yes", "--skip-preview", timeout=600)
        waited = time.monotonic() - started
        stats = azure.stats()
        assert project.outputs()["j.status"] == "succeeded"
        assert waited >= 300, waited
        assert stats["unauthorized"] == 0 and stats["jobs_created"] == 1
        assert azure.app.identity is not None and azure.app.identity.issued >= 4
        created = EndpointClient(azure.url, azure.key).job_request(project.outputs()["j.id"])
        assert created["received"]["auth"] == "bearer-token"  # an identity token, no key
        print(f"waited {waited:.0f} s; tokens issued {azure.app.identity.issued}; {stats}")
        project.destroy()
