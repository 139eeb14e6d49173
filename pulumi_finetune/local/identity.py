"""Short-lived identity tokens for a flavor whose host takes them (Azure: Microsoft Entra ID),
issued through the route azure-identity already calls: App Service's managed identity.

A provider process run with `IDENTITY_ENDPOINT=<endpoint origin>/_identity/token` and
`IDENTITY_HEADER=<the endpoint's key>` gets its tokens from here through azure-identity's own
`ManagedIdentityCredential` (as `DefaultAzureCredential` picks it): `GET ?api-version=2019-08-01
&resource=...` with the header `X-IDENTITY-HEADER`, answered with `access_token`, `expires_on`
(epoch seconds, a string), `resource` and `token_type` (the App Service REST reference:
https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference).

A token is JWT-shaped (`exp` in its payload, as Entra ID's are) and signed with a secret of the
endpoint's own; the API takes only a token it issued that has not expired. Lifetimes are in wall
time, whatever the jobs' clock speed, so a test can wait several token lives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any

from werkzeug.wrappers import Request, Response

PATH = "/_identity/token"
HEADER = "X-IDENTITY-HEADER"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and checks tokens that live `lifetime` seconds; counts what it issued."""

    def __init__(self, lifetime: float, identity_header: bytes) -> None:
        self.lifetime = lifetime
        self._header = identity_header
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, resource: str) -> tuple[str, int]:
        expires_on = int(time.time() + self.lifetime)
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"aud": resource, "exp": expires_on, "jti": secrets.token_hex(8)}
        body = _b64(json.dumps(claims).encode())
        signature = _b64(hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        with self._lock:
            self.issued += 1
        return f"{head}.{body}.{signature}", expires_on

    def accepts(self, token: str) -> bool:
        """Whether `token` is one this issuer signed and it has not expired."""
        parts = token.split(".")
        if len(parts) != 3:
            return False
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        try:
            if not hmac.compare_digest(_unb64(parts[2]), expected.digest()):
                return False
            claims: Any = json.loads(_unb64(parts[1]))
        except ValueError:
            return False
        exp = claims.get("exp") if isinstance(claims, dict) else None
        return isinstance(exp, int) and exp > time.time()

    def respond(self, request: Request) -> Response:
        """The managed-identity answer (App Service's shape), or its error."""
        given = request.headers.get(HEADER, "").encode()
        if not given or not hmac.compare_digest(given, self._header):
            return _json({"statusCode": 401, "message": "Invalid X-IDENTITY-HEADER"}, 401)
        resource = request.args.get("resource", "")
        if request.method != "GET" or not resource:
            return _json({"statusCode": 400, "message": "resource is required"}, 400)
        token, expires_on = self.issue(resource)
        return _json(
            {
                "access_token": token,
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
            },
            200,
        )


def _json(payload: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
