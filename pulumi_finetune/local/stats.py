"""Request counters for the control API: totals per route and jobs created, since the last reset."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
UNMATCHED = "(no such route)"


class Stats:
    """Thread-safe counters; ``/_local`` requests are never counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_route: Counter[str] = Counter()
        self._jobs_created = 0
        self._unauthorized = 0

    def count_request(self, route: str) -> None:
        with self._lock:
            self._by_route[route] += 1

    def count_unmatched(self, method: str) -> None:
        """A request for no route: one bucket per method, never per path (paths are unbounded)."""
        self.count_request(f"{method if method in _METHODS else 'OTHER'} {UNMATCHED}")

    def count_unauthorized(self) -> None:
        """A request refused for its credentials (401)."""
        with self._lock:
            self._unauthorized += 1

    def count_job_created(self) -> None:
        with self._lock:
            self._jobs_created += 1

    def reset(self) -> None:
        with self._lock:
            self._by_route.clear()
            self._jobs_created = 0
            self._unauthorized = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self._by_route.values()),
                "by_route": dict(sorted(self._by_route.items())),
                "jobs_created": self._jobs_created,
                "unauthorized": self._unauthorized,
            }
