"""The settings one local endpoint runs with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..rules import SINGLE_REQUEST_MAX_BYTES
from . import flavors

DEFAULT_MAX_UPLOAD_BYTES = SINGLE_REQUEST_MAX_BYTES


@dataclass(frozen=True)
class EndpointConfig:
    """Everything ``create_app`` needs.

    ``clock_speed`` multiplies how fast jobs progress (100 makes a default job finish in ~0.4 s).
    ``org`` is the organisation name used in fine-tuned model names (``ft:{base}:{org}:...``).
    ``max_upload_bytes`` caps the body of ``POST /files`` and of each upload part.
    ``fault_rate``/``fault_seed`` switch on random faults for soak runs (0 disables them).
    ``flavor`` is the host the endpoint plays (``local/flavors.py``); ``entra_token`` the bearer
    token a flavor that takes identity tokens accepts (Azure: Entra ID); ``cost_cap_usd`` the
    cost cap of new jobs of a capped method (None: the host's own); ``token_lifetime`` the
    seconds an identity token it issues lives (``local/identity.py``; None: it issues none).
    """

    data_dir: Path
    key: str
    clock_speed: float = 1.0
    # Playing a wind-down (see `winddown`): the day new jobs are refused; base models' retirements.
    jobs_end: date | None = None
    retired_models: tuple[tuple[str, date], ...] = ()
    org: str = "personal"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    fault_rate: float = 0.0
    fault_seed: int | None = None
    flavor: str = "openai"
    entra_token: str | None = None
    cost_cap_usd: float | None = None
    token_lifetime: float | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a bearer key is required")
        if not (math.isfinite(self.clock_speed) and self.clock_speed > 0):
            raise ValueError(f"clock speed must be a positive number, not {self.clock_speed!r}")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be positive")
        flavors.by_name(self.flavor)  # ValueError names the choices
        if self.cost_cap_usd is not None and not self.cost_cap_usd >= 0:
            raise ValueError(f"cost cap must be >= 0, not {self.cost_cap_usd!r}")
        if self.token_lifetime is not None and not self.token_lifetime > 0:
            raise ValueError(f"token lifetime must be > 0 seconds, not {self.token_lifetime!r}")
        if not 0.0 <= self.fault_rate <= 1.0:  # also refuses NaN
            raise ValueError(f"fault rate must be between 0 and 1, not {self.fault_rate!r}")
