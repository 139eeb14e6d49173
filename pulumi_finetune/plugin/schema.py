"""The plugin's Pulumi package schema, generated from the resources' tables (`schema.py`).

Each table becomes a resource `finetune:index:<Table.resource>`: its arguments
(`Table.arguments`: request fields and provider options) are the input properties, its outputs
and arguments the properties, under Pulumi's camelCase names, with each row's doc as the
description and the table's secret outputs marked secret. Internal inputs are not in the
schema: the plugin computes them itself.

A row's type comes from, in order: OpenAI's JSON Schema of the field (`schemas/`: the
create-job request for API arguments, the job or file object for API outputs); the Python type
of its default or `absent` value; `TYPES` below (rows that say neither); else `Any`. Nested
objects are open maps (`method`, `hyperparameters` keep OpenAI's shapes as written). So a new
row appears in the schema without an edit here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .. import settings
from .._version import __version__
from ..prices import CONFIG_NAME as PRICES_CONFIG
from ..schema import FINE_TUNING_JOB, TRAINING_FILE, Attribute, Kind, Source, Table
from .values import camel

PACKAGE = "finetune"
TABLES: tuple[Table, ...] = (FINE_TUNING_JOB, TRAINING_FILE)
ANY: dict[str, Any] = {"$ref": "pulumi.json#/Any"}

# OpenAI's schemas of each resource: (the create request, the object the API answers).
_OPENAI: dict[str, tuple[str | None, str]] = {
    "FineTuningJob": ("fine_tuning_job_create.json", "fine_tuning_job.json"),
    "TrainingFile": (None, "file.json"),
}

# Rows whose type neither OpenAI's schema nor a default value tells.
TYPES: dict[str, str] = {
    "adopt_job_id": "string",
    "base_url": "string",
    "organization": "string",
    "project": "string",
    "estimated_epochs": "integer",
    "estimated_billed_tokens": "integer",
    "estimated_cost_usd": "number",
    "price_date": "string",
    "estimated_cost_note": "string",
    "spec": "object",
    "path": "string",
    "format": "string",
    "model": "string",
    "sha256": "string",
    "example_count": "integer",
    "total_tokens": "integer",
    "max_example_tokens": "integer",
    "billed_tokens_per_epoch": "integer",
    "default_epochs": "integer",
    "tokenizer": "string",
}

# Arguments a program must set that OpenAI's schema does not name (check says so too).
REQUIRED: dict[str, tuple[str, ...]] = {"TrainingFile": ("path",)}

# Stack config `finetune:<name>` the provider reads (the key secret).
CONFIG_TYPES: dict[str, dict[str, Any]] = {
    **{name: {"type": "string"} for name in settings.CONFIG_NAMES},
    PRICES_CONFIG: {"type": "object", "additionalProperties": {"type": "number"}},
}
CONFIG_DOCS: dict[str, str] = {
    "apiKey": "API key (else OPENAI_API_KEY); set with `pulumi config set --secret`",
    "baseUrl": "the endpoint (else OPENAI_BASE_URL, else https://api.openai.com/v1)",
    "organization": "OpenAI organization header (else OPENAI_ORG_ID)",
    "project": "OpenAI project header (else OPENAI_PROJECT_ID)",
    PRICES_CONFIG: "training prices by model, USD per 1M tokens, overriding the dated table",
}


def token(table: Table) -> str:
    return f"{PACKAGE}:index:{table.resource}"


@cache
def _openai(filename: str) -> dict[str, Any]:
    text = resources.files("pulumi_finetune.schemas").joinpath(filename).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _from_json_schema(node: Any, defs: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A Pulumi type for a JSON Schema node: scalars as they are, arrays of their items, objects
    as open maps (of strings where the schema says so), anything else `Any`."""
    if not isinstance(node, dict) or depth > 4:
        return dict(ANY)
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _from_json_schema(defs.get(ref.removeprefix("#/$defs/")), defs, depth + 1)
    options = node.get("anyOf") or node.get("oneOf")
    if isinstance(options, list):
        real = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
        return _from_json_schema(real[0], defs, depth + 1) if len(real) == 1 else dict(ANY)
    kind = node.get("type")
    if kind in ("string", "integer", "number", "boolean"):
        return {"type": kind}
    if kind == "array":
        return {"type": "array", "items": _from_json_schema(node.get("items"), defs, depth + 1)}
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra.get("type") == "string":
            return {"type": "object", "additionalProperties": {"type": "string"}}
        return {"type": "object", "additionalProperties": dict(ANY)}
    return dict(ANY)


def _from_value(value: Any) -> dict[str, Any] | None:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": dict(ANY)}
    if isinstance(value, dict):
        return {"type": "object", "additionalProperties": dict(ANY)}
    return None


def type_of(table: Table, attr: Attribute) -> dict[str, Any]:
    """The Pulumi type of one row (see the module's docstring for the order)."""
    request, answer = _OPENAI.get(table.resource, (None, ""))
    sources: list[str] = []
    if attr.kind is Kind.API and request:
        sources.append(request)
    if attr.output is Source.API and answer:
        sources.append(answer)
    for filename in sources:
        document = _openai(filename)
        node = document.get("properties", {}).get(attr.api_field)
        if node is not None:
            return _from_json_schema(node, document.get("$defs", {}))
    for value in (attr.default, attr.absent):
        found = _from_value(value)
        if found is not None:
            return found
    named = TYPES.get(attr.name)
    if named == "object":
        return {"type": "object", "additionalProperties": dict(ANY)}
    if named is not None:
        return {"type": named}
    return dict(ANY)


def _property(table: Table, attr: Attribute) -> dict[str, Any]:
    spec = {**type_of(table, attr), "description": attr.doc}
    if attr.secret:
        spec["secret"] = True
    if attr.default is not None and attr.kind is not Kind.OUTPUT:
        spec["default"] = attr.default
    return spec


def arguments(table: Table) -> tuple[Attribute, ...]:
    """What a program may set: the table's arguments (its `...Args` fields in Python)."""
    return tuple(table[name] for name in table.arguments)


def state(table: Table) -> tuple[Attribute, ...]:
    """What the resource records: its arguments and its outputs."""
    return tuple(a for a in table.attributes if a.kind is not Kind.INTERNAL)


def required(table: Table) -> list[str]:
    request, _ = _OPENAI.get(table.resource, (None, ""))
    names = set(REQUIRED.get(table.resource, ()))
    if request:
        names.update(_openai(request).get("required", []))
    return [camel(a.name) for a in arguments(table) if a.api_field in names or a.name in names]


def resource_schema(table: Table) -> dict[str, Any]:
    doc = (
        f"{table.resource} of pulumi-finetune (see its README). Arguments named in OpenAI's API "
        "keep the API's nested shapes."
    )
    return {
        "description": doc,
        "type": "object",
        "properties": {camel(a.name): _property(table, a) for a in state(table)},
        "inputProperties": {camel(a.name): _property(table, a) for a in arguments(table)},
        "requiredInputs": required(table),
    }


def package_schema() -> dict[str, Any]:
    config = {
        name: {**spec, "description": CONFIG_DOCS.get(name, name)}
        | ({"secret": True} if name in settings.SECRET_CONFIG_NAMES else {})
        for name, spec in CONFIG_TYPES.items()
    }
    return {
        "name": PACKAGE,
        "displayName": "pulumi-finetune",
        "version": __version__,
        "description": "OpenAI fine-tuning jobs and training files (pulumi-finetune's plugin)",
        "keywords": ["openai", "fine-tuning", "category/ai"],
        "config": {"variables": config},
        "provider": {
            "description": "The finetune provider: the stack's `finetune:*` config.",
            "type": "object",
            "inputProperties": config,
        },
        "resources": {token(table): resource_schema(table) for table in TABLES},
        "types": {},
        "functions": {},
        "language": {
            "nodejs": {"packageName": "@pulumi-finetune/finetune"},
            "python": {"packageName": "pulumi_finetune_plugin_sdk"},
        },
    }
