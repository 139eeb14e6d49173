"""What every provider shares: connection options, where stack config comes from, settings.

Stack config and secrets. For the default dynamic provider, Pulumi's engine copies the whole
stack config (secrets included, encrypted) into the state as that provider's inputs, where
`pulumi stack export --show-secrets` shows them. So our resources use an explicit provider
instance whose only input is the stack's name, and the provider process reads the `finetune:*`
stack config itself, on its first API call, through `pulumi config --json --show-secrets`: the
CLI decrypts with the stack's own secrets provider, and the key stays in this process's memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest

from .. import settings as settings_mod
from ..errors import SettingsError
from ..spec import is_unknown

# Resource arguments that choose the endpoint; they steer the provider and never reach the API.
CONNECTION_OPTIONS: dict[str, Any] = {"base_url": None, "organization": None, "project": None}

STACK_INPUT = "finetune:stack"
_CONFIG_ATTR = "_stack_config"
_lock = threading.Lock()
_stack_config_cache: dict[tuple[str, str], dict[str, Any]] = {}


def store_config(provider: object, req: ConfigureRequest) -> None:
    """Keep what `configure()` received: `finetune:*` values and the stack's name."""
    config = {
        key: value
        for key, value in req.config._props.items()
        if key.startswith(f"{settings_mod.CONFIG_NAMESPACE}:")
    }
    setattr(provider, _CONFIG_ATTR, config)


def _read_stack_config(stack: str) -> dict[str, Any]:
    """The `finetune:*` config of `stack`, decrypted by the pulumi CLI (once per process)."""
    cache_key = (os.getcwd(), stack)
    with _lock:
        if cache_key in _stack_config_cache:
            return _stack_config_cache[cache_key]
        cli = shutil.which("pulumi")
        if cli is None:
            raise SettingsError(
                "cannot read the stack's finetune:* config: the pulumi CLI is not on PATH"
            )
        proc = subprocess.run(
            [cli, "config", "--json", "--show-secrets", "--stack", stack, "--non-interactive"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            # stderr names the stack and the CLI's reason; it never holds config values.
            raise SettingsError(f"cannot read the config of stack {stack!r}: {proc.stderr.strip()}")
        values = {
            key: entry.get("value")
            for key, entry in json.loads(proc.stdout or "{}").items()
            if key.startswith(f"{settings_mod.CONFIG_NAMESPACE}:") and isinstance(entry, dict)
        }
        _stack_config_cache[cache_key] = values
        return values


def settings_for(provider: object, props: Mapping[str, Any]) -> settings_mod.Settings:
    """Settings for an API call: resource argument > stack config > environment > default."""
    config: dict[str, Any] = dict(getattr(provider, _CONFIG_ATTR, None) or {})
    stack = config.pop(STACK_INPUT, None)
    if isinstance(stack, str) and stack:
        config = {**_read_stack_config(stack), **config}
    return settings_mod.resolve(props, config)


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
