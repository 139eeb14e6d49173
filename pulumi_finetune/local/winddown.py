"""Playing a host's wind-down: from a given day new fine-tuning jobs are refused with a 403, as
OpenAI refuses them (`--jobs-end`), and base models retire on given days (`--retire-model`):
a create on one is refused with 404 `model_not_found`, and the model and every model fine-tuned
from it answer 404 from then on. Everything else (retrieve, list, cancel, pause, events, delete of
a live model) keeps working, as it does at OpenAI for existing jobs.

"Today" is the endpoint's clock (wall time plus `/_local/clock` advances), in UTC. OpenAI does
not document the refusal's `code` or message: the 403 here has OpenAI's error shape with `code`
null and a message of our own. The settings live in memory: a restarted endpoint takes them from
its command line again; tests change them through `POST /_local/wind_down`.
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from . import catalog
from .errors import InvalidRequest, NotFound, PermissionDenied

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

JSON = dict[str, Any]


def parse_day(value: Any, param: str) -> date | None:
    """An ISO date, or None for null / ""; anything else is a 400 naming `param`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidRequest(f"'{param}' must be a date, YYYY-MM-DD, or null.", param=param)


def parse_retirement(text: str) -> tuple[str, date]:
    """`MODEL=YYYY-MM-DD` (the command line's form) -> (base model, day)."""
    model, sep, day = text.partition("=")
    parsed = parse_day(day, "retire") if sep else None
    if not model or parsed is None:
        raise ValueError(f"expected MODEL=YYYY-MM-DD, got {text!r}")
    return model, parsed


def _day_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _retirement_argument(text: str) -> tuple[str, date]:
    try:
        return parse_retirement(text)
    except (ValueError, InvalidRequest):
        raise argparse.ArgumentTypeError(f"expected MODEL=YYYY-MM-DD, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--jobs-end` and `--retire-model` of `pulumi-finetune-local`."""
    parser.add_argument(
        "--jobs-end",
        type=_day_argument,
        default=None,
        metavar="YYYY-MM-DD",
        help="from this day (UTC, the endpoint's clock) refuse new fine-tuning jobs with a 403, "
        "as OpenAI does after its wind-down (e.g. 2027-01-06)",
    )
    parser.add_argument(
        "--retire-model",
        type=_retirement_argument,
        action="append",
        default=[],
        metavar="MODEL=YYYY-MM-DD",
        help="retire a base model on a day: creates on it are refused and it and its "
        "fine-tuned models answer 404 from then on (repeatable)",
    )


def _model_of(request: Request) -> str | None:
    """The `model` of a create's JSON body (which the handler parses and checks afterwards)."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, RecursionError):
        return None
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


def _base(model: str) -> str | None:
    if model.startswith("ft:"):
        return catalog.base_of_fine_tuned(model)
    return catalog.resolve_base(model)


@dataclass
class WindDown:
    """When jobs stop being taken, and which base models retire when."""

    jobs_end: date | None = None
    retirements: dict[str, date] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.retirements = {catalog.resolve_base(m) or m: d for m, d in self.retirements.items()}

    @staticmethod
    def today(now: float) -> date:
        return datetime.fromtimestamp(now, UTC).date()

    def refuse_jobs(self, today: date) -> None:
        """A 403 once jobs are no longer taken."""
        if self.jobs_end is not None and today >= self.jobs_end:
            raise PermissionDenied(
                "Your organization can no longer create fine-tuning jobs: new fine-tuning jobs "
                f"are not accepted since {self.jobs_end.isoformat()}. Existing fine-tuned "
                "models keep serving until their base model is retired."
            )

    def refuse_model(self, model: str, today: date) -> None:
        """A 404 for a retired base model, or any model fine-tuned from one."""
        base = _base(model)
        day = self.retirements.get(base or "")
        if day is not None and today >= day:
            raise NotFound(
                f"The model '{model}' does not exist or you do not have access to it "
                f"(retired on {day.isoformat()}).",
                param="model",
                code="model_not_found",
            )

    def shutdown_date(self, model: str) -> str | None:
        """The day `model` (a base or a model fine-tuned from one) retires, for its model
        object's `shutdown_date` (OpenAI's deprecations page); None when it has none."""
        day = self.retirements.get(_base(model) or "")
        return day.isoformat() if day is not None else None

    def guard(self, handler: str, request: Request, args: dict[str, str], now: float) -> None:
        """Refuse what the wind-down forbids, before the route's handler runs."""
        if handler == "create_job":
            today = self.today(now)
            self.refuse_jobs(today)
            if self.retirements:
                model = _model_of(request)
                if model is not None:
                    self.refuse_model(model, today)
        elif handler in ("retrieve_model", "delete_model") and "model" in args:
            self.refuse_model(args["model"], self.today(now))

    def snapshot(self) -> JSON:
        with self._lock:
            return {
                "jobs_end": self.jobs_end.isoformat() if self.jobs_end else None,
                "retire": {m: d.isoformat() for m, d in sorted(self.retirements.items())},
            }

    def update(self, body: JSON) -> JSON:
        """`POST /_local/wind_down`: `{"jobs_end": date|null, "retire": {model: date|null}}`;
        keys left out stay as they are, a null date removes the setting."""
        jobs_end = parse_day(body.get("jobs_end"), "jobs_end") if "jobs_end" in body else None
        retire = body.get("retire", {})
        if not isinstance(retire, dict):
            raise InvalidRequest("'retire' must be an object of model: date.", param="retire")
        days = {str(m): parse_day(d, "retire") for m, d in retire.items()}
        with self._lock:
            if "jobs_end" in body:
                self.jobs_end = jobs_end
            for model, day in days.items():
                base = catalog.resolve_base(model) or model
                if day is None:
                    self.retirements.pop(base, None)
                else:
                    self.retirements[base] = day
        return self.snapshot()
