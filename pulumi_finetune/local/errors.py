"""Domain errors of the local endpoint, each carrying OpenAI's HTTP status, type, code and param."""

from __future__ import annotations


class DataDirInUse(Exception):
    """Another endpoint (process or in-process instance) holds the data directory's lock."""


class DropConnection(Exception):
    """Close the connection without answering (fault injection); see ``http.py``."""


class APIError(Exception):
    """An error the HTTP layer sends as ``{"error": {message, type, param, code}}``."""

    status: int = 500
    type: str = "server_error"

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


class InvalidRequest(APIError):
    """400: the request is malformed or names something that cannot be used; ``param`` says what."""

    status = 400
    type = "invalid_request_error"


class AuthenticationError(APIError):
    """401: the bearer key is missing or wrong. The message never repeats the key."""

    status = 401
    type = "invalid_request_error"


class PermissionDenied(APIError):
    """403: the object exists but this operation is not allowed on it."""

    status = 403
    type = "invalid_request_error"


class NotFound(APIError):
    """404: no such object (or no such route)."""

    status = 404
    type = "invalid_request_error"


class Conflict(APIError):
    """409: the object is in a state that does not allow the operation."""

    status = 409
    type = "invalid_request_error"


class PayloadTooLarge(APIError):
    """413: the request body is larger than the configured upload limit."""

    status = 413
    type = "invalid_request_error"


class RateLimited(APIError):
    """429: too many requests; retry after ``retry-after`` seconds."""

    status = 429
    type = "requests"


class InsufficientQuota(APIError):
    """429 with code ``insufficient_quota``: retrying does not help."""

    status = 429
    type = "insufficient_quota"


class ServerError(APIError):
    """500: the server failed; the request may or may not have taken effect."""

    status = 500
    type = "server_error"


class ServiceUnavailable(APIError):
    """503: the server is overloaded; retrying later is safe."""

    status = 503
    type = "server_error"
