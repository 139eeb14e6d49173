"""What the job provider does about hosts that stop taking jobs and base models that retire
(the dates are `pulumi_finetune.lifecycle`'s): a check failure for a job that would be created
where creating has ended, a warning on the job's row 60 days ahead, `model_retires_on`, and a
refusal that explains itself when the host refuses a create all the same.

Local: no request is made here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .. import hosts, identity, lifecycle
from ..errors import APIError, NotFoundError, PermissionDeniedError
from ..models import base_model
from ..spec import is_unknown
from .waiting import engine_log

MOVE = (
    "move the job to a host that still trains (Azure OpenAI / Foundry, Nebius Token Factory or "
    "another OpenAI-compatible endpoint; finetune:host for a proxy), with a provider per host "
    "(`host_provider`, see examples/move-host) so the old job is handled with its own host's "
    "key; changing the host replaces the job, and the old model serves until the new job "
    "succeeds"
)


@dataclass
class Assessment:
    """What check says about one job's dates."""

    retires_on: str = ""
    """`model_retires_on`: ISO date, "" when not known."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _title(host: str) -> str:
    row = hosts.by_name(host)
    return row.title if row else host


def _override(fact: lifecycle.Fact) -> str:
    return f"pulumi config set --path '{fact.override}' YYYY-MM-DD (\"\" for no date)"


def _in_days(days: int) -> str:
    return "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"


def assess(
    inputs: Mapping[str, Any], *, creates: bool, today: date, overrides: Any = None
) -> Assessment:
    """The dates of a job on its host. `creates`: the job would be created (or replaced).
    Warnings name the job: `pulumi preview --diff` prints them without the job's row."""
    job = f"`{_name(inputs)}`"
    host, model = inputs.get("host"), inputs.get("model")
    if not isinstance(host, str) or not isinstance(model, str) or is_unknown(host):
        return Assessment()
    if is_unknown(model) or not model:
        return Assessment()
    overrides = overrides if isinstance(overrides, Mapping) else None
    found = Assessment()
    base = base_model(model)
    retires = lifecycle.retires_on(host, model, overrides)
    if retires is not None:
        found.retires_on = retires.day
        days = retires.days_from(today)
        if days <= 0 and creates:
            found.failures.append(
                (
                    "model",
                    f"{base} was retired on {_title(host)} on {retires.day} ({retires.source}), "
                    "its fine-tuned models with it: a job on it cannot be created. Choose a "
                    f"base model the host still trains, or {MOVE}. If the date is wrong or has "
                    f"moved: {_override(retires)}",
                )
            )
        elif days <= 0:
            found.warnings.append(
                f"{base} was retired on {_title(host)} on {retires.day}: the fine-tuned model of "
                f"{job} no longer serves there"
            )
        elif days <= lifecycle.WARNING_DAYS:
            found.warnings.append(
                f"{base} retires on {_title(host)} on {retires.day} ({_in_days(days)}): the "
                f"fine-tuned model of {job} stops serving then. To keep one serving, move the job "
                "to another host (changing the host replaces the job; the old model serves until "
                "the new one succeeds)"
            )
    if not creates:
        return found
    ends = lifecycle.jobs_end(host, model, overrides)
    if ends is None:
        return found
    days = ends.days_from(today)
    what = f"new fine-tuning jobs on {ends.model}" if ends.model else "new fine-tuning jobs"
    if days <= 0:
        gates = f"; {ends.notes}" if ends.notes else ""
        found.failures.insert(
            0,
            (
                "host",
                f"{_title(host)} takes no {what} since {ends.day} ({ends.source}{gates}); this "
                f"job would be created there. To train it, {MOVE}. If the date is wrong or has "
                f"moved: {_override(ends)}",
            ),
        )
    elif days <= lifecycle.WARNING_DAYS:
        found.warnings.insert(
            0,
            f"{_title(host)} takes no {what} from {ends.day} ({_in_days(days)}): after that "
            f"{job} cannot be created or replaced there",
        )
    return found


def warn(props: Mapping[str, Any], warnings: list[str]) -> None:
    """Each warning on the job's row in `pulumi preview` / `up` (the engine's Log service, with
    the job's URN), or, where the engine cannot be told, a line naming the job on stderr."""
    urn = props.get(identity.URN)
    urn = urn if isinstance(urn, str) and not is_unknown(urn) else ""
    for message in warnings:
        if not engine_log().warning(urn, message):
            print(f"warning: {message}", file=sys.stderr, flush=True)


def _name(props: Mapping[str, Any]) -> str:
    key = props.get(identity.RESOURCE_KEY)
    return str(key).rsplit("/", 1)[-1] if isinstance(key, str) and key else "FineTuningJob"


def refusal(exc: APIError, host: str, model: Any, overrides: Any = None) -> str | None:
    """Why a create was refused, and the fix, when the host refused it for its wind-down (403)
    or for a retired base model (404 model_not_found); None for other errors."""
    title = _title(host)
    if isinstance(exc, PermissionDeniedError):
        ends = lifecycle.jobs_end(host, str(model or ""), overrides)
        if ends is not None:
            gates = f"{ends.notes}, and from {ends.day} none can" if ends.notes else ends.day
            context = (
                f"{title} is winding down fine-tuning: {gates} ({ends.source}). No job was "
                "created, and the request was not retried."
            )
        else:
            context = (
                f"The endpoint ({title}) refused to create a job for this key. If it is OpenAI "
                "or a proxy in front of it (finetune:host openai), OpenAI is winding down "
                "fine-tuning: from 2027-01-06 no organization can create jobs. No job was "
                "created, and the request was not retried."
            )
        return (
            f"{context}\nFix: {MOVE}; or use a key of an organization (project) the host still "
            "lets create fine-tuning jobs."
        )
    if isinstance(exc, NotFoundError) and (exc.code == "model_not_found" or exc.param == "model"):
        base = base_model(str(model or ""))
        retires = lifecycle.retires_on(host, str(model or ""), overrides)
        when = f" (retired on {retires.day}: {retires.source})" if retires else ""
        return (
            f"{title} has no base model {base} to fine-tune{when}; a retired base model takes "
            "no jobs, and its fine-tuned models no longer serve. No job was created.\n"
            f"Fix: choose a base model the host still trains (model=...), or {MOVE}."
        )
    return None
