"""Program side plumbing shared by the resources: the stack's provider and what state owns.

Runs in the user's Pulumi program. Each stack gets one explicit provider resource,
`pulumi-finetune`, whose inputs are the stack's `finetune:*` settings; the engine hands them to
the provider process through `configure()`, and keeps them in the stack's state with the key
encrypted as a secret by the stack's secrets provider, as it does for every provider's
credentials. An explicit provider (rather than the default one) keeps the rest of the stack's
config out of its state. Changing a setting (rotating the key) updates that provider in place:
no job is replaced and no request is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime

from . import identity
from .lifecycle import CONFIG_NAME as LIFECYCLE_CONFIG_NAME
from .prices import CONFIG_NAME as PRICES_CONFIG_NAME
from .settings import CONFIG_NAMES, CONFIG_NAMESPACE, SECRET_CONFIG_NAMES, config_key

_READ_STATE = "pulumi:pulumi:readStackResourceOutputs"
JOB_TYPE_SUFFIX = "finetune:FineTuningJob"


@dataclass
class _Run:
    """What one run of the program shares between its resources. An Automation API host runs
    the program many times in one process, so this is kept per run (per root stack resource)."""

    root: object
    provider: pulumi.ProviderResource | None = None
    owned_jobs_read: bool = False
    owned_jobs: dict[str, dict[str, Any]] | None = None
    waiters: dict[str, pulumi.ProviderResource] = field(default_factory=dict)


_runs: dict[tuple[int, str, str], _Run] = {}


def _run() -> _Run:
    root = pulumi.runtime.get_root_resource()
    key = (id(root), pulumi.get_project(), pulumi.get_stack())
    run = _runs.get(key)
    if run is None or run.root is not root:
        run = _runs[key] = _Run(root)
    return run


def _provider_inputs() -> dict[str, Any]:
    config = pulumi.Config(CONFIG_NAMESPACE)
    inputs: dict[str, Any] = {identity.STACK_INPUT: pulumi.get_stack()}
    for name in CONFIG_NAMES:
        value = config.get_secret(name) if name in SECRET_CONFIG_NAMES else config.get(name)
        if value is not None:
            inputs[config_key(name)] = value
    return inputs


def stack_provider() -> pulumi.ProviderResource:
    """The stack's `pulumi-finetune` provider, created on first use."""
    run = _run()
    if run.provider is None:
        run.provider = pulumi.ProviderResource(
            "pulumi-python", identity.PROVIDER_NAME, _provider_inputs()
        )
    return run.provider


def waiting_provider(resource_name: str) -> pulumi.ProviderResource:
    """A provider of its own for one waited job, `pulumi-finetune-wait-<name>`: Pulumi's
    dynamic-provider host serves each provider process with 4 workers, and a wait holds one for
    the whole job. Named after the resource, so adding a job never moves another; moving a job
    between providers is no diff (the engine's DiffConfig fallback never replaces)."""
    run = _run()
    provider = run.waiters.get(resource_name)
    if provider is None:
        provider = pulumi.ProviderResource(
            "pulumi-python", f"{identity.PROVIDER_NAME}-wait-{resource_name}", _provider_inputs()
        )
        run.waiters[resource_name] = provider
    return provider


def host_provider(
    name: str,
    *,
    base_url: pulumi.Input[str],
    api_key: pulumi.Input[str] | None = None,
    host: str | None = None,
    azure_token: pulumi.Input[str] | None = None,
) -> pulumi.ProviderResource:
    """A provider of pulumi-finetune's own, `pulumi-finetune-<name>`, whose settings are these
    arguments rather than the stack's `finetune:*` config: pass it to the files and jobs that
    live on that endpoint (`opts=pulumi.ResourceOptions(provider=...)`).

    A stack that moves jobs between hosts declares one per host and keeps declaring the old
    one until the move is done: the engine deletes the old job (as its `on_destroy` says)
    through the provider it was created with, after the new job was created (and waited for).
    The key and token are kept in state as secrets, as every provider's credentials are."""
    inputs: dict[str, Any] = {
        identity.STACK_INPUT: pulumi.get_stack(),
        config_key("baseUrl"): base_url,
    }
    if host is not None:
        inputs[config_key("host")] = host
    if api_key is not None:
        inputs[config_key("apiKey")] = pulumi.Output.secret(api_key)
    if azure_token is not None:
        inputs[config_key("azureToken")] = pulumi.Output.secret(azure_token)
    return pulumi.ProviderResource("pulumi-python", f"{identity.PROVIDER_NAME}-{name}", inputs)


def with_stack_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """`opts` with the stack's provider, unless the caller chose one."""
    if opts is not None and opts.provider is not None:
        return opts
    return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(provider=stack_provider()), opts)


def stack_instance() -> pulumi.Output[str]:
    """The id of the stack's provider resource: a UUID the engine drew when it created it."""
    return stack_provider().id


def _read_owned_jobs() -> dict[str, dict[str, Any]] | None:
    """resource key -> {job_id, created_at} of every FineTuningJob in the stack's last
    checkpoint; None if the engine could not read it."""
    name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    try:
        result = pulumi.runtime.invoke(_READ_STATE, {"stackName": name}).value
    except Exception:  # any failure means "not known": the provider then refuses to guess
        return None
    resources = (result or {}).get("outputs") if isinstance(result, dict) else None
    if not isinstance(resources, dict):
        return None
    owned: dict[str, dict[str, Any]] = {}
    for resource in resources.values():
        if not isinstance(resource, dict) or not str(resource.get("type", "")).endswith(
            JOB_TYPE_SUFFIX
        ):
            continue
        outputs = resource.get("outputs") or {}
        key = outputs.get(identity.RESOURCE_KEY)
        job_id = outputs.get("job_id")
        if isinstance(key, str) and isinstance(job_id, str) and job_id:
            created = outputs.get("created_at")
            owned[key] = {
                "job_id": job_id,
                "created_at": int(created) if isinstance(created, int | float) else 0,
            }
    return owned


NOTHING_OWNED: dict[str, Any] = {"job_id": "", "created_at": 0}


def owned_job(resource_key: str) -> dict[str, Any] | None:
    """What the stack's state records for this resource: {job_id, created_at} (empty strings
    and 0 when it records none), or None when the state could not be read. A preview creates
    nothing, so it does not read the state.

    The state is read once per run, when the first job is declared, and waited for there (the
    engine answers in milliseconds). Each job then gets a plain value: as an Output awaited by
    every job, it kept all their outputs pending through the read, which cost the SDK's wait
    loop about 6% of a no-change `pulumi up` of 50 jobs."""
    if pulumi.runtime.is_dry_run():
        return NOTHING_OWNED
    run = _run()
    if not run.owned_jobs_read:
        run.owned_jobs = _read_owned_jobs()
        run.owned_jobs_read = True
    jobs = run.owned_jobs
    if jobs is None:
        return None
    owned: dict[str, Any] = jobs.get(resource_key, NOTHING_OWNED)
    return owned


def urn_of(name: str, type_: str, opts: pulumi.ResourceOptions | None) -> str | pulumi.Output[str]:
    """The URN the engine gives the resource (a plain string for a resource of the stack)."""
    parent = opts.parent if opts is not None else None
    if parent is None:
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"
    return pulumi.resource.create_urn(name, type_, parent)


def _config_object(name: str) -> Any:
    """The stack's `finetune:<name>` as JSON, or None. A value that is not JSON is passed on as
    text, for check to name."""
    config = pulumi.Config(CONFIG_NAMESPACE)
    try:
        return config.get_object(name)
    except Exception:  # pulumi.ConfigTypeError: not JSON
        return config.get(name)


def training_prices() -> Any:
    """The stack's `finetune:trainingPrices` (model → USD per 1M training tokens), or None."""
    return _config_object(PRICES_CONFIG_NAME)


def lifecycle_overrides() -> Any:
    """The stack's `finetune:lifecycle` (see `pulumi_finetune.lifecycle`), or None."""
    return _config_object(LIFECYCLE_CONFIG_NAME)
