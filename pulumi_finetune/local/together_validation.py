"""Checks a `POST /fine-tunes` body against Together AI's create schema (togethercomputer/openapi
`openapi.yaml`, commit 090263a) for the local endpoint's `together` flavor, into the store's
request: its fields and their kinds (an undocumented field is refused), `training_method`
(sft | dpo), `training_type` (Full | Lora, which needs `lora_r` and `lora_alpha`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import errors
from .flavors import Flavor
from .validation import SEED_MAX, JobRequest

JSON = dict[str, Any]

# The create body's fields (its schema), by kind; `training_method` and `training_type` apart.
_INTEGERS = ("n_epochs", "n_checkpoints", "n_evals", "max_seq_length", "random_seed")
_NUMBERS = ("learning_rate", "warmup_ratio", "max_grad_norm", "weight_decay")
_STRINGS = (
    "training_file",
    "validation_file",
    "model",
    "suffix",
    "wandb_api_key",
    "wandb_base_url",
    "wandb_project_name",
    "wandb_name",
    "wandb_entity",
    "from_checkpoint",
    "from_hf_model",
    "hf_model_revision",
    "hf_api_token",
    "hf_output_repo_name",
)
_OBJECTS = ("lr_scheduler", "multimodal_params")
_FIELDS = frozenset(
    {
        *_INTEGERS,
        *_NUMBERS,
        *_STRINGS,
        *_OBJECTS,
        "packing",
        "batch_size",
        "train_on_inputs",
        "training_method",
        "training_type",
    }
)


def _kind(value: object, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, float) and int in kinds and float not in kinds:
        return value.is_integer()
    return isinstance(value, kinds) and (not isinstance(value, float) or math.isfinite(value))


def _check_types(body: Mapping[str, Any]) -> None:
    for key in body:
        if key not in _FIELDS:
            raise errors.InvalidRequest(f"Unrecognized request argument supplied: {key}", param=key)
    checks: list[tuple[tuple[str, ...], tuple[type, ...], str]] = [
        (_INTEGERS, (int,), "an integer"),
        (_NUMBERS, (int, float), "a number"),
        (_STRINGS, (str,), "a string"),
        (_OBJECTS, (dict,), "an object"),
        (("packing",), (bool,), "a boolean"),
    ]
    for names, kinds, noun in checks:
        for name in names:
            value = body.get(name)
            if value is not None and not _kind(value, kinds):
                raise errors.InvalidRequest(f"'{name}' must be {noun}.", param=name)
    batch = body.get("batch_size")
    if batch is not None and batch != "max" and not (_kind(batch, (int,)) and batch >= 1):
        raise errors.InvalidRequest(
            "'batch_size' must be a positive integer or \"max\".", param="batch_size"
        )
    seed = body.get("random_seed")
    if seed is not None and not 0 <= int(seed) <= SEED_MAX:
        raise errors.InvalidRequest(
            f"'random_seed' must be from 0 to {SEED_MAX}.", param="random_seed"
        )


def _training_method(body: Mapping[str, Any]) -> tuple[str, JSON]:
    """(method type in the store's words, its hyperparameters) of `training_method`."""
    method = body.get("training_method")
    if method is None:
        return "supervised", {}
    if not isinstance(method, dict) or method.get("method") not in ("sft", "dpo"):
        raise errors.InvalidRequest(
            "'training_method.method' must be 'sft' or 'dpo'.", param="training_method.method"
        )
    if method["method"] == "sft":
        allowed = {"method", "train_on_inputs"}
        inputs = method.get("train_on_inputs", "auto")
        if not (isinstance(inputs, bool) or inputs == "auto"):
            raise errors.InvalidRequest(
                "'training_method.train_on_inputs' must be a boolean or \"auto\".",
                param="training_method.train_on_inputs",
            )
        hyper: JSON = {} if inputs == "auto" else {"train_on_inputs": inputs}
    else:
        allowed = {
            "method",
            "dpo_beta",
            "rpo_alpha",
            "dpo_normalize_logratios_by_length",
            "dpo_reference_free",
            "simpo_gamma",
        }
        beta = method.get("dpo_beta")
        if beta is not None and not (_kind(beta, (int, float)) and beta > 0):
            raise errors.InvalidRequest(
                "'training_method.dpo_beta' must be a positive number.",
                param="training_method.dpo_beta",
            )
        hyper = {} if beta is None else {"beta": beta}
    for key in method:
        if key not in allowed:
            raise errors.InvalidRequest(
                f"Unrecognized key in training_method: '{key}'.", param=f"training_method.{key}"
            )
    return ("supervised" if method["method"] == "sft" else "dpo"), hyper


def _training_type(body: Mapping[str, Any]) -> JSON:
    """The LoRA hyperparameters of `training_type` (`Full`: lora false; absent: LoRA)."""
    kind = body.get("training_type")
    if kind is None:
        return {}
    if not isinstance(kind, dict) or kind.get("type") not in ("Full", "Lora"):
        raise errors.InvalidRequest(
            "'training_type.type' must be 'Full' or 'Lora'.", param="training_type.type"
        )
    if kind["type"] == "Full":
        return {"lora": False}
    hyper: JSON = {"lora": True}
    for name, kinds, required in (
        ("lora_r", (int,), True),
        ("lora_alpha", (int,), True),
        ("lora_dropout", (int, float), False),
        ("lora_trainable_modules", (str,), False),
    ):
        value = kind.get(name)
        if value is None:
            if required:
                raise errors.InvalidRequest(
                    f"Missing required parameter: 'training_type.{name}'.",
                    param=f"training_type.{name}",
                )
            continue
        if not _kind(value, kinds):
            raise errors.InvalidRequest(
                f"'training_type.{name}' has the wrong type.", param=f"training_type.{name}"
            )
        hyper[name] = value
    return hyper


def parse_create_job(body: JSON, flavor: Flavor) -> JobRequest:
    """Validate a `POST /fine-tunes` body against Together's create schema into the store's
    request (the store checks model and files as for every flavor)."""
    _check_types(body)
    for required in ("training_file", "model"):
        if not body.get(required):
            raise errors.InvalidRequest(
                f"Missing required parameter: '{required}'.", param=required
            )
    suffix = body.get("suffix")
    limit = flavor.host.suffix_max
    if suffix is not None and not 1 <= len(suffix) <= limit:
        raise errors.InvalidRequest(
            f"'suffix' must be a string of 1 to {limit} characters.", param="suffix"
        )
    method_type, hyper = _training_method(body)
    hyper.update(_training_type(body))
    names = (*_INTEGERS[:-1], *_NUMBERS, "packing")  # every method's, flat
    hyper.update({k: body[k] for k in names if body.get(k) is not None})
    if body.get("batch_size") not in (None, "max"):
        hyper["batch_size"] = int(body["batch_size"])
    seed = body.get("random_seed")
    return JobRequest(
        model=str(body["model"]),
        training_file=str(body["training_file"]),
        validation_file=body.get("validation_file"),
        suffix=suffix,
        seed=None if seed is None else int(seed),
        metadata=None,
        integrations=None,
        method_type=method_type,
        hyperparameters=hyper,
        grader=None,
        extras={},
    )
