"""How long each host takes fine-tuning jobs, and when base models retire (their fine-tuned
models with them), per host, as of a date.

One row per fact, each with its public source (gathered 2026-12; re-check before relying on
a date):

- OpenAI is winding down self-serve fine-tuning (its deprecations page, notice of 2026-05-07,
  reported by several outlets; a user's report of the refusal: ed-donner/llm_engineering issue
  3258). From 2026-05-07 organizations that never fine-tuned cannot create jobs; from 2026-07-02
  neither can those with no fine-tuned-model inference in the past 60 days; from **2027-01-06 no
  organization can**. The refusal is a 403 on `POST /fine_tuning/jobs`. Existing fine-tuned
  models serve until their base model is retired.
- OpenAI's base-model shutdowns (deprecations page, as reported second-hand; medium confidence).
  `o4-mini-2025-04-16` (the only base of reinforcement fine-tuning at OpenAI) and
  `gpt-4.1-nano-2025-04-14` shut down on 2026-10-23, their fine-tuned models with them
  (announced 2026-04-22; reported by dev.to's "every OpenAI model shutdown date until January
  2027" and by aihola, and a reseller's notice that the fine-tuned versions went with them;
  medium confidence): reinforcement fine-tuning at OpenAI is over.
- A host whose model object carries `shutdown_date` (`GET /models/{model}`, OpenAI's
  deprecations page) is a better source than this table: a job's refresh takes it.
- Azure OpenAI / Foundry's retirement schedule (page updated 2026-09-02): training ends no
  earlier than the dates below for existing customers, inference on fine-tuned models later.
- Nebius and other compatible hosts: no date is known or assumed.

Dates change: a stack overrides any row with `finetune:lifecycle` (read by the program, see
`pulumi_finetune.resources`), so a wrong or moved date never blocks anyone:

    {"openai": {"jobs_end": "2027-03-01",
                "models": {"gpt-4o-mini-2024-07-18": "2027-06-01"}},
     "azure": {"models": {"gpt-4.1-2025-04-14": {"jobs_end": "2027-05-01",
                                                "retires_on": "2027-11-01"}}}}

A model's value is its retirement date, or `{"jobs_end", "retires_on"}`; a date of `""` (or
null) means "no date": it clears the row. `PULUMI_FINETUNE_TODAY` (an ISO date) sets the day the
checks take as today, to try a stack against a date to come.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .models import base_model

__all__ = [
    "CLOCK_ENV",
    "CONFIG_NAME",
    "HOST_ROWS",
    "LIFECYCLE_DATE",
    "MODEL_ROWS",
    "WARNING_DAYS",
    "Fact",
    "HostRow",
    "ModelRow",
    "jobs_end",
    "override_failures",
    "retires_on",
    "today",
]

#: When the rows below were gathered.
LIFECYCLE_DATE = "2026-12-06"
#: Stack config that overrides rows (see the module's docstring).
CONFIG_NAME = "lifecycle"
#: An ISO date the checks take as today (to try a date to come); unset: the real date, UTC.
CLOCK_ENV = "PULUMI_FINETUNE_TODAY"
#: How many days ahead of a date preview warns.
WARNING_DAYS = 60

OPENAI_DEPRECATIONS = "https://platform.openai.com/docs/deprecations"
AZURE_RETIREMENTS = (
    "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/model-retirement-schedule"
)


@dataclass(frozen=True)
class HostRow:
    """When a host stops taking fine-tuning jobs at all."""

    host: str
    jobs_end: str
    """The first day no job can be created (ISO date)."""
    source: str
    notes: str = ""
    """Earlier gates, for messages."""


@dataclass(frozen=True)
class ModelRow:
    """When a host stops training a base model, and when the model (and every model fine-tuned
    from it) stops serving there."""

    host: str
    models: tuple[str, ...]
    """Base model ids as `models.base_model` spells them (snapshot ids, lower case)."""
    retires_on: str | None
    """The first day the base model and its fine-tuned models no longer serve."""
    source: str
    jobs_end: str | None = None
    """The first day this host trains it no more, where earlier than the host's own end."""


HOST_ROWS: tuple[HostRow, ...] = (
    HostRow(
        "openai",
        "2027-01-06",
        f"OpenAI's deprecations page, notice of 2026-05-07, {OPENAI_DEPRECATIONS}",
        notes=(
            "since 2026-05-07 organizations that never fine-tuned cannot create jobs, since "
            "2026-07-02 neither can those with no inference on a fine-tuned model in the past "
            "60 days"
        ),
    ),
)

MODEL_ROWS: tuple[ModelRow, ...] = (
    ModelRow(
        "openai",
        ("gpt-3.5-turbo-0125", "gpt-4", "gpt-4-0613"),
        "2026-10-23",
        f"OpenAI's deprecations page, as reported second-hand, {OPENAI_DEPRECATIONS}",
    ),
    ModelRow(
        "openai",
        (
            "gpt-4o-2024-08-06",
            "gpt-4o-mini-2024-07-18",
            "gpt-4.1-2025-04-14",
            "gpt-4.1-mini-2025-04-14",
        ),
        "2027-01-14",
        f"OpenAI's deprecations page, as reported second-hand, {OPENAI_DEPRECATIONS}",
    ),
    ModelRow(
        "openai",
        ("o4-mini-2025-04-16", "gpt-4.1-nano-2025-04-14"),
        "2026-10-23",
        f"OpenAI's deprecations page (announced 2026-04-22), as reported second-hand by dev.to "
        f"and aihola; medium confidence, {OPENAI_DEPRECATIONS}",
    ),
    ModelRow(
        "azure",
        ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"),
        "2027-10-01",
        f"Azure's model retirement schedule, updated 2026-09-02, {AZURE_RETIREMENTS}",
        jobs_end="2027-04-01",
    ),
    ModelRow(
        "azure",
        ("gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14"),
        "2027-10-14",
        f"Azure's model retirement schedule, updated 2026-09-02, {AZURE_RETIREMENTS}",
        jobs_end="2027-04-14",
    ),
    ModelRow(
        "azure",
        ("o4-mini-2025-04-16",),
        "2027-10-16",
        f"Azure's model retirement schedule, updated 2026-09-02, {AZURE_RETIREMENTS}",
        jobs_end="2027-04-16",
    ),
)


@dataclass(frozen=True)
class Fact:
    """A date and where it comes from."""

    day: str
    """ISO date."""
    source: str
    override: str
    """The `pulumi config set --path` key that overrides it."""
    notes: str = ""
    model: str = ""
    """The base model the date is about; "" for the host as a whole."""

    def days_from(self, today: date) -> int:
        return (date.fromisoformat(self.day) - today).days


def today(env: Mapping[str, str] | None = None) -> date:
    """The day the checks take as today: `PULUMI_FINETUNE_TODAY`, else today in UTC."""
    value = (os.environ if env is None else env).get(CLOCK_ENV, "").strip()
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # a bad value is not worth failing a preview over: the real date
    return datetime.now(UTC).date()


def _config_source() -> str:
    return f"stack config finetune:{CONFIG_NAME}"


def _host_override(overrides: Any, host: str) -> Mapping[str, Any]:
    if not isinstance(overrides, Mapping):
        return {}
    found = overrides.get(host)
    return found if isinstance(found, Mapping) else {}


def _model_override(overrides: Any, host: str, model: str) -> tuple[bool, Mapping[str, Any]]:
    """(whether the stack overrides the model's row, its fields)."""
    models = _host_override(overrides, host).get("models")
    if not isinstance(models, Mapping):
        return False, {}
    for key, value in models.items():
        if base_model(str(key)) == model:
            if isinstance(value, Mapping):
                return True, value
            return True, {"retires_on": value}
    return False, {}


def _model_row(host: str, model: str) -> ModelRow | None:
    return next((r for r in MODEL_ROWS if r.host == host and model in r.models), None)


def _fact(value: Any, source: str, override: str, notes: str = "", model: str = "") -> Fact | None:
    if not isinstance(value, str) or not value:
        return None
    return Fact(value, source, override, notes, model)


def _host_key(host: str, field: str) -> str:
    return f"finetune:{CONFIG_NAME}.{host}.{field}"


def _model_key(host: str, model: str, field: str | None = None) -> str:
    key = f'finetune:{CONFIG_NAME}.{host}.models["{model}"]'
    return f"{key}.{field}" if field else key


def retires_on(host: str, model: str | None, overrides: Any = None) -> Fact | None:
    """The day `model` (a base or fine-tuned model) and its fine-tuned models stop serving on
    `host`; None when not known."""
    base = base_model(model)
    key = _model_key(host, base)
    overridden, fields = _model_override(overrides, host, base)
    if overridden and "retires_on" in fields:
        return _fact(fields.get("retires_on"), _config_source(), key, model=base)
    row = _model_row(host, base)
    return _fact(row.retires_on, row.source, key, model=base) if row else None


def jobs_end(host: str, model: str | None, overrides: Any = None) -> Fact | None:
    """The first day `host` takes no new job on `model`: the earlier of the host's end and the
    model's; None when neither is known."""
    base = base_model(model)
    host_key, model_key = _host_key(host, "jobs_end"), _model_key(host, base, "jobs_end")
    host_fields = _host_override(overrides, host)
    if "jobs_end" in host_fields:
        host_fact = _fact(host_fields.get("jobs_end"), _config_source(), host_key)
    else:
        row = next((r for r in HOST_ROWS if r.host == host), None)
        host_fact = _fact(row.jobs_end, row.source, host_key, row.notes) if row else None
    overridden, fields = _model_override(overrides, host, base)
    if overridden and "jobs_end" in fields:
        model_fact = _fact(fields.get("jobs_end"), _config_source(), model_key, model=base)
    else:
        row_ = _model_row(host, base)
        model_fact = _fact(row_.jobs_end, row_.source, model_key, model=base) if row_ else None
    found = [f for f in (host_fact, model_fact) if f is not None]
    return min(found, key=lambda f: f.day) if found else None


def _date_failure(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None or value == "":
        return
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
            return
        except ValueError:
            pass
    yield path, f'got {value!r}; must be a date, YYYY-MM-DD (or "" for no date)'


def override_failures(overrides: Any) -> Iterator[tuple[str, str]]:
    """(config path, reason) for each malformed part of `finetune:lifecycle`."""
    where = f"finetune:{CONFIG_NAME}"
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        yield where, f"got {overrides!r}; must be a JSON object of host: {{jobs_end, models}}"
        return
    for host, fields in overrides.items():
        path = f"{where}.{host}"
        if not isinstance(fields, Mapping):
            yield path, f"got {fields!r}; must be an object with jobs_end and/or models"
            continue
        for key in sorted(set(fields) - {"jobs_end", "models"}):
            yield f"{path}.{key}", "unknown key; the keys are jobs_end and models"
        yield from _date_failure(f"{path}.jobs_end", fields.get("jobs_end"))
        models = fields.get("models")
        if models is None:
            continue
        if not isinstance(models, Mapping):
            yield f"{path}.models", f"got {models!r}; must be an object of model: date"
            continue
        for model, value in models.items():
            mpath = f"{path}.models[{model!r}]"
            if isinstance(value, Mapping):
                for key in sorted(set(value) - {"jobs_end", "retires_on"}):
                    yield f"{mpath}.{key}", "unknown key; the keys are jobs_end and retires_on"
                for key in ("jobs_end", "retires_on"):
                    yield from _date_failure(f"{mpath}.{key}", value.get(key))
            else:
                yield from _date_failure(mpath, value)
