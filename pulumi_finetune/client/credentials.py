"""The credential a request carries and where it goes, as the host's row says: a key (in the
row's `key_header`), an identity token given in config (used as given), or an identity token from
`azure-identity`, fetched again before it expires.

For a host that takes identity tokens (`hosts.Host.bearer_tokens`: Azure OpenAI's Microsoft Entra
ID) with neither a key nor `finetune:azureToken` set, the token comes from azure-identity's
`DefaultAzureCredential` (environment, workload identity, managed identity, shared cache) for the
host's scope. The credentials that run a program (Azure CLI, Developer CLI, PowerShell) are left
out: provider-side code starts no other process. `azure-identity` is optional and never installed
by this package. Its tokens carry `expires_on`; one token per scope is shared by every client of
the process and fetched again a quarter of its life (at most 5 minutes) before it expires, so a
wait longer than a token's life never sends an expired one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import SettingsError
from ..settings import Settings

# azure-identity's own refresh offset; a short-lived token is refreshed a quarter of its life early.
REFRESH_MARGIN = 300.0
TOKEN_SOURCES = "finetune:azureToken (or AZURE_OPENAI_AD_TOKEN)"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (read, not verified: only to name it in a message), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass
class Credential:
    """What goes in which header. `value()` is read for every request."""

    header: str
    """`Authorization` (sent as `Bearer VALUE`) or a header of the host's own (`api-key`)."""
    secret: str = field(default="", repr=False)
    kind: str = "key"
    """`key`, `token` (given in config) or `identity` (from azure-identity)."""

    def value(self) -> str:
        return self.secret

    def headers(self) -> dict[str, str]:
        value = self.value()
        return {self.header: f"Bearer {value}" if self.header == "Authorization" else value}

    def unauthorized_note(self) -> str:
        """What a 401 should add: a token's expiry, where known."""
        if self.kind != "token":
            return ""
        expires = token_expiry(self.secret)
        given = f"the identity token given in {TOKEN_SOURCES}"
        if expires is None:
            return f"{given} is used as given; its expiry is unknown"
        tense = "expired" if expires <= time.time() else "expires"
        return f"{given} {tense} at {_when(expires)} (it is used as given, never refreshed)"


class IdentityToken(Credential):
    """A token from azure-identity for one scope, fetched again before it expires."""

    def __init__(self, source: Any, scope: str, title: str) -> None:
        super().__init__("Authorization", kind="identity")
        self._source = source
        self._scope = scope
        self._title = title
        self._lock = threading.Lock()
        self._token = ""
        self._expires_on = 0.0
        self._refresh_at = 0.0

    def value(self) -> str:
        with self._lock:
            now = time.time()
            if not self._token or now >= self._refresh_at:
                try:
                    token = self._source.get_token(self._scope)
                except Exception as exc:  # azure-identity's errors name every credential it tried
                    raise SettingsError(
                        f"no key or token for {self._title}, and azure-identity found no "
                        f"credential: {type(exc).__name__} (set finetune:apiKey or "
                        "finetune:azureToken)"
                    ) from None
                self._token, self._expires_on = str(token.token), float(token.expires_on)
                margin = min(REFRESH_MARGIN, max(0.0, self._expires_on - now) / 4)
                self._refresh_at = self._expires_on - margin
            return self._token

    def unauthorized_note(self) -> str:
        if not self._expires_on:
            return ""
        return f"the identity token from azure-identity expires at {_when(self._expires_on)}"


_identity: dict[str, IdentityToken] = {}
_identity_lock = threading.Lock()


def _identity_token(scope: str, title: str) -> IdentityToken | None:
    """The process's token source for `scope`, or None without azure-identity."""
    with _identity_lock:
        if scope not in _identity:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError:
                return None
            source = DefaultAzureCredential(
                exclude_cli_credential=True,
                exclude_developer_cli_credential=True,
                exclude_powershell_credential=True,
            )
            _identity[scope] = IdentityToken(source, scope, title)
        return _identity[scope]


def credential_for(settings: Settings) -> Credential:
    """The credential for `settings`, sent as its host's row says (SettingsError when there is
    none for its origin)."""
    row = settings.host_row()
    if settings.unbound:
        settings.require_key()  # raises: names both origins and the fix
    if row.bearer_tokens and settings.token:
        return Credential("Authorization", settings.token, kind="token")
    if settings.api_key:
        return Credential(row.key_header, settings.api_key)
    if row.bearer_tokens and row.token_scope:
        identity = _identity_token(row.token_scope, row.title)
        if identity is not None:
            return identity
    return Credential(row.key_header, settings.require_key())
