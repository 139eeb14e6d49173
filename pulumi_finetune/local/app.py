"""The WSGI application: routes, auth, faults and serialisation around the store (no state here)."""

from __future__ import annotations

import hmac
import importlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from .. import hosts
from . import errors, flavors, identity
from .config import EndpointConfig
from .faults import Fault, Faults
from .ids import request_id
from .stats import Stats
from .store import Page, Store
from .validation import parse_create_job
from .winddown import WindDown

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Handler = Callable[["LocalApp", Request, dict[str, str]], Response]

# (method, OpenAPI-style template, handler name). The template names the route in stats and faults.
ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/v1/files", "create_file"),
    ("GET", "/v1/files", "list_files"),
    ("GET", "/v1/files/{file_id}", "retrieve_file"),
    ("DELETE", "/v1/files/{file_id}", "delete_file"),
    ("GET", "/v1/files/{file_id}/content", "file_content"),
    ("POST", "/v1/uploads", "create_upload"),
    ("POST", "/v1/uploads/{upload_id}/parts", "add_upload_part"),
    ("POST", "/v1/uploads/{upload_id}/complete", "complete_upload"),
    ("POST", "/v1/uploads/{upload_id}/cancel", "cancel_upload"),
    ("POST", "/v1/fine_tuning/jobs", "create_job"),
    ("GET", "/v1/fine_tuning/jobs", "list_jobs"),
    ("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}", "retrieve_job"),
    ("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel", "cancel_job"),
    ("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/pause", "pause_job"),
    ("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/resume", "resume_job"),
    ("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/events", "list_events"),
    ("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints", "list_checkpoints"),
    ("GET", "/v1/models", "list_models"),
    ("GET", "/v1/models/{model}", "retrieve_model"),
    ("DELETE", "/v1/models/{model}", "delete_model"),
]
# Control API for tests, on every flavor: same key, never counted, never faulted.
CONTROL_ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/_local/faults", "local_list_faults"),
    ("POST", "/_local/faults", "local_add_fault"),
    ("DELETE", "/_local/faults", "local_clear_faults"),
    ("POST", "/_local/wind_down", "local_wind_down"),
    ("GET", "/_local/stats", "local_stats"),
    ("POST", "/_local/stats/reset", "local_reset_stats"),
    ("POST", "/_local/clock", "local_clock"),
    ("GET", "/_local/jobs/{fine_tuning_job_id}/request", "local_job_request"),
    ("POST", "/_local/cost_cap", "local_cost_cap"),
]
# Routes a host without pause and resume, or without OpenAI's Uploads API, does not have.
_PAUSE_ROUTES = frozenset({"pause_job", "resume_job"})
_UPLOADS_ROUTES = frozenset(
    {"create_upload", "add_upload_part", "complete_upload", "cancel_upload"}
)
_AUTH_ENV = "pulumi_finetune.local.auth"

_UPLOAD_ROUTES = frozenset({"create_file", "add_upload_part"})
_MULTIPART_OVERHEAD = 64 * 1024
MAX_JSON_BYTES = 8 * 1024 * 1024
# Bodies up to this much over the app's own limits still reach the app, so that a body just over
# a limit gets OpenAI's 413 body rather than the server's plain-text one.
_SERVER_LIMIT_SLACK = 1024 * 1024


def _rule_path(template: str, api_path: str) -> str:
    """The werkzeug rule of a route template, under the flavor's API path (`/openai/v1` for
    Azure). A model id may hold slashes (open models: `meta-llama/...`)."""
    if template.startswith("/v1/"):
        template = api_path + template.removeprefix("/v1")
    return template.replace("{model}", "<path:model>").replace("{", "<").replace("}", ">")


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(exc: errors.APIError, flavor: flavors.Flavor = flavors.OPENAI) -> Response:
    status, body = flavor.error_body(exc)
    response = _json(body, status)
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _list(page: Page, **extra: Any) -> JSON:
    return {"object": "list", "data": page.data, "has_more": page.has_more, **extra}


def _int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidRequest(f"'{name}' must be an integer.", param=name) from None
    if not low <= value <= high:
        raise errors.InvalidRequest(f"'{name}' must be between {low} and {high}.", param=name)
    return value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _cursor(request: Request) -> str | None:
    """The ``after`` query parameter; empty means absent (as OpenAI's SDKs send it)."""
    return request.args.get("after") or None


def _body(request: Request) -> JSON:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise errors.PayloadTooLarge(
            f"The request body exceeds the maximum size of {MAX_JSON_BYTES} bytes.",
            code="request_too_large",
        )
    request.max_content_length = MAX_JSON_BYTES
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw or b"{}", parse_constant=_reject_constant)
    except RecursionError:
        raise errors.InvalidRequest("The JSON body of your request is nested too deeply.") from None
    except ValueError:
        raise errors.InvalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from None
    if not isinstance(body, dict):
        raise errors.InvalidRequest("The request body must be a JSON object.")
    return body


def _require_str(body: JSON, key: str) -> str:
    value = body.get(key)
    if value is None:
        raise errors.InvalidRequest(f"Missing required parameter: '{key}'.", param=key)
    if not isinstance(value, str):
        raise errors.InvalidRequest(f"'{key}' must be a string.", param=key)
    if not value:
        raise errors.InvalidRequest(f"'{key}' must not be empty.", param=key)
    return value


def _fault_response(fault: Fault, flavor: flavors.Flavor) -> Response:
    """The error a fault answers with (kinds 429, 500, 503, insufficient_quota, commit_then_500)."""
    exc: errors.APIError
    if fault.kind == "429":
        exc = errors.RateLimited(
            "Rate limit reached for requests (injected by the local endpoint).",
            code="rate_limit_exceeded",
            headers={
                "retry-after": f"{fault.retry_after:g}",
                "retry-after-ms": str(int(fault.retry_after * 1000)),
                "x-ratelimit-remaining-requests": "0",
            },
        )
    elif fault.kind == "insufficient_quota":
        exc = errors.InsufficientQuota(
            "You exceeded your current quota, please check your plan and billing details.",
            code="insufficient_quota",
        )
    elif fault.kind == "503":
        exc = errors.ServiceUnavailable(
            "The server is overloaded or not ready yet (injected by the local endpoint).",
        )
    else:
        exc = errors.ServerError(
            "The server had an error while processing your request (injected by the local "
            "endpoint).",
        )
    return _error(exc, flavor)


class LocalApp:
    """The WSGI callable. Build it with :func:`create_app`."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.flavor = flavors.by_name(config.flavor)
        self.store = Store(
            config.data_dir,
            org=config.org,
            clock_speed=config.clock_speed,
            flavor=self.flavor,
            cost_cap_usd=config.cost_cap_usd,
        )
        self.faults = Faults(config.fault_rate, config.fault_seed)
        self.stats = Stats()
        self.wind_down = WindDown(config.jobs_end, dict(config.retired_models))
        routes, handlers = _wire(self.flavor.host.shape)
        self.url_map = Map(
            [
                Rule(
                    _rule_path(t, self.flavor.host.api_path),
                    methods=[m],
                    endpoint=(m, t, h, namespace),
                    strict_slashes=False,
                )
                for m, t, h, namespace in [
                    *((m, t, h, handlers) for m, t, h in routes),
                    *((m, t, h, LocalApp) for m, t, h in CONTROL_ROUTES),
                ]
                if (self.flavor.host.can_pause or h not in _PAUSE_ROUTES)
                and (self.flavor.host.uploads_api or h not in _UPLOADS_ROUTES)
            ]
        )
        self._key = config.key.encode()
        self._token = config.entra_token.encode() if config.entra_token else None
        self.identity = (
            identity.TokenIssuer(config.token_lifetime, self._key)
            if config.token_lifetime is not None
            else None
        )

    @property
    def max_body_bytes(self) -> int:
        """The largest body the server should pass on; larger ones it refuses unread (413)."""
        largest = max(self.config.max_upload_bytes + _MULTIPART_OVERHEAD, MAX_JSON_BYTES)
        return largest + _SERVER_LIMIT_SLACK

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        rid = request_id()
        response = self._dispatch(request)
        response.headers[self.flavor.host.request_id_header] = rid
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if self.identity is not None and request.path == identity.PATH:
            return self.identity.respond(request)
        adapter = self.url_map.bind_to_environ(request.environ)
        control = request.path.startswith("/_local/")
        try:
            (method, template, handler_name, handlers), matched = adapter.match()
            args = {k: str(v) for k, v in matched.items()}
        except (RouteNotFound, MethodNotAllowed):
            if not control:
                self.stats.count_unmatched(request.method)
            auth = self._auth_error(request, control)
            return self._error(
                auth or errors.NotFound(f"Invalid URL ({request.method} {request.path})")
            )
        if not control:
            self.stats.count_request(f"{method} {template}")
        auth = self._auth_error(request, control)
        if auth is not None:
            return self._error(auth)
        fault = None if control else self.faults.take(method, template, request.path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "drop":
                raise errors.DropConnection()
            elif not fault.kind.startswith("commit_then_"):
                return _fault_response(fault, self.flavor)
        handler: Handler = getattr(handlers, "h_" + handler_name)
        try:
            if handler_name in _UPLOAD_ROUTES:
                self._check_upload_size(request)
            self.wind_down.guard(handler_name, request, args, self.store.now())
            response = handler(self, request, args)
        except errors.APIError as exc:
            response = self._error(exc)
        except HTTPException as exc:
            if exc.code == 413:
                response = self._error(self._too_large())
            else:
                response = self._error(errors.InvalidRequest(exc.description or "Bad request."))
        except Exception:
            log.exception("unhandled error in %s %s", method, template)
            response = self._error(
                errors.ServerError("The server had an error while processing your request.")
            )
        if fault is not None and fault.kind == "commit_then_drop":
            raise errors.DropConnection()
        if fault is not None and fault.kind == "commit_then_500":
            return _fault_response(fault, self.flavor)
        return response

    def _error(self, exc: errors.APIError) -> Response:
        return _error(exc, self.flavor)

    def _auth_error(self, request: Request, control: bool) -> errors.APIError | None:
        """None when the request carries the credentials the flavor's host takes (the control
        API always takes the key as a bearer token); records which one in the environ, and
        counts a refusal."""
        refused = self._credential_error(request, control)
        if refused is not None and not control:
            self.stats.count_unauthorized()
        return refused

    def _credential_error(self, request: Request, control: bool) -> errors.APIError | None:
        host = self.flavor.host
        if not control and host.key_header != "Authorization":
            return self._host_auth_error(request)
        request.environ[_AUTH_ENV] = "bearer-key"
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            return errors.AuthenticationError(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code="invalid_api_key",
            )
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self._key):
            return errors.AuthenticationError(
                "Incorrect API key provided. The local endpoint expects the key it was started "
                "with.",
                code="invalid_api_key",
            )
        return None

    def _host_auth_error(self, request: Request) -> errors.APIError | None:
        """A host whose key goes in a header of its own (Azure: `api-key`), which may also take
        an identity token as a bearer token (Azure: Microsoft Entra ID)."""
        host = self.flavor.host
        key = request.headers.get(host.key_header)
        if key is not None:
            request.environ[_AUTH_ENV] = host.key_header.lower()
            if hmac.compare_digest(key.strip().encode(), self._key):
                return None
        else:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if host.bearer_tokens and scheme.lower() == "bearer" and token:
                request.environ[_AUTH_ENV] = "bearer-token"
                if self._token is not None and hmac.compare_digest(
                    token.strip().encode(), self._token
                ):
                    return None
                if self.identity is not None and self.identity.accepts(token.strip()):
                    return None
        return errors.AuthenticationError(
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            f"provide a valid key for an active subscription in the {host.key_header} header"
            + (" or a valid bearer token" if host.bearer_tokens else "")
            + " and use a correct regional API endpoint for your resource.",
            code="401",
        )

    def _too_large(self) -> errors.APIError:
        return errors.PayloadTooLarge(
            f"The upload exceeds the maximum size of {self.config.max_upload_bytes} bytes.",
            param="file",
            code="file_too_large",
        )

    def _check_upload_size(self, request: Request) -> None:
        limit = self.config.max_upload_bytes + _MULTIPART_OVERHEAD
        if request.content_length is not None and request.content_length > limit:
            raise self._too_large()
        request.max_content_length = limit

    # ------------------------------------------------------------------ files

    def _save_upload(self, request: Request, field: str) -> tuple[str, Callable[[Path], None]]:
        storage = request.files.get(field)
        if storage is None:
            raise errors.InvalidRequest(f"Missing required parameter: '{field}'.", param=field)
        limit = self.config.max_upload_bytes

        def write(path: Path) -> None:
            storage.save(str(path))
            if path.stat().st_size > limit:
                path.unlink()
                raise self._too_large()

        return storage.filename or "upload", write

    def h_create_file(self, request: Request, args: dict[str, str]) -> Response:
        purpose = request.form.get("purpose")
        if not purpose:
            raise errors.InvalidRequest("Missing required parameter: 'purpose'.", param="purpose")
        self._check_expires_after(request)
        filename, write = self._save_upload(request, "file")
        return _json(self.store.create_file(filename, purpose, write))

    def _check_expires_after(self, request: Request) -> None:
        """`expires_after[anchor]` and `expires_after[seconds]`, required by a host that
        requires them (Azure's `AzureFileExpiryAnchor`: `created_at`), in OpenAI's range."""
        anchor = request.form.get("expires_after[anchor]")
        seconds = request.form.get("expires_after[seconds]")
        if anchor is None and seconds is None:
            if self.flavor.host.upload_expires_after is not None:
                raise errors.InvalidRequest(
                    "Missing required parameter: 'expires_after'.", param="expires_after"
                )
            return
        if anchor != "created_at":
            raise errors.InvalidRequest(
                "'expires_after.anchor' must be 'created_at'.", param="expires_after.anchor"
            )
        if seconds is None or not seconds.isdigit() or not 3600 <= int(seconds) <= 2592000:
            raise errors.InvalidRequest(
                "'expires_after.seconds' must be an integer from 3600 to 2592000.",
                param="expires_after.seconds",
            )

    def h_list_files(self, request: Request, args: dict[str, str]) -> Response:
        order = request.args.get("order", "desc")
        if order not in ("asc", "desc"):
            raise errors.InvalidRequest("'order' must be asc or desc.", param="order")
        page = self.store.list_files(
            purpose=request.args.get("purpose"),
            after=_cursor(request),
            limit=_int_arg(request, "limit", 10000, 1, 10000),
            order=order,
        )
        first = page.data[0]["id"] if page.data else None
        last = page.data[-1]["id"] if page.data else None
        return _json(_list(page, first_id=first, last_id=last))

    def h_retrieve_file(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.retrieve_file(args["file_id"]))

    def h_delete_file(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.delete_file(args["file_id"]))

    def h_file_content(self, request: Request, args: dict[str, str]) -> Response:
        path, info = self.store.file_content(args["file_id"])
        mimetype = (
            "text/csv" if info["purpose"] == "fine-tune-results" else "application/octet-stream"
        )
        return send_file(path, request.environ, mimetype=mimetype, conditional=False)

    # ------------------------------------------------------------------ uploads

    def h_create_upload(self, request: Request, args: dict[str, str]) -> Response:
        body = _body(request)
        unknown = set(body) - {"filename", "purpose", "bytes", "mime_type", "expires_after"}
        if unknown:
            key = sorted(unknown)[0]
            raise errors.InvalidRequest(f"Unrecognized request argument supplied: {key}", param=key)
        size = body.get("bytes")
        if isinstance(size, bool) or not isinstance(size, int):
            raise errors.InvalidRequest("Missing required parameter: 'bytes'.", param="bytes")
        return _json(
            self.store.create_upload(
                _require_str(body, "filename"),
                _require_str(body, "purpose"),
                size,
                _require_str(body, "mime_type"),
            )
        )

    def h_add_upload_part(self, request: Request, args: dict[str, str]) -> Response:
        _, write = self._save_upload(request, "data")
        return _json(self.store.add_upload_part(args["upload_id"], write))

    def h_complete_upload(self, request: Request, args: dict[str, str]) -> Response:
        body = _body(request)
        part_ids = body.get("part_ids")
        if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
            raise errors.InvalidRequest("'part_ids' must be a list of part ids.", param="part_ids")
        md5 = body.get("md5")
        if md5 is not None and not isinstance(md5, str):
            raise errors.InvalidRequest("'md5' must be a hex string.", param="md5")
        return _json(self.store.complete_upload(args["upload_id"], part_ids, md5 or None))

    def h_cancel_upload(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.cancel_upload(args["upload_id"]))

    # ------------------------------------------------------------------ jobs

    def received(self, request: Request, body: JSON) -> JSON:
        """What the control API keeps of a create: its body as sent and how it authenticated."""
        return {"body": body, "auth": request.environ.get(_AUTH_ENV)}

    def h_create_job(self, request: Request, args: dict[str, str]) -> Response:
        body = _body(request)
        job = self.store.create_job(
            parse_create_job(body, self.flavor), self.received(request, body)
        )
        self.stats.count_job_created()
        return _json(job)

    def h_list_jobs(self, request: Request, args: dict[str, str]) -> Response:
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in request.args.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        page = self.store.list_jobs(
            after=_cursor(request),
            limit=_int_arg(request, "limit", 20, 1, 100),
            metadata=metadata,
        )
        return _json(_list(page))

    def h_retrieve_job(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.retrieve_job(args["fine_tuning_job_id"]))

    def h_cancel_job(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.cancel_job(args["fine_tuning_job_id"]))

    def h_pause_job(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.pause_job(args["fine_tuning_job_id"]))

    def h_resume_job(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.resume_job(args["fine_tuning_job_id"]))

    def h_list_events(self, request: Request, args: dict[str, str]) -> Response:
        page = self.store.list_events(
            args["fine_tuning_job_id"],
            after=_cursor(request),
            limit=_int_arg(request, "limit", 20, 1, 1000),
        )
        return _json(_list(page))

    def h_list_checkpoints(self, request: Request, args: dict[str, str]) -> Response:
        page = self.store.list_checkpoints(
            args["fine_tuning_job_id"],
            after=_cursor(request),
            limit=_int_arg(request, "limit", 10, 1, 100),
        )
        first = page.data[0]["id"] if page.data else None
        last = page.data[-1]["id"] if page.data else None
        return _json(_list(page, first_id=first, last_id=last))

    # ------------------------------------------------------------------ models

    def _dated(self, model: JSON) -> JSON:
        """A model object with the `shutdown_date` its retirement gives (`--retire-model`)."""
        day = self.wind_down.shutdown_date(str(model["id"]))
        return {**model, "shutdown_date": day} if day else model

    def h_list_models(self, request: Request, args: dict[str, str]) -> Response:
        models = [self._dated(m) for m in self.store.list_models()]
        return _json({"object": "list", "data": models})

    def h_retrieve_model(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self._dated(self.store.retrieve_model(args["model"])))

    def h_delete_model(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.delete_model(args["model"]))

    # ------------------------------------------------------------------ control API

    def h_local_list_faults(self, request: Request, args: dict[str, str]) -> Response:
        return _json({"object": "list", "data": self.faults.active()})

    def h_local_add_fault(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.faults.add(_body(request)))

    def h_local_clear_faults(self, request: Request, args: dict[str, str]) -> Response:
        return _json({"deleted": self.faults.clear()})

    def h_local_stats(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.stats.snapshot())

    def h_local_reset_stats(self, request: Request, args: dict[str, str]) -> Response:
        self.stats.reset()
        return _json(self.stats.snapshot())

    def h_local_wind_down(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.wind_down.update(_body(request)))

    def h_local_clock(self, request: Request, args: dict[str, str]) -> Response:
        body = _body(request)
        seconds = body.get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise errors.InvalidRequest(
                "'advance_seconds' must be a number.", param="advance_seconds"
            )
        try:
            as_float = float(seconds)
        except OverflowError:  # an integer too large for a float
            as_float = math.inf if seconds > 0 else -math.inf
        offset = self.store.advance_clock(as_float)
        return _json({"offset_seconds": offset, "now": int(self.store.now())})

    def h_local_job_request(self, request: Request, args: dict[str, str]) -> Response:
        return _json(self.store.job_request(args["fine_tuning_job_id"]))

    def h_local_cost_cap(self, request: Request, args: dict[str, str]) -> Response:
        """The cost cap given to jobs created from now on (`{"usd": N}`; null: the host's)."""
        usd = _body(request).get("usd")
        if usd is not None and (
            isinstance(usd, bool) or not isinstance(usd, int | float) or not usd >= 0
        ):
            raise errors.InvalidRequest("'usd' must be a non-negative number or null.", param="usd")
        self.store.cost_cap_usd = None if usd is None else float(usd)
        return _json({"usd": self.store.cost_cap_usd})


def _wire(shape: str) -> tuple[list[tuple[str, str, str]], object]:
    """The API routes of the shape the flavor's host speaks and where their `h_*` handlers are:
    OpenAI's here; another shape's in the module of its name in this package (its `ROUTES` and
    module-level `h_*(app, request, args)` functions)."""
    if shape == hosts.COMPATIBLE.shape:
        return ROUTES, LocalApp
    module = importlib.import_module(f"{__package__}.{shape}")
    routes: list[tuple[str, str, str]] = module.ROUTES
    return routes, module


def create_app(config: EndpointConfig) -> LocalApp:
    """Build the WSGI application for ``config``; state lives under ``config.data_dir``."""
    return LocalApp(config)
