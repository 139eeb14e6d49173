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
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import ConfigureRequest

from .. import settings as settings_mod
from ..errors import SettingsError
from ..spec import is_unknown

if TYPE_CHECKING:
    from ..client import Client

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


def stack_of(provider: object) -> str | None:
    """The stack this provider serves (the explicit provider's only input), if known."""
    stack = (getattr(provider, _CONFIG_ATTR, None) or {}).get(STACK_INPUT)
    return stack if isinstance(stack, str) and stack else None


def run_pulumi(purpose: str, *args: str) -> str:
    """stdout of `pulumi ARGS` run from the provider process (the project directory).

    Raises SettingsError naming `purpose` when the CLI is missing or fails; its stderr names
    the stack and the reason, never config values.
    """
    cli = shutil.which("pulumi")
    if cli is None:
        raise SettingsError(f"cannot {purpose}: the pulumi CLI is not on PATH")
    proc = subprocess.run(
        [cli, *args, "--non-interactive"], capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode != 0:
        raise SettingsError(f"cannot {purpose}: {proc.stderr.strip()}")
    return proc.stdout


def _read_stack_config(stack: str) -> dict[str, Any]:
    """The `finetune:*` config of `stack`, decrypted by the pulumi CLI (once per process)."""
    cache_key = (os.getcwd(), stack)
    with _lock:
        if cache_key in _stack_config_cache:
            return _stack_config_cache[cache_key]
        out = run_pulumi(
            f"read the config of stack {stack!r}",
            "config", "--json", "--show-secrets", "--stack", stack,
        )  # fmt: skip
        values = {
            key: entry.get("value")
            for key, entry in json.loads(out or "{}").items()
            if key.startswith(f"{settings_mod.CONFIG_NAMESPACE}:") and isinstance(entry, dict)
        }
        _stack_config_cache[cache_key] = values
        return values


def settings_for(provider: object, props: Mapping[str, Any]) -> settings_mod.Settings:
    """Settings for an API call: resource argument > stack config > environment > default."""
    config: dict[str, Any] = dict(getattr(provider, _CONFIG_ATTR, None) or {})
    config.pop(STACK_INPUT, None)
    stack = stack_of(provider)
    if stack:
        config = {**_read_stack_config(stack), **config}
    return settings_mod.resolve(props, config)


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
