"""The endpoint's clock: wall time plus an offset the control API advances, kept in ``meta``."""

from __future__ import annotations

import math
import time
from pathlib import Path

from ..errors import InvalidRequest
from ..flavors import OPENAI, Flavor
from .db import Database

MAX_CLOCK_OFFSET_SECONDS = 100 * 365 * 86400


class Clock(Database):
    """Adds :meth:`now` and :meth:`advance_clock`; jobs progress by this clock."""

    def __init__(
        self,
        data_dir: Path,
        *,
        org: str = "personal",
        clock_speed: float = 1.0,
        flavor: Flavor = OPENAI,
        cost_cap_usd: float | None = None,
    ) -> None:
        super().__init__(
            data_dir, org=org, clock_speed=clock_speed, flavor=flavor, cost_cap_usd=cost_cap_usd
        )
        stored = self.meta("clock_offset")
        offset = float(stored) if stored is not None else 0.0
        # An older endpoint could persist inf/NaN, after which no job could be created.
        self._clock_offset = offset if 0 <= offset <= MAX_CLOCK_OFFSET_SECONDS else 0.0

    def now(self) -> float:
        """The endpoint's clock: wall time plus whatever ``advance_clock`` added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the clock forward for every job; returns the total offset. Persisted."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise InvalidRequest(
                "'advance_seconds' must be a finite, non-negative number.", param="advance_seconds"
            )
        with self._tx() as db:
            offset = self._clock_offset + seconds
            if offset > MAX_CLOCK_OFFSET_SECONDS:
                raise InvalidRequest(
                    f"The clock can be advanced by at most {MAX_CLOCK_OFFSET_SECONDS} seconds "
                    "in all (100 years).",
                    param="advance_seconds",
                )
            db.execute(
                "INSERT INTO meta(key, value) VALUES('clock_offset', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (repr(offset),),
            )
            self._clock_offset = offset
        return offset
