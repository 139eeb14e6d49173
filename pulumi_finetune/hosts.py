"""The hosts of OpenAI's fine-tuning API, one row each: how a base URL is recognised as the host
and how the host takes the key. Other facts about a host (its lifecycle dates, fields, models,
prices) live in their own dated tables keyed by the host's `name`; code asks the row or the
table, never branches on a host's name.

Source: ../shared/reference/hosts.md in the project's steering repository, from the hosts'
documentation (OpenAI's API reference, Microsoft's Azure OpenAI / Foundry docs and its v1
OpenAPI description, Nebius Token Factory's API reference), as of 2026-12.

The host of a resource is its `host` argument, else the stack's `finetune:host`, else the one its
base URL names (`infer`); a proxy or gateway in front of OpenAI sets it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["COMPATIBLE", "HOSTS", "Host", "by_name", "infer"]


@dataclass(frozen=True)
class Host:
    name: str
    """What `finetune:host` and the `host` argument say, and the job's `host` output."""
    title: str
    """For people: messages and the README."""
    hostnames: tuple[str, ...] = ()
    """Suffixes of a base URL's host name that mean this host (`infer`)."""
    key_header: str = "Authorization"
    """Where the key goes: `Authorization` (as `Bearer KEY`) or a header of its own (`api-key`)."""


OPENAI = Host("openai", "OpenAI", hostnames=("api.openai.com",))
AZURE = Host(
    "azure",
    "Azure OpenAI / Microsoft Foundry",
    hostnames=(".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"),
    key_header="api-key",
)
NEBIUS = Host(
    "nebius",
    "Nebius Token Factory",
    hostnames=("api.tokenfactory.nebius.com", "api.studio.nebius.com", "api.studio.nebius.ai"),
)
COMPATIBLE = Host("compatible", "an OpenAI-compatible endpoint")
"""Any other endpoint: nothing about its lifecycle or extensions is assumed."""

HOSTS: tuple[Host, ...] = (OPENAI, AZURE, NEBIUS, COMPATIBLE)
NAMES: tuple[str, ...] = tuple(h.name for h in HOSTS)


def _matches(hostname: str, pattern: str) -> bool:
    if pattern.startswith("."):
        return hostname.endswith(pattern)
    return hostname == pattern


def infer(base_url: str) -> Host:
    """The host a base URL names; `COMPATIBLE` for any other (the local endpoint, a proxy)."""
    hostname = (urlsplit(base_url).hostname or "").lower()
    for host in HOSTS:
        if any(_matches(hostname, pattern) for pattern in host.hostnames):
            return host
    return COMPATIBLE


def by_name(name: str) -> Host | None:
    """The host called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((h for h in HOSTS if h.name == wanted), None)
