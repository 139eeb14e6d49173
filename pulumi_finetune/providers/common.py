"""What every provider shares: connection options, stack config from `configure()`, settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest

from .. import settings as settings_mod
from ..spec import is_unknown

# Resource arguments that choose the endpoint; they steer the provider and never reach the API.
CONNECTION_OPTIONS: dict[str, Any] = {"base_url": None, "organization": None, "project": None}

_CONFIG_KEYS = ("apiKey", "baseUrl", "organization", "project")
_CONFIG_ATTR = "_stack_config"


def store_config(provider: object, req: ConfigureRequest) -> None:
    """Keep the `finetune:*` stack config on the provider, in the provider process only."""
    config = {}
    for name in _CONFIG_KEYS:
        key = settings_mod.config_key(name)
        value = req.config.get(key)
        if value is not None:
            config[key] = value
    setattr(provider, _CONFIG_ATTR, config)


def settings_for(provider: object, props: Mapping[str, Any]) -> settings_mod.Settings:
    return settings_mod.resolve(props, getattr(provider, _CONFIG_ATTR, None))


def check_connection_options(news: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    base_url = news.get("base_url")
    if isinstance(base_url, str) and not is_unknown(base_url):
        if not base_url.startswith(("http://", "https://")):
            yield "base_url", f"got {base_url!r}; must start with http:// or https://"
    for key in CONNECTION_OPTIONS:
        value = news.get(key)
        if value is not None and not isinstance(value, str):
            yield key, f"got {value!r}; must be a string"
