"""How a provider's errors reach the user: a summary, what the endpoint said, and the fix.

Pulumi's dynamic-provider host reports an exception from check, diff, create, read, update or
delete as `traceback.format_exc()`: 25 lines of Python per resource with the one useful line at
the bottom. In the provider process (and only there) `quiet_tracebacks` sets
`sys.tracebacklimit = 0`, so the host prints the exception's last line alone; `explained` wraps
each provider method so that that line says what failed, where (the endpoint's base URL), the
API's message, code and request id, and what to do. `PULUMI_FINETUNE_DEBUG=1` keeps Python's
tracebacks for debugging.

An exception that is not one of the package's own errors (or an OS error) is a bug: its line
says so and how to get the traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from ..errors import (
    APIConnectionError,
    AuthenticationError,
    FinetuneError,
    InsufficientQuotaError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
)
from ..settings import API_KEY_ENV

DEBUG_ENV = "PULUMI_FINETUNE_DEBUG"
# Set on an error once its message is rewritten: a wrapped method that calls another (an
# override calling `super()`) explains it once.
_EXPLAINED = "_pulumi_finetune_explained"

# Set on an error by the code that knows why it happened (e.g. a create refused by a host that
# is winding down fine-tuning): the lines shown after it, instead of the generic fix.
EXPLANATION = "_pulumi_finetune_explanation"

P = ParamSpec("P")
R = TypeVar("R")


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def quiet_tracebacks() -> None:
    """In Pulumi's provider host: errors without Python tracebacks, unless debugging."""
    from .waiting import engine_address

    if engine_address() is not None and not debugging():
        sys.tracebacklimit = 0


def fix_for(error: BaseException, base_url: str | None) -> str:
    """What the user can do about `error` ("" when its message already says it)."""
    where = base_url or "the endpoint"
    if isinstance(error, AuthenticationError):
        return (
            f"Fix: set a key valid for {where} with `pulumi config set --secret "
            f"finetune:apiKey <key>` (or export {API_KEY_ENV}), then run the command again"
        )
    if isinstance(error, PermissionDeniedError):
        return (
            "Fix: use a key (organization, project) allowed to do this; deleting a model needs "
            "the owner role (or set on_destroy to 'cancel' or 'keep')"
        )
    if isinstance(error, InsufficientQuotaError):
        return (
            "Fix: the account is out of credit: add credit or raise its budget in the "
            "endpoint's billing settings, then run the command again"
        )
    if isinstance(error, RateLimitError):
        return "Fix: the endpoint kept rate-limiting past the retries; run the command again later"
    if isinstance(error, InternalServerError):
        return "Fix: the endpoint failed; run the command again later"
    if isinstance(error, RedirectError):
        return ""  # its message says what to set
    if isinstance(error, APIConnectionError):
        return (
            f"Fix: check that {where} is the endpoint you mean (finetune:baseUrl, the "
            "resource's base_url or OPENAI_BASE_URL) and that it is up and reachable"
        )
    return ""


def explain(summary: str, error: BaseException, base_url: str | None) -> str:
    """One paragraph: summary (at the base URL), the error's own message, the fix (or, where
    the provider knows more about this error, its `EXPLANATION`)."""
    where = f" at {base_url}" if base_url else ""
    text = f"{summary}{where}: {error}"
    fix = getattr(error, EXPLANATION, None) or fix_for(error, base_url)
    return f"{text}\n{fix}" if fix else text


BaseURL = Callable[[Any, Mapping[str, Any]], str | None]


def explained(
    summary: str, base_url: BaseURL | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a provider method (whose last positional argument is the resource's properties)
    so that what it raises reads `summary at <base URL>: <error>` and the fix.

    `base_url(provider, props)` names the endpoint (None where not known). The error keeps its
    class (an `AuthenticationError` stays one) and loses its context chain; anything else is
    reported as a bug. With `PULUMI_FINETUNE_DEBUG=1` nothing is rewritten.
    """

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except (FinetuneError, OSError) as exc:
                if debugging() or getattr(exc, _EXPLAINED, False):
                    raise
                text = explain(summary, exc, _url(base_url, args))
                # An error of ours keeps its class; an OS error's text is fixed by its errno.
                shown = exc if isinstance(exc, FinetuneError) else FinetuneError()
                shown.args = (text,)
                setattr(shown, _EXPLAINED, True)
                raise shown from None
            except Exception as exc:
                if debugging():
                    raise
                text = (
                    f"{summary}: unexpected {type(exc).__name__}: {exc}. This is a bug in "
                    f"pulumi-finetune: run again with {DEBUG_ENV}=1 for the traceback, and "
                    "report it"
                )
                bug = FinetuneError(text)
                setattr(bug, _EXPLAINED, True)
                raise bug from None

        wrapper.explained = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _url(base_url: BaseURL | None, args: tuple[Any, ...]) -> str | None:
    if base_url is None or len(args) < 2 or not isinstance(args[-1], Mapping):
        return None
    try:
        return base_url(args[0], args[-1])
    except Exception:  # a malformed setting: the error itself says so
        return None
