"""Domain errors of the local endpoint, each carrying OpenAI's HTTP status, type, code and param."""

from __future__ import annotations


class DataDirInUse(Exception):
    """Another endpoint (process or in-process instance) holds the data directory's lock."""


class DropConnection(Exception):
    """Close the connection without answering (fault injection); see ``http.py``."""


class APIError(Exception):
    """An error the HTTP layer sends as ``{"error": {message, type, param, code}}``.

    A subclass states its HTTP status and OpenAI's error type in its class statement:
    ``class NotFound(APIError, status=404)`` (type ``invalid_request_error`` unless given).
    """

    status: int = 500
    type: str = "server_error"

    def __init_subclass__(cls, status: int = 500, type: str = "invalid_request_error") -> None:
        super().__init_subclass__()
        cls.status = status
        cls.type = type

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        """The JSON body OpenAI sends for this error."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(APIError, status=400):
    """400: the request is malformed or names something that cannot be used; ``param`` says what."""


class AuthenticationError(APIError, status=401):
    """401: the bearer key is missing or wrong. The message never repeats the key."""


class PermissionDenied(APIError, status=403):
    """403: the object exists but this operation is not allowed on it."""


class NotFound(APIError, status=404):
    """404: no such object (or no such route)."""


class Conflict(APIError, status=409):
    """409: the object is in a state that does not allow the operation."""


class PayloadTooLarge(APIError, status=413):
    """413: the request body is larger than the configured upload limit."""


class RateLimited(APIError, status=429, type="requests"):
    """429: too many requests; retry after ``retry-after`` seconds."""


class InsufficientQuota(APIError, status=429, type="insufficient_quota"):
    """429 with code ``insufficient_quota``: retrying does not help."""


class ServerError(APIError, status=500, type="server_error"):
    """500: the server failed; the request may or may not have taken effect."""


class ServiceUnavailable(APIError, status=503, type="server_error"):
    """503: the server is overloaded; retrying later is safe."""
