"""An identity token from `azure-identity`, when it is installed and nothing else is set.

For a host that takes identity tokens (`hosts.Host.bearer_tokens`: Azure OpenAI's Microsoft Entra
ID) with neither a key nor `finetune:azureToken` set, the token comes from azure-identity's
`DefaultAzureCredential` (environment, workload identity, managed identity, shared cache) for the
host's scope. The credentials that run a program (Azure CLI, Developer CLI, PowerShell) are left
out: provider-side code starts no other process. `azure-identity` is optional and never installed by
this package.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import SettingsError
from ..settings import Settings


def with_identity_token(settings: Settings) -> Settings:
    """`settings` with a token from azure-identity where it applies (see the module)."""
    row = settings.host_row()
    if not row.bearer_tokens or not row.token_scope:
        return settings
    if settings.token or settings.api_key:
        return settings
    try:
        from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found]
    except ImportError:
        return settings
    credential: Any = DefaultAzureCredential(
        exclude_cli_credential=True,
        exclude_developer_cli_credential=True,
        exclude_powershell_credential=True,
    )
    try:
        token = credential.get_token(row.token_scope).token
    except Exception as exc:  # azure-identity's errors name every credential it tried
        raise SettingsError(
            f"no key or token for {row.title}, and azure-identity found no credential: "
            f"{type(exc).__name__} (set finetune:apiKey or finetune:azureToken)"
        ) from None
    return replace(settings, token=str(token))
