"""Validates JSON response bodies against the response schemas in OpenAI's OpenAPI description.

The description is a copy, in ``data/``, of ``openai-finetuning-openapi.facts.json`` from
``shared/reference`` beside the repository (OpenAI's openapi.json with prose removed; MIT, see
``data/README.md``), so these checks run wherever the tests do. It is OpenAPI 3.0, so it is
converted to JSON Schema 2020-12 first: ``nullable`` becomes a null branch,
boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers, and every object schema that
lists ``properties`` without saying anything about ``additionalProperties`` is closed
(``additionalProperties: false``), so only the schema's own open spots (``metadata``, event
``data``) accept unknown fields. Documented deviations, each from api-notes.md:

* ``FineTuningJob.status`` may be ``paused`` (pause returns it; the enum predates pause).
* list ``first_id``/``last_id`` are null on an empty page (as the checkpoints list declares).
* ``OpenAIFile.purpose`` may be ``evals``: ``CreateFileRequest`` accepts it, the response enum
  predates it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).resolve().parent / "data" / "openai-finetuning-openapi.facts.json"
# Where the copy comes from; only a test comparing the two reads it.
REFERENCE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
BASE_URI = "urn:openai-finetuning"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (see the module docstring)."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _convert(value) for key, value in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if out.get(bound) is True:
            out[bound] = out.pop(limit)
        elif out.get(bound) is False:
            del out[bound]
    out.pop("format", None)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass
class Operation:
    method: str
    pattern: re.Pattern[str]
    template: str
    schema_ref: str | None


@dataclass
class Checker:
    """Validates response bodies; ``checked`` counts them, ``violations`` keeps every failure."""

    document: dict[str, Any]
    operations: list[Operation]
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(schema, registry=self._registry)

    def check(self, method: str, url: str, status: int, content_type: str, body: bytes) -> None:
        path = urlsplit(url).path
        if "/v1/" not in path or "json" not in content_type.lower():
            return
        path = "/" + path.split("/v1/", 1)[1]
        where = f"{method} {path} -> {status}"
        try:
            data = json.loads(body)
        except ValueError as exc:
            self.violations.append(f"{where}: body is not JSON ({exc})")
            return
        if status >= 400:
            schema: dict[str, Any] = ERROR_SCHEMA
        else:
            op = next(
                (o for o in self.operations if o.method == method and o.pattern.fullmatch(path)),
                None,
            )
            if op is None or op.schema_ref is None:
                self.violations.append(f"{where}: no response schema for this operation")
                return
            schema = {"$ref": f"{BASE_URI}{op.schema_ref}"}
        self.checked += 1
        for error in self._validator(schema).iter_errors(data):
            location = "/".join(str(p) for p in error.absolute_path)
            self.violations.append(f"{where}: at '{location}': {error.message}")


def load_checker() -> Checker:
    """A checker for the description in ``data/``."""
    raw = json.loads(SPEC.read_text())
    document = _convert(copy.deepcopy(raw))
    schemas = document["components"]["schemas"]
    # Deviations documented in the module docstring.
    job_status = schemas["FineTuningJob"]["properties"]["status"]
    job_status["enum"] = [*job_status["enum"], "paused"]
    file_purpose = schemas["OpenAIFile"]["properties"]["purpose"]
    file_purpose["enum"] = [*file_purpose["enum"], "evals"]
    for name in ("ListFilesResponse",):
        for key in ("first_id", "last_id"):
            schemas[name]["properties"][key] = {"type": ["string", "null"]}
    operations = []
    for template, item in document["paths"].items():
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            content = op["responses"].get("200", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            ref = schema.get("$ref")
            operations.append(Operation(method.upper(), re.compile(regex), template, ref))
    return Checker(document=document, operations=operations)
