"""What an answer means: a JSON object on success, otherwise the `APIError` it stands for.

Error messages come from the host's error body — OpenAI's `{"error": {"message", "type",
"param", "code"}}`, Azure OpenAI's (the same, `type: "error"`, plus `inner_error`), or FastAPI's
`{"detail": "..."}` / `{"detail": [{"loc", "msg"}]}` (Nebius Token Factory) — or an excerpt of the
body; the key is masked in all, since a server may echo it. The request id is the first of the
hosts' request-id headers (`x-request-id`; Azure's `apim-request-id`) the answer carries.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import requests

from ..errors import APIError, MalformedResponseError, error_class_for
from ..hosts import REQUEST_ID_HEADERS
from .retries import retry_after_seconds

JSON = dict[str, Any]

_EXCERPT_CHARS = 200
_KEY_MASK = "[key]"


class Answered(TypedDict):
    """What every error about an answer carries: which call, which status, which request id."""

    method: str
    path: str
    status: int
    request_id: str | None


def answered(method: str, path: str, response: requests.Response) -> Answered:
    """The fields of an error about `response`, for the call the caller made (`method`, `path`)."""
    return Answered(
        method=method,
        path="/" + path.lstrip("/"),
        status=response.status_code,
        request_id=next(
            (response.headers[h] for h in REQUEST_ID_HEADERS if response.headers.get(h)), None
        ),
    )


def read_answer(
    method: str, path: str, response: requests.Response, content: bytes, *, key: str
) -> JSON:
    """The JSON object of a success answer (`{}` for an empty body).

    Raises the `APIError` subclass for an error status, or `MalformedResponseError` for a
    success whose body is not a JSON object.
    """
    if response.status_code >= 400:
        raise _api_error(method, path, response, content, key)
    if not content:
        return {}
    payload = _loads(content)
    if isinstance(payload, dict):
        return payload
    kind = response.headers.get("content-type") or "no content type"
    raise MalformedResponseError(
        **answered(method, path, response),
        message=f"({kind}, {len(content)} bytes) {_excerpt(content, key)}",
    )


def _api_error(
    method: str, path: str, response: requests.Response, content: bytes, key: str
) -> APIError:
    message = _excerpt(content, key) if content else response.reason
    code = type_ = param = None
    payload = _loads(content)
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        message = str(err.get("message") or message).replace(key, _KEY_MASK)
        code, type_, param = err.get("code"), err.get("type"), err.get("param")
    elif isinstance(payload, dict) and "detail" in payload:
        message, param = _fastapi_detail(payload["detail"], message)
        message = message.replace(key, _KEY_MASK)
    cls = error_class_for(response.status_code, code)
    return cls(
        **answered(method, path, response),
        message=message,
        code=_text(code),
        type=_text(type_),
        param=_text(param),
        retry_after=retry_after_seconds(response.headers),
    )


def _fastapi_detail(detail: Any, fallback: str) -> tuple[str, str | None]:
    """(message, param) of FastAPI's error body: a string, or a list of `{loc, msg}` whose
    first `loc` (without its leading `body`) is the parameter."""
    if isinstance(detail, str):
        return detail, None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = [str(p) for p in first.get("loc") or [] if p not in ("body", "query", "path")]
        msgs = "; ".join(str(d.get("msg")) for d in detail if isinstance(d, dict))
        return msgs or fallback, ".".join(loc) or None
    return fallback, None


def _loads(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _excerpt(content: bytes, key: str) -> str:
    """The start of a body, on one line, with the key masked."""
    text = " ".join(content[: _EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    text = text.replace(key, _KEY_MASK)
    return repr(text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else ""))
