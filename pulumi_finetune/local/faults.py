"""Scripted and random faults, matched per route, that tests set over the control API."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidRequest
from .ids import new_id

KINDS = (
    "429",
    "500",
    "503",
    "slow",
    "drop",
    "commit_then_500",
    "commit_then_drop",
    "insufficient_quota",
)

MAX_RETRY_AFTER_SECONDS = 86400.0
MAX_DELAY_SECONDS = 300.0  # a slow fault holds a worker thread that long


@dataclass
class Fault:
    """One script: answer ``times`` matching requests with ``kind``.

    ``route`` is ``"METHOD /v1/path"`` with either the route's template
    (``/v1/fine_tuning/jobs/{fine_tuning_job_id}``), a concrete path, or shell wildcards
    (``"GET /v1/fine_tuning/jobs/*"``, ``"*"``).
    """

    route: str
    kind: str
    times: int = 1
    retry_after: float = 1.0
    delay: float = 0.5
    id: str = field(default_factory=lambda: new_id("fault_", 12))
    hits: int = 0

    def matches(self, method: str, template: str, path: str) -> bool:
        if self.route in ("*", f"{method} {template}", f"{method} {path}"):
            return True
        return fnmatch.fnmatchcase(f"{method} {path}", self.route)

    def to_json(self) -> dict[str, Any]:
        return {"object": "local.fault", **asdict(self)}


def _number(spec: dict[str, Any], key: str, default: float, maximum: float) -> float:
    value = spec.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= maximum  # also refuses NaN
    ):
        raise InvalidRequest(f"'{key}' must be a number between 0 and {maximum:g}.", param=key)
    return float(value)


class Faults:
    """The active fault scripts plus an optional random mode. Thread-safe."""

    def __init__(self, random_rate: float = 0.0, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._scripts: list[Fault] = []
        self._random_rate = random_rate
        self._random_kinds: tuple[str, ...] = ("429", "500", "503")
        self._random_route = "*"
        self._rng = random.Random(seed)

    def add(self, spec: object) -> dict[str, Any]:
        """Add a script (``{"route", "kind", "times"?, "retry_after"?, "delay"?}``) or set the
        random mode (``{"random_rate", "kinds"?, "seed"?, "route"?}``); returns what was set."""
        if not isinstance(spec, dict):
            raise InvalidRequest("The fault must be a JSON object.")
        if "random_rate" in spec:
            rate = _number(spec, "random_rate", 0.0, 1.0)
            kinds = spec.get("kinds", ["429", "500", "503"])
            if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
                raise InvalidRequest(f"'kinds' must list kinds from {KINDS}.", param="kinds")
            seed = spec.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise InvalidRequest("'seed' must be an integer.", param="seed")
            route = spec.get("route", "*")
            if not isinstance(route, str):
                raise InvalidRequest("'route' must be a string.", param="route")
            with self._lock:
                self._random_rate = rate
                self._random_kinds = tuple(kinds)
                self._random_route = route
                if seed is not None:
                    self._rng = random.Random(seed)
            return {
                "object": "local.fault.random",
                "random_rate": rate,
                "kinds": kinds,
                "route": self._random_route,
            }
        route = spec.get("route")
        kind = spec.get("kind")
        if not isinstance(route, str) or not route:
            raise InvalidRequest(
                "'route' is required, e.g. 'POST /v1/fine_tuning/jobs'.", param="route"
            )
        if kind not in KINDS:
            raise InvalidRequest(f"'kind' must be one of {KINDS}.", param="kind")
        times = spec.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise InvalidRequest("'times' must be a positive integer.", param="times")
        fault = Fault(
            route=route,
            kind=str(kind),
            times=times,
            retry_after=_number(spec, "retry_after", 1.0, MAX_RETRY_AFTER_SECONDS),
            delay=_number(spec, "delay", 0.5, MAX_DELAY_SECONDS),
        )
        with self._lock:
            self._scripts.append(fault)
        return fault.to_json()

    def clear(self) -> int:
        """Remove every script and switch random mode off; returns how many scripts were removed."""
        with self._lock:
            removed = len(self._scripts)
            self._scripts.clear()
            self._random_rate = 0.0
        return removed

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._scripts]

    def take(self, method: str, template: str, path: str) -> Fault | None:
        """The fault to apply to this request, if any (consuming one of its ``times``)."""
        with self._lock:
            for fault in self._scripts:
                if fault.matches(method, template, path):
                    fault.hits += 1
                    if fault.hits >= fault.times:
                        self._scripts.remove(fault)
                    return fault
            if self._random_rate > 0 and self._rng.random() < self._random_rate:
                probe = Fault(route=self._random_route, kind="500", id="random")
                if probe.matches(method, template, path):
                    probe.kind = self._rng.choice(self._random_kinds)
                    return probe
        return None
