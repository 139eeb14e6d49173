"""Checks a create-job body against the documented limits of the host the endpoint plays (its
flavor: OpenAI's fields, plus or minus the host's own) and resolves "auto" values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import hosts
from ..rules import estimate_epochs
from ..spec import OWN_METHOD_HYPERPARAMETERS
from .errors import InvalidRequest
from .flavors import OPENAI, Flavor

TOP_LEVEL_KEYS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "hyperparameters",
        "suffix",
        "integrations",
        "seed",
        "method",
        "metadata",
    }
)
METHOD_TYPES = ("supervised", "dpo", "reinforcement")
SEED_MAX = 2147483647

# name -> (kind, minimum, maximum, exclusive minimum)
_HYPER: dict[str, tuple[str, float, float | None, bool]] = {
    "batch_size": ("int", 1, 256, False),
    "n_epochs": ("int", 1, 50, False),
    "learning_rate_multiplier": ("number", 0, None, True),
    "beta": ("number", 0, 2, True),
    "compute_multiplier": ("number", 0.00001, 10, True),
    "eval_interval": ("int", 1, None, False),
    "eval_samples": ("int", 1, None, False),
    # Nebius Token Factory's (its create-job reference)
    "learning_rate": ("number", 0, 1, True),
    "warmup_ratio": ("number", 0, 1, False),
    "weight_decay": ("number", 0, None, False),
    "max_grad_norm": ("number", 0, None, True),
    "context_length": ("int", 1, None, False),
    "lora_r": ("int", 1, None, False),
    "lora_alpha": ("int", 1, None, False),
    "lora_dropout": ("number", 0, 1, False),
    "packing": ("bool", 0, None, False),
    "lora": ("bool", 0, None, False),
}
_HYPER_KEYS: dict[str, tuple[str, ...]] = {
    "supervised": ("batch_size", "learning_rate_multiplier", "n_epochs"),
    "dpo": ("beta", "batch_size", "learning_rate_multiplier", "n_epochs"),
    "reinforcement": (
        "batch_size",
        "learning_rate_multiplier",
        "n_epochs",
        "reasoning_effort",
        "compute_multiplier",
        "eval_interval",
        "eval_samples",
    ),
}
REASONING_EFFORTS = ("default", "low", "medium", "high")


@dataclass(frozen=True)
class JobRequest:
    """A validated create-job request; hyperparameters may still hold "auto"."""

    model: str
    training_file: str
    validation_file: str | None
    suffix: str | None
    seed: int | None
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]] | None
    method_type: str
    hyperparameters: dict[str, Any]
    grader: dict[str, Any] | None
    extras: dict[str, Any]
    """The host's own top-level fields, as sent (`trainingType`, `tags`, ...)."""


def _as_int(value: object) -> int | None:
    """``value`` as an integer, also from an integral float (JSON Schema counts 3.0 as an
    integer, so OpenAI's schema allows it); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_hyperparameters(value: object, allowed: tuple[str, ...], param: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{param}' must be an object.", param=param)
    out: dict[str, Any] = {}
    for name, given in value.items():
        where = f"{param}.{name}"
        if name not in allowed:
            raise InvalidRequest(f"Unrecognized hyperparameter: '{name}'.", param=where)
        if given == "auto":
            out[name] = "auto"
            continue
        if name == "reasoning_effort":
            if given not in REASONING_EFFORTS:
                raise InvalidRequest(
                    f"'{where}' must be one of {', '.join(REASONING_EFFORTS)}.", param=where
                )
            out[name] = given
            continue
        kind, low, high, exclusive = _HYPER[name]
        if kind == "bool":
            if not isinstance(given, bool):
                raise InvalidRequest(f"'{where}' must be a boolean; got {given!r}.", param=where)
            out[name] = given
            continue
        if kind == "int":
            as_int = _as_int(given)
            ok = as_int is not None
            given = as_int if as_int is not None else given
        else:
            ok = _is_number(given)
        if ok:
            number = float(given)
            ok = (number > low if exclusive else number >= low) and (high is None or number <= high)
        if not ok:
            bound = f"> {low:g}" if exclusive else f">= {low:g}"
            upper = f" and <= {high:g}" if high is not None else ""
            kind_name = "an integer" if kind == "int" else "a number"
            raise InvalidRequest(
                f"'{where}' must be \"auto\" or {kind_name} {bound}{upper}; got {given!r}.",
                param=where,
            )
        out[name] = given
    return out


def _optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{key}' must be a non-empty string or null.", param=key)
    return value


def _check_metadata(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("'metadata' must be an object of strings.", param="metadata")
    if len(value) > 16:
        raise InvalidRequest("'metadata' may hold at most 16 pairs.", param="metadata")
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > 64:
            raise InvalidRequest(
                "Metadata keys must be strings of at most 64 characters.", param="metadata"
            )
        if not isinstance(item, str) or len(item) > 512:
            raise InvalidRequest(
                f"Metadata value for '{key}' must be a string of at most 512 characters.",
                param=f"metadata.{key}",
            )
    return dict(value)


def _check_integrations(value: object) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 5:
        raise InvalidRequest("'integrations' must be a list of at most 5.", param="integrations")
    for index, item in enumerate(value):
        where = f"integrations[{index}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise InvalidRequest(f"'{where}.type' must be 'wandb'.", param=f"{where}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise InvalidRequest(
                f"'{where}.wandb.project' is required.", param=f"{where}.wandb.project"
            )
        unknown = set(item) - {"type", "wandb"}
        unknown |= set(wandb) - {"project", "name", "entity", "tags"}
        if unknown:
            raise InvalidRequest(f"Unrecognized key in {where}: {sorted(unknown)[0]}", param=where)
    return [dict(item) for item in value]


def _hyper_keys(flavor: Flavor, method_type: str) -> tuple[str, ...]:
    """A method's hyperparameters on the flavor's host: its row's for supervised jobs, and for
    a DPO job on a host with its own (Together), its row's and `beta`."""
    host = flavor.host
    if method_type == "supervised":
        return host.hyperparameters
    extra = OWN_METHOD_HYPERPARAMETERS.get(method_type)
    if extra is not None and host.hyperparameters != hosts.OPENAI_HYPERPARAMETERS:
        return (*host.hyperparameters, *extra)
    return _HYPER_KEYS[method_type]


def _check_extras(body: dict[str, Any], flavor: Flavor) -> dict[str, Any]:
    """The host's own top-level fields; a training tier must be one of the host's (any case)."""
    host = flavor.host
    extras = {key: body[key] for key in host.create_fields if body.get(key) is not None}
    tier = extras.get("trainingType")
    if tier is not None and (not isinstance(tier, str) or hosts.training_type(host, tier) is None):
        raise InvalidRequest(
            f"'trainingType' must be one of {', '.join(host.training_types)} (any case); "
            f"got {tier!r}.",
            param="trainingType",
        )
    tags = extras.get("tags")
    if tags is not None and not (
        isinstance(tags, str) or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))
    ):
        raise InvalidRequest("'tags' must be a string or a list of strings.", param="tags")
    if "from_checkpoint" in extras and not isinstance(extras["from_checkpoint"], dict):
        raise InvalidRequest("'from_checkpoint' must be an object.", param="from_checkpoint")
    return extras


def _check_suffix(suffix: object, host: hosts.Host) -> None:
    if suffix is None:
        return
    if not host.suffix_max:
        raise InvalidRequest("'suffix' is not supported.", param="suffix")
    if not isinstance(suffix, str) or not 1 <= len(suffix) <= host.suffix_max:
        raise InvalidRequest(
            f"'suffix' must be a string of 1 to {host.suffix_max} characters.", param="suffix"
        )
    bad = sorted({c for c in suffix if c in host.suffix_forbidden})
    if bad:
        raise InvalidRequest(
            f"'suffix' may not contain {' '.join(repr(c) for c in bad)}.", param="suffix"
        )


#: Amazon Bedrock's grader: an AWS Lambda function (simulated: never invoked, see `flavors`).
LAMBDA = ("lambda",)


def _check_lambda_grader(grader: dict[str, Any]) -> None:
    inner = grader.get("lambda")
    function = inner.get("function") if isinstance(inner, dict) else None
    if not isinstance(function, str) or not hosts.LAMBDA_ARN.fullmatch(function):
        raise InvalidRequest(
            "'method.reinforcement.grader.lambda.function' must be the ARN of an AWS Lambda "
            "function.",
            param="method.reinforcement.grader.lambda.function",
        )


def parse_create_job(body: object, flavor: Flavor = OPENAI) -> JobRequest:
    """Validate a ``POST /fine_tuning/jobs`` body; InvalidRequest names the bad ``param``."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    allowed = TOP_LEVEL_KEYS | set(flavor.host.create_fields)
    for key in body:
        if key not in allowed:
            raise InvalidRequest(f"Unrecognized request argument supplied: {key}", param=key)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("Missing required parameter: 'model'.", param="model")
    training_file = body.get("training_file")
    if not isinstance(training_file, str) or not training_file:
        raise InvalidRequest("Missing required parameter: 'training_file'.", param="training_file")
    validation_file = _optional_string(body, "validation_file")
    suffix = body.get("suffix")
    _check_suffix(suffix, flavor.host)
    extras = _check_extras(body, flavor)
    seed = body.get("seed")
    if seed is not None:
        seed = _as_int(seed)
    if body.get("seed") is not None and (seed is None or not 0 <= seed <= SEED_MAX):
        raise InvalidRequest(f"'seed' must be an integer from 0 to {SEED_MAX}.", param="seed")
    metadata = _check_metadata(body.get("metadata"))
    integrations = _check_integrations(body.get("integrations"))

    method = body.get("method")
    grader: dict[str, Any] | None = None
    if method is None:
        method_type = "supervised"
        hyper = _check_hyperparameters(
            body.get("hyperparameters"), _hyper_keys(flavor, "supervised"), "hyperparameters"
        )
    else:
        if not isinstance(method, dict):
            raise InvalidRequest("'method' must be an object.", param="method")
        method_type = str(method.get("type"))
        methods = [m for m in METHOD_TYPES if m in flavor.host.methods]
        if method_type not in methods:
            raise InvalidRequest(
                f"'method.type' must be one of {', '.join(methods)}.", param="method.type"
            )
        for key in method:
            if key not in ("type", method_type):
                raise InvalidRequest(
                    f"Unrecognized key in method: '{key}' (method.type is '{method_type}').",
                    param=f"method.{key}",
                )
        detail = method.get(method_type)
        if detail is None:
            detail = {}
        if not isinstance(detail, dict):
            raise InvalidRequest(f"'method.{method_type}' must be an object.", param="method")
        allowed_keys = (
            {"hyperparameters"}
            | ({"grader"} if method_type == "reinforcement" else set())
            | set(flavor.host.method_fields.get(method_type, ()))
        )
        for key in detail:
            if key not in allowed_keys:
                raise InvalidRequest(
                    f"Unrecognized key in method.{method_type}: '{key}'.",
                    param=f"method.{method_type}.{key}",
                )
        hyper = _check_hyperparameters(
            detail.get("hyperparameters"),
            _hyper_keys(flavor, method_type),
            f"method.{method_type}.hyperparameters",
        )
        legacy = body.get("hyperparameters")
        if legacy is not None:
            if method_type != "supervised":
                raise InvalidRequest(
                    "Top-level 'hyperparameters' only applies to supervised jobs; "
                    "use method.{type}.hyperparameters.",
                    param="hyperparameters",
                )
            hyper = {
                **_check_hyperparameters(
                    legacy, _hyper_keys(flavor, "supervised"), "hyperparameters"
                ),
                **hyper,
            }
        if method_type == "reinforcement":
            grader_value = detail.get("grader")
            if not isinstance(grader_value, dict) or not isinstance(grader_value.get("type"), str):
                raise InvalidRequest(
                    "'method.reinforcement.grader' is required and must have a 'type'.",
                    param="method.reinforcement.grader",
                )
            grader = dict(grader_value)
            if (flavor.graders is None and grader["type"] in LAMBDA) or (
                flavor.graders is not None and grader["type"] not in flavor.graders
            ):
                takes = ", ".join(flavor.graders or ()) or "OpenAI's grader types"
                raise InvalidRequest(
                    f"Grader type '{grader['type']}' is not supported; use one of {takes}.",
                    param="method.reinforcement.grader.type",
                )
            if grader["type"] in LAMBDA:
                _check_lambda_grader(grader)
    return JobRequest(
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        suffix=suffix,
        seed=seed,
        metadata=metadata,
        integrations=integrations,
        method_type=str(method_type),
        hyperparameters=hyper,
        grader=grader,
        extras=extras,
    )


def resolve_hyperparameters(
    method_type: str, given: dict[str, Any], n_examples: int, flavor: Flavor = OPENAI
) -> dict[str, Any]:
    """Every hyperparameter of the method with "auto" replaced by the number the job uses."""
    defaults: dict[str, Any] = {
        "batch_size": max(1, min(256, round(n_examples * 0.002))),
        "learning_rate_multiplier": 1.8,
        "n_epochs": estimate_epochs(n_examples),
        "beta": 0.1,
        "reasoning_effort": "medium",
        "compute_multiplier": 1.0,
        "eval_interval": 1,
        "eval_samples": 1,
        **flavor.hyperparameter_defaults,
    }
    resolved: dict[str, Any] = {}
    for name in _hyper_keys(flavor, method_type):
        value = given.get(name, "auto")
        if value == "auto" or (name == "reasoning_effort" and value == "default"):
            value = defaults[name]
        resolved[name] = value
    return resolved
