"""Where connection settings come from, in order of precedence.

1. an explicit resource argument (`base_url`, `organization`, `project`; the key is never a
   resource argument, so it can never land in state),
2. stack config (`finetune:apiKey`, `finetune:baseUrl`, `finetune:organization`,
   `finetune:project`): the program passes it as the inputs of the stack's provider resource,
   and the provider process receives it in `configure()`,
3. the environment, as OpenAI's SDK reads it (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
   `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`),
4. defaults (`https://api.openai.com/v1`).

Settings are resolved inside the provider process, never pickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SettingsError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONFIG_NAMESPACE = "finetune"

# (resource argument, stack config key, environment variable)
_SOURCES: dict[str, tuple[str | None, str, str]] = {
    "api_key": (None, "apiKey", "OPENAI_API_KEY"),
    "base_url": ("base_url", "baseUrl", "OPENAI_BASE_URL"),
    "organization": ("organization", "organization", "OPENAI_ORG_ID"),
    "project": ("project", "project", "OPENAI_PROJECT_ID"),
}
# The stack config keys (`finetune:<name>`) the program hands to the provider; the key is secret.
CONFIG_NAMES = tuple(config_name for _, config_name, _ in _SOURCES.values())
SECRET_CONFIG_NAMES = frozenset({"apiKey"})
API_KEY_ENV = _SOURCES["api_key"][2]


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. `repr` hides the key."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None

    def require_key(self) -> str:
        if not self.api_key:
            raise SettingsError(
                "no API key: set it with `pulumi config set --secret finetune:apiKey <key>` "
                f"or export {API_KEY_ENV} (`pulumi refresh` and `pulumi destroy` use the "
                "settings recorded in the stack's state by the last `pulumi up`)"
            )
        return self.api_key


def config_key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


def resolve(
    resource_args: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from the four sources; blank values count as unset."""
    resource_args = resource_args or {}
    config = config or {}
    env = os.environ if env is None else env
    values: dict[str, str | None] = {}
    for name, (arg, config_name, env_name) in _SOURCES.items():
        candidates = (
            resource_args.get(arg) if arg else None,
            config.get(config_key(config_name)),
            env.get(env_name),
        )
        values[name] = next((str(v) for v in candidates if isinstance(v, str) and v.strip()), None)
    base_url = (values["base_url"] or DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"base_url {base_url!r} must start with http:// or https:// "
            "(resource argument base_url, config finetune:baseUrl or OPENAI_BASE_URL)"
        )
    return Settings(
        base_url=base_url,
        api_key=values["api_key"],
        organization=values["organization"],
        project=values["project"],
    )
