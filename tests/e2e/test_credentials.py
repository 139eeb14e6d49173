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
        on_destroy=spec.get("on_destroy", "cancel"),
        host=spec.get("host"),
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


def _move_to(project: Project, proxy_b: CountingProxy, key_b: str) -> None:
    """The stack's config moves to origin B (Azure there), key and all."""
    project.pulumi("config", "set", "finetune:host", "azure")
    project.pulumi("config", "set", "finetune:baseUrl", proxy_b.url)
    project.pulumi("config", "set", "--secret", "finetune:apiKey", key_b)


def test_a_move_by_stack_config_leaves_a_finished_job_as_it_is(
    engine: Path, tmp_path: Path
) -> None:
    """finetune:baseUrl and finetune:apiKey move to another host: the new job is created there;
    the old job's destroy goes through the stack's provider, now set for B, and the old job has
    finished (on_destroy cancel: nothing to do), so nothing of A is sent to B nor of B to A: the
    old job is left on A as it is, and the preview and up say so."""
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
        assert project.resource_outputs("job")["origin"] == proxy_a.origin
        _move_to(project, proxy_b, b.key)
        _write(project, model="gpt-4.1-mini-2025-04-14", wait=True)
        proxy_a.reset()
        preview = project.preview()
        said = preview.output.replace("\n", " ")
        assert f"the old job is left at {proxy_a.origin} as it is" in said, preview.output
        assert proxy_a.seen() == [] and proxy_b.seen() == []
        up = project.up()
        assert project.outputs()["host"] == "azure"
        assert f"job {old}" in up.output and "left there as it is" in up.output, up.output
        assert project.resource_outputs("job")["origin"] == proxy_b.origin
        assert proxy_a.seen() == []  # nothing reached A, with any key
        assert proxy_b.carrying(a.key) == 0 and proxy_b.carrying(b.key) == len(proxy_b.seen())
        jobs_a = EndpointClient(a.url, a.key).jobs()
        assert [(j["id"], j["status"]) for j in jobs_a] == [(old, "succeeded")]  # untouched
        assert EndpointClient(b.url, b.key).jobs()[0]["id"] == project.outputs()["job"]
        assert b.stats()["unauthorized"] == 0
        project.destroy()


def test_a_move_by_stack_config_with_a_running_job_fails_in_preview(
    engine: Path, tmp_path: Path
) -> None:
    """The old job is still running on A (as recorded) and only A's key could cancel it: the
    preview fails naming both origins and the ways out, with 0 requests anywhere; `pulumi up`
    fails the same way, and `pulumi refresh` keeps the job's state rather than ask B for it (B
    would answer 404 and the running job would drop out of state). Nothing is forgotten."""
    with (
        LocalEndpoint(tmp_path / "a", clock_speed=1.0) as a,
        LocalEndpoint(tmp_path / "b", clock_speed=500.0, flavor="azure") as b,
        CountingProxy(a.url) as proxy_a,
        CountingProxy(b.url) as proxy_b,
    ):
        project = _project(tmp_path / "p", engine, proxy_a.url, a.key)
        project.pulumi("config", "set", "finetune:host", "openai")
        project.up()
        old = project.outputs()["job"]
        assert project.resource_outputs("job")["status"] not in ("succeeded", "cancelled")
        _move_to(project, proxy_b, b.key)
        _write(project, model="gpt-4.1-mini-2025-04-14")
        proxy_a.reset()

        preview = project.preview(check=False)
        said = " ".join(preview.output.split())
        assert preview.returncode != 0, preview.output
        assert f"job {old} lives at {proxy_a.origin}" in said, preview.output
        assert f"key is now bound to {proxy_b.origin}" in said
        assert "host_provider" in said and "pulumi refresh" in said
        assert "on_destroy=" in said and "keep" in said
        assert "Traceback" not in preview.output
        assert proxy_a.seen() == [] and proxy_b.seen() == []

        failed = project.up(check=False)
        assert failed.returncode != 0 and f"lives at {proxy_a.origin}" in failed.output
        assert proxy_a.seen() == [] and proxy_b.carrying(a.key) == 0
        assert [s for s in proxy_b.seen() if old in s.path] == []

        refreshed = project.refresh()
        assert "was not read" in refreshed.output, refreshed.output
        assert proxy_a.seen() == [] and [s for s in proxy_b.seen() if old in s.path] == []
        assert project.resource_outputs("job")["job_id"] == old  # still tracked
        still = EndpointClient(a.url, a.key).jobs()[0]["status"]
        assert still not in ("succeeded", "failed", "cancelled"), still  # and still tracked
        print(f"stranded move refused: {len(proxy_a.seen())} requests to A, 0 with A's key to B")


def test_an_explicit_host_at_the_stack_origin_is_cancelled_on_destroy(
    engine: Path, tmp_path: Path
) -> None:
    """A job whose own `host` argument differs from finetune:host but lives at the stack's origin
    (a gateway speaking OpenAI's API) is cancelled by `pulumi destroy` as any other: the origin
    decides where a resource lives, not a guess from host names."""
    with LocalEndpoint(tmp_path / "a", clock_speed=1.0) as a, CountingProxy(a.url) as proxy:
        project = _project(tmp_path / "p", engine, proxy.url, a.key, host="openai")
        project.pulumi("config", "set", "finetune:host", "compatible")
        project.up()
        job = project.outputs()["job"]
        assert project.outputs()["host"] == "openai"
        destroyed = project.destroy()
        assert "forgotten" not in destroyed.output, destroyed.output
        status = {j["id"]: j["status"] for j in EndpointClient(a.url, a.key).jobs()}
        assert status == {job: "cancelled"}
        assert any(s.method == "POST" and s.path.endswith(f"{job}/cancel") for s in proxy.seen())


def test_a_state_recorded_before_origin_previews_no_changes(engine: Path, tmp_path: Path) -> None:
    with LocalEndpoint(tmp_path / "a", clock_speed=500.0) as a, CountingProxy(a.url) as proxy:
        project = _project(tmp_path / "p", engine, proxy.url, a.key, wait=True)
        project.up()
        assert project.import_without(("origin", "_provider_ref")) >= 4  # file and job
        proxy.reset()
        preview = project.preview()
        up = project.up()
        assert proxy.seen() == []
        for output in (preview.stdout, up.stdout):
            assert re.search(r"\d+ unchanged", output), output
            assert not re.search(r"\d+ (to )?(create|update|replace|delete)", output), output
        project.refresh()  # a refresh records where they live
        assert project.resource_outputs("job")["origin"] == proxy.origin
        assert project.resource_outputs("data")["origin"] == proxy.origin


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
