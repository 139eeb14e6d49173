"""What every provider shares: connection options and the settings of an API call.

The stack's `finetune:*` settings arrive in `configure()`: the program passes them as the inputs
of the stack's explicit provider resource (see `pulumi_finetune.program`), so the provider needs
neither the `pulumi` CLI nor a working directory, and runs the same under the CLI, in CI and
through the Automation API. They stay in this process's memory; the provider object that Pulumi
pickles holds none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import ConfigureRequest

from .. import settings as settings_mod
from ..spec import is_unknown

if TYPE_CHECKING:
    from ..client import Client

# Resource arguments that choose the endpoint; they steer the provider and never reach the API.
CONNECTION_OPTIONS: dict[str, Any] = {"base_url": None, "organization": None, "project": None}

_CONFIG_ATTR = "_stack_config"


def store_config(provider: object, req: ConfigureRequest) -> None:
    """Keep the `finetune:*` settings that `configure()` received."""
    config = {}
    for name in settings_mod.CONFIG_NAMES:
        key = settings_mod.config_key(name)
        value = req.config.get(key)
        if value is not None:
            config[key] = value
    setattr(provider, _CONFIG_ATTR, config)


def settings_for(provider: object, props: Mapping[str, Any]) -> settings_mod.Settings:
    """Settings for an API call: resource argument > stack config > environment > default."""
    return settings_mod.resolve(props, getattr(provider, _CONFIG_ATTR, None) or {})


def client_for(provider: object, props: Mapping[str, Any]) -> Client:
    """An HTTP client for an API call. Imported here, not at module level: the program side
    imports the providers only to name their classes, and preview never makes a request."""
    from ..client import Client

    return Client(settings_for(provider, props))


def check_connection_options(news: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    base_url = news.get("base_url")
    if (
        isinstance(base_url, str)
        and not is_unknown(base_url)
        and not base_url.startswith(("http://", "https://"))
    ):
        yield "base_url", f"got {base_url!r}; must start with http:// or https://"
    for key in CONNECTION_OPTIONS:
        value = news.get(key)
        if value is not None and not isinstance(value, str) and not is_unknown(value):
            yield key, f"got {value!r}; must be a string"
