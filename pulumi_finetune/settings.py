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

Credentials are bound to an origin (scheme, host, port): the key and the identity token that a
provider is configured with (stack config, else the environment) go only to the origin of the
base URL it is configured with (`finetune:baseUrl`, else `OPENAI_BASE_URL`, else OpenAI's
default). A resource whose `base_url` argument names another origin has no credential: `check`
fails naming both origins, and the client sends nothing (`Settings.require_key`). A provider of
its own for that origin (`host_provider`) carries its key.

`resolve` is called once per engine call; its `Settings` (base URL and origin, host row, the
credential bound to that origin, where it is sent) is what check, client and plugin all use.

Settings are resolved inside the provider process, never pickled.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """`scheme://host:port` of a URL, the port spelled out: where a key may be sent."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return f"{scheme}://{parts.netloc}"  # a malformed port matches no configured origin
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def in_clear_off_loopback(url: str) -> bool:
    """Whether a credential sent to `url` crosses a network in clear text: plain `http://` to
    anything but loopback (`localhost`, 127.0.0.0/8, ::1). Names are not resolved (check makes
    no request): a name other than `localhost` counts as off loopback."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return False
    name = (parts.hostname or "").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True


def unbound_origin(target: str, bound: str) -> str:
    """Why a resource whose base URL is at origin `target` has no credential, and the fix."""
    return (
        f"base_url is at {target}, but this provider's key and token are bound to {bound} (the "
        "origin of finetune:baseUrl, else OPENAI_BASE_URL, else OpenAI's default): a credential "
        f"is sent only to the origin it was configured for, so {target} gets none and no request "
        f"was made. Give {target} a provider of its own with its key: "
        "`host_provider(NAME, base_url=..., api_key=...)` passed as "
        "`opts=pulumi.ResourceOptions(provider=...)` (another language: a "
        "`pulumi:providers:finetune` resource with its baseUrl and apiKey), or point "
        "finetune:baseUrl at it"
    )


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. `repr` hides the key."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    """The key bound to this base URL's origin (None when the provider's key is bound to another
    origin: `bound_origin`)."""
    organization: str | None = None
    project: str | None = None
    host: str | None = None
    """The host's name in `pulumi_finetune.hosts` (see `resolve_host`); None: the host the base
    URL names."""
    token: str | None = field(default=None, repr=False)
    """An identity token (`finetune:azureToken`), used where the host takes one."""
    bound_origin: str | None = None
    """The origin the provider's credentials were configured for; None: this base URL's."""

    @property
    def origin(self) -> str:
        return origin(self.base_url)

    @property
    def unbound(self) -> bool:
        """Whether the base URL is at another origin than the provider's credentials."""
        return self.bound_origin is not None and self.bound_origin != self.origin

    def host_row(self) -> hosts.Host:
        """The host's row, which decides how the credential is sent (`key_header`,
        `bearer_tokens`): the resolved host, or the one the base URL names."""
        row = hosts.by_name(self.host) if self.host else None
        return row or hosts.infer(self.base_url)

    def require_key(self) -> str:
        """The credential sent: the identity token where the host takes one and it is set,
        else the key (SettingsError when there is none, or none for this origin)."""
        if self.unbound:
            raise SettingsError(unbound_origin(self.origin, str(self.bound_origin)))
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
    """Resolve settings from the four sources; blank values count as unset. The key and token
    are kept only when the base URL is at the origin they are bound to (see the module)."""
    resource_args = resource_args or {}
    config = config or {}
    env = os.environ if env is None else env
    values = {name: _value(name, resource_args, config, env) for name in _SOURCES}
    base_url = effective_base_url(resource_args, config, env)
    bound = origin(configured_base_url(config, env))
    here = origin(base_url) == bound
    return Settings(
        base_url=base_url,
        api_key=values["api_key"] if here else None,
        organization=values["organization"],
        project=values["project"],
        token=values["token"] if here else None,
        host=resolve_host(resource_args.get(HOST_ARGUMENT), config, base_url).name,
        bound_origin=bound,
    )


def has_credential(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> bool:
    """Whether a key or an identity token is configured (stack config or environment)."""
    env = os.environ if env is None else env
    return any(_value(name, {}, config, env) for name in ("api_key", "token"))


def configured_base_url(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> str:
    """The base URL a provider is configured with (no resource argument): its credentials'
    origin."""
    return effective_base_url({}, config, env)


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
