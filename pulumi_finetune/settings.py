"""Where connection settings come from, in order of precedence.

1. an explicit resource argument (`base_url`, `organization`, `project`; the key is never a
   resource argument, so it can never land in state),
2. stack config (`finetune:apiKey`, `finetune:baseUrl`, `finetune:organization`,
   `finetune:project`): the program passes it as the inputs of the stack's provider resource,
   and the provider process receives it in `configure()`,
3. the environment, as OpenAI's SDK reads it (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
   `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`),
4. defaults (`https://api.openai.com/v1`).

The host (`pulumi_finetune.hosts`: whose API this is, which decides its lifecycle dates and
quirks) is the resource's `host` argument, else `finetune:host`, else the host the effective base
URL names (`hosts.infer`: `compatible` for any URL it does not know, such as a proxy in front of
OpenAI, which then sets `finetune:host openai`). It has no environment variable.

Settings are resolved inside the provider process, never pickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import hosts
from .errors import SettingsError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONFIG_NAMESPACE = "finetune"

# (resource argument, stack config key, environment variable)
_SOURCES: dict[str, tuple[str | None, str, str]] = {
    "api_key": (None, "apiKey", "OPENAI_API_KEY"),
    "base_url": ("base_url", "baseUrl", "OPENAI_BASE_URL"),
    "organization": ("organization", "organization", "OPENAI_ORG_ID"),
    "project": ("project", "project", "OPENAI_PROJECT_ID"),
    # A Microsoft Entra ID token for a host that takes identity tokens (Azure OpenAI), sent as a
    # Bearer token instead of the key; the environment variable is the one OpenAI's AzureOpenAI
    # client reads.
    "token": (None, "azureToken", "AZURE_OPENAI_AD_TOKEN"),
}
HOST_ARGUMENT = "host"
HOST_CONFIG = "host"
# The stack config keys (`finetune:<name>`) the program hands to the provider; the key is secret.
CONFIG_NAMES = (*(config_name for _, config_name, _ in _SOURCES.values()), HOST_CONFIG)
SECRET_CONFIG_NAMES = frozenset({"apiKey", "azureToken"})
API_KEY_ENV = _SOURCES["api_key"][2]


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. `repr` hides the key."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None
    host: str = hosts.COMPATIBLE.name
    """The host's name in `pulumi_finetune.hosts` (see `resolve_host`)."""
    token: str | None = field(default=None, repr=False)
    """An identity token (`finetune:azureToken`), used where the host takes one."""

    def host_row(self) -> hosts.Host:
        """The host's row; for `compatible` (settings made without a host, too) the row the base
        URL names, so that a key still goes where that host takes it."""
        row = hosts.by_name(self.host)
        return (
            row if row is not None and row is not hosts.COMPATIBLE else hosts.infer(self.base_url)
        )

    def require_key(self) -> str:
        """The credential sent: the identity token where the host takes one and it is set,
        else the key (SettingsError when there is none)."""
        if self.token and self.host_row().bearer_tokens:
            return self.token
        if not self.api_key:
            raise SettingsError(
                "no API key: set it with `pulumi config set --secret finetune:apiKey <key>` "
                f"or export {API_KEY_ENV} (`pulumi refresh` and `pulumi destroy` use the "
                "settings recorded in the stack's state by the last `pulumi up`)"
            )
        return self.api_key


def config_key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


def _value(
    name: str, resource_args: Mapping[str, Any], config: Mapping[str, Any], env: Mapping[str, str]
) -> str | None:
    arg, config_name, env_name = _SOURCES[name]
    candidates = (
        resource_args.get(arg) if arg else None,
        config.get(config_key(config_name)),
        env.get(env_name),
    )
    return next((str(v) for v in candidates if isinstance(v, str) and v.strip()), None)


def effective_base_url(
    resource_args: Mapping[str, Any],
    config: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> str:
    """The base URL from the four sources (see the module)."""
    env = os.environ if env is None else env
    base_url = (_value("base_url", resource_args, config, env) or DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"base_url {base_url!r} must start with http:// or https:// "
            "(resource argument base_url, config finetune:baseUrl or OPENAI_BASE_URL)"
        )
    return base_url


def resolve(
    resource_args: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from the four sources; blank values count as unset."""
    resource_args = resource_args or {}
    config = config or {}
    env = os.environ if env is None else env
    values = {name: _value(name, resource_args, config, env) for name in _SOURCES}
    base_url = effective_base_url(resource_args, config, env)
    return Settings(
        base_url=base_url,
        api_key=values["api_key"],
        organization=values["organization"],
        project=values["project"],
        token=values["token"],
        host=resolve_host(resource_args.get(HOST_ARGUMENT), config, base_url).name,
    )


def declared_host(argument: Any, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name as written, where) of the host the resource argument or stack config names; None
    when neither does (blank counts as unset)."""
    for value, where in (
        (argument, "host"),
        (config.get(config_key(HOST_CONFIG)), config_key(HOST_CONFIG)),
    ):
        if isinstance(value, str) and value.strip():
            return value, where
    return None


def resolve_host(argument: Any, config: Mapping[str, Any], base_url: str) -> hosts.Host:
    """The host: the `host` argument > `finetune:host` > the one `base_url` names."""
    declared = declared_host(argument, config)
    if declared is None:
        return hosts.infer(base_url)
    value, where = declared
    host = hosts.by_name(value)
    if host is None:
        raise SettingsError(unknown_host(value, where))
    return host


def unknown_host(value: str, where: str) -> str:
    return f"{where} {value!r} is not a known host; must be one of {', '.join(hosts.NAMES)}"
