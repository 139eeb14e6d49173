"""The fine-tuning job spec: which inputs reach the API, validation, normalisation, hashing.

Validation uses the JSON Schema in `schemas/fine_tuning_job_create.json`, derived from OpenAI's
OpenAPI description by `scripts/derive_schemas.py`, plus the rules OpenAI states only in prose.
What differs by host (its own fields, hyperparameters and methods, its suffix rules) is checked
by `host_failures` from the host's row in `pulumi_finetune.hosts`, never by loosening OpenAI's
schema: a host's own hyperparameters are taken out of the schema's view and checked against
the row. Every failure names the property path and what the value must be (and the host).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pulumi.output import Unknown

from . import hosts, shapes
from .schema import FINE_TUNING_JOB

if TYPE_CHECKING:
    import jsonschema

# Every field of OpenAI's create-job request, from the resource's table.
API_FIELDS = FINE_TUNING_JOB.api_fields
# And the host fields the request is also made from (training_type, extra_body).
HOST_FIELDS = FINE_TUNING_JOB.host_fields
REQUEST_FIELDS = FINE_TUNING_JOB.request_fields
EXTRA_BODY = "extra_body"

# The provider's own bookkeeping in the job's metadata, used to find a job whose create
# response was lost. It takes one of the 16 metadata slots.
MARKER_KEY = "pulumi_finetune"
MAX_USER_METADATA = 16 - 1
# And, where a slot is left, the stack instance's own marker: one filtered listing then finds
# every marked job of the stack (the plugin lists them once per process).
STACK_KEY = "pulumi_finetune_stack"

METHOD_TYPES = ("supervised", "dpo", "reinforcement")

# Values not known during preview arrive as pulumi.output.Unknown, or (older SDKs) this string.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    # Imported here: the program side imports this module, and only check validates.
    import jsonschema

    text = resources.files("pulumi_finetune").joinpath("schemas/fine_tuning_job_create.json")
    return jsonschema.Draft202012Validator(json.loads(text.read_text()))


def is_unknown(value: Any) -> bool:
    """Whether a value (or anything inside it) is not known yet, as during preview."""
    if _is_sentinel(value):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def _strip_unknown(value: Any) -> Any:
    """Drop values not known yet: they are checked when they are known."""
    if isinstance(value, Mapping):
        return {k: _strip_unknown(v) for k, v in value.items() if not _is_sentinel(v)}
    if isinstance(value, list | tuple):
        return [_strip_unknown(v) for v in value if not _is_sentinel(v)]
    return value


def _integral(value: Any) -> Any:
    """Whole floats as integers, recursively: Pulumi carries every number as a double, so a
    declared `seed=-1` arrives as -1.0; checked (and reported) as the user wrote it."""
    if isinstance(value, Mapping):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_integral(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_sentinel(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def normalize(value: Any) -> Any:
    """Drop `None` and empty containers, recursively, so equal specs compare and hash equal."""
    if isinstance(value, Mapping):
        out = {}
        for key in sorted(value):
            item = normalize(value[key])
            if item is not None and item != {} and item != []:
                out[key] = item
        return out
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # Pulumi carries every number as a double: 3 arrives as 3.0, which the API's integer
        # fields reject. JSON does not tell 2.0 from 2, so nothing is lost.
        return int(value)
    return value


def api_spec(props: Mapping[str, Any], fields: Sequence[str] = API_FIELDS) -> dict[str, Any]:
    """The normalised request body the user declared (no provider options, no marker)."""
    result: dict[str, Any] = normalize({k: props.get(k) for k in fields})
    return result


def wire_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The create request as sent: OpenAI's fields as declared, each host field under its API
    name (`training_type` as `trainingType`), and `extra_body`'s fields verbatim."""
    body = {k: v for k, v in spec.items() if k not in HOST_FIELDS}
    for name in HOST_FIELDS:
        value = spec.get(name)
        if value is None:
            continue
        if name == EXTRA_BODY and isinstance(value, Mapping):
            body.update(value)
        else:
            body[FINE_TUNING_JOB[name].api_field] = value
    return body


def spec_hash(spec: Mapping[str, Any]) -> str:
    canonical = json.dumps(normalize(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(schema: Mapping[str, Any]) -> str:
    """What a value must be, in words, e.g. '"auto" or an integer from 1 to 50'."""
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [describe(s) for s in schema[key] if s.get("type") != "null"]
            return " or ".join(dict.fromkeys(options))
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"a {name} object"
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    noun = {"integer": "an integer", "number": "a number", "string": "a string"}.get(
        str(kind), f"a value of type {kind}" if kind else "a valid value"
    )
    bounds = []
    if "minimum" in schema and "maximum" in schema:
        return f"{noun} from {schema['minimum']} to {schema['maximum']}"
    if "exclusiveMinimum" in schema:
        bounds.append(f"greater than {schema['exclusiveMinimum']}")
    elif "minimum" in schema:
        bounds.append(f"at least {schema['minimum']}")
    if "exclusiveMaximum" in schema:
        bounds.append(f"less than {schema['exclusiveMaximum']}")
    elif "maximum" in schema:
        bounds.append(f"at most {schema['maximum']}")
    if "minLength" in schema and "maxLength" in schema:
        bounds.append(f"of {schema['minLength']} to {schema['maxLength']} characters")
    elif "maxLength" in schema:
        bounds.append(f"of at most {schema['maxLength']} characters")
    elif schema.get("minLength") == 1:
        noun = "a non-empty string"
    return " ".join([noun, " and ".join(bounds)]).strip()


def _schema_failures(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for error in sorted(_validator().iter_errors(spec), key=lambda e: list(map(str, e.path))):
        path = _path(error.absolute_path)
        value = error.instance
        if error.validator == "additionalProperties":
            known = ", ".join(sorted(error.schema.get("properties", {})))
            for extra in sorted(set(value) - set(error.schema.get("properties", {}))):
                where = f"{path}.{extra}" if path else extra
                yield where, f"unknown property {extra!r}; known properties: {known}"
        elif error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            where = f"{path}.{missing}" if path else missing
            yield where, "is required"
        elif error.validator == "maxProperties":
            yield path, f"has {len(value)} entries; at most {error.validator_value} are allowed"
        elif error.validator in ("propertyNames",):
            yield path, error.message
        else:
            yield path or "(root)", f"got {json.dumps(value)}; must be {describe(error.schema)}"


def _metadata_failures(metadata: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(metadata, Mapping):
        return
    for reserved in (MARKER_KEY, STACK_KEY):
        if reserved in metadata:
            yield f"metadata.{reserved}", "is reserved for pulumi-finetune's own bookkeeping"
    if len(metadata) > MAX_USER_METADATA:
        yield (
            "metadata",
            (
                f"has {len(metadata)} pairs; at most {MAX_USER_METADATA} are allowed "
                f"(OpenAI allows 16 and pulumi-finetune uses one, {MARKER_KEY!r}, to recognise "
                "its own jobs)"
            ),
        )
    for key, value in metadata.items():
        if len(key) > 64:
            yield f"metadata.{key[:20]}…", f"key has {len(key)} characters; at most 64 are allowed"
        if isinstance(value, str) and len(value) > 512:
            yield f"metadata.{key}", f"value has {len(value)} characters; at most 512 are allowed"


def _method_failures(method: Any, spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if not isinstance(method, Mapping):
        return
    kind = method.get("type")
    if kind in METHOD_TYPES:
        for other in METHOD_TYPES:
            if other != kind and other in method:
                yield (
                    f"method.{other}",
                    (
                        f"is set but method.type is {kind!r}: put the settings under method.{kind} "
                        f"or set method.type to {other!r}"
                    ),
                )
        if kind == "reinforcement" and "reinforcement" not in method:
            yield (
                "method.reinforcement",
                "is required when method.type is 'reinforcement' (it holds the grader)",
            )
    if spec.get("hyperparameters") is not None:
        yield (
            "hyperparameters",
            (
                "is deprecated and cannot be combined with method: move it to "
                f"method.{kind if kind in METHOD_TYPES else 'supervised'}.hyperparameters"
            ),
        )


# Every hyperparameter any host takes for supervised training: a name one host takes and another
# does not is refused naming the host (and the rate it takes instead), not as an unknown property.
_ANY_HOSTS_HYPERPARAMETERS = frozenset(n for h in hosts.HOSTS for n in h.hyperparameters)
# The kind of each hyperparameter a host takes beyond OpenAI's (OpenAI's schema checks those).
HYPERPARAMETER_KINDS: dict[str, tuple[type, ...]] = {
    "n_epochs": (int,),
    "batch_size": (int,),
    "learning_rate": (int, float),
    "warmup_ratio": (int, float),
    "weight_decay": (int, float),
    "max_grad_norm": (int, float),
    "lora_dropout": (int, float),
    "context_length": (int,),
    "lora_r": (int,),
    "lora_alpha": (int,),
    "packing": (bool,),
    "lora": (bool,),
    # Together AI's (its OpenAPI description)
    "n_checkpoints": (int,),
    "n_evals": (int,),
    "max_seq_length": (int,),
    "train_on_inputs": (bool,),
    "lora_trainable_modules": (str,),
    "beta": (int, float),
}


def _supervised_hyperparameters(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, hyperparameters) of a supervised job: top-level, and under method.supervised."""
    top = spec.get("hyperparameters")
    if isinstance(top, Mapping):
        yield "hyperparameters", top
    method = spec.get("method")
    if isinstance(method, Mapping) and method.get("type", "supervised") == "supervised":
        inner = (method.get("supervised") or {}) if isinstance(method, Mapping) else {}
        hyper = inner.get("hyperparameters") if isinstance(inner, Mapping) else None
        if isinstance(hyper, Mapping):
            yield "method.supervised.hyperparameters", hyper


#: A method whose hyperparameters, on a host with its own (its row's), are the host's plus these.
OWN_METHOD_HYPERPARAMETERS: dict[str, tuple[str, ...]] = {"dpo": ("beta",)}


def _own_hyperparameters(
    spec: Mapping[str, Any], host: hosts.Host
) -> Iterator[tuple[str, Mapping[str, Any], tuple[str, ...]]]:
    """(path, hyperparameters, names the host takes there) that the host's row checks: a
    supervised job's and a DPO job's (the row's hyperparameters, and `beta`)."""
    for path, hyper in _supervised_hyperparameters(spec):
        yield path, hyper, host.hyperparameters
    method = spec.get("method")
    if not isinstance(method, Mapping):
        return
    for kind, extra in OWN_METHOD_HYPERPARAMETERS.items():
        inner = method.get(kind) if method.get("type") == kind else None
        own = inner.get("hyperparameters") if isinstance(inner, Mapping) else None
        if kind in host.methods and isinstance(own, Mapping):
            yield f"method.{kind}.hyperparameters", own, (*host.hyperparameters, *extra)


def _schema_view(spec: Mapping[str, Any], host: hosts.Host) -> dict[str, Any]:
    """`spec` as OpenAI's schema sees it: what is the host's own (supervised hyperparameters
    that are not OpenAI's, and a DPO job's on such a host; fields of a method beyond OpenAI's) is
    checked by `host_failures`."""
    view = dict(spec)
    method = view.get("method")
    detail = method.get("reinforcement") if isinstance(method, Mapping) else None
    grader = _grader(detail)
    if grader is not None and grader.get("type") in OWN_GRADERS and isinstance(method, Mapping):
        detail = {k: v for k, v in (detail or {}).items() if k != "grader"}
        method = {**method, "reinforcement": detail}
        view["method"] = method
    for kind, extra in host.method_fields.items():
        if isinstance(method, Mapping) and isinstance(method.get(kind), Mapping):
            method = {**method, kind: {k: v for k, v in method[kind].items() if k not in extra}}
            view["method"] = method
    if host.hyperparameters == hosts.OPENAI_HYPERPARAMETERS:
        return view
    view.pop("hyperparameters", None)
    for kind in ("supervised", *OWN_METHOD_HYPERPARAMETERS):
        if isinstance(method, Mapping) and isinstance(method.get(kind), Mapping):
            inner = {k: v for k, v in method[kind].items() if k != "hyperparameters"}
            method = {**method, kind: inner}
            view["method"] = method
    return view


def host_failures(spec: Mapping[str, Any], host: hosts.Host) -> Iterator[tuple[str, str]]:
    """What `host` (its row in `pulumi_finetune.hosts`) does not take, naming the host: another
    host's hyperparameters or fields, a method it lacks, a suffix it refuses."""
    own = host.hyperparameters != hosts.OPENAI_HYPERPARAMETERS
    for path, hyper, takes in _own_hyperparameters(spec, host):
        for name, value in hyper.items():
            if name in takes:
                kinds = HYPERPARAMETER_KINDS.get(name)
                if (
                    own
                    and kinds
                    and (value != "auto" or name not in (*hosts.OPENAI_HYPERPARAMETERS, "beta"))
                    and (
                        not isinstance(value, kinds)
                        or (bool not in kinds and isinstance(value, bool))
                    )
                ):
                    names = " or ".join(k.__name__ for k in kinds)
                    yield f"{path}.{name}", f"got {json.dumps(value)}; must be a {names}"
            elif own or name in _ANY_HOSTS_HYPERPARAMETERS:
                yield f"{path}.{name}", hosts.refused_hyperparameter(host, name) or ""
    method = spec.get("method")
    method_type = method.get("type") if isinstance(method, Mapping) else None
    detail = method.get(method_type) if isinstance(method, Mapping) and method_type else None
    if isinstance(detail, Mapping):
        takes = host.method_fields.get(str(method_type), ())
        others = {f for h in hosts.HOSTS for f in h.method_fields.get(str(method_type), ())}
        for name in sorted(set(detail) & others - set(takes)):
            takers = " and ".join(
                h.title for h in hosts.HOSTS if name in h.method_fields.get(str(method_type), ())
            )
            yield (
                f"method.{method_type}.{name}",
                f"{host.title} does not take it (only {takers} does)",
            )
        for name in takes:
            if name in detail and not isinstance(detail[name], Mapping):
                yield f"method.{method_type}.{name}", "must be an object"
    if isinstance(method_type, str) and method_type not in host.methods:
        yield (
            "method.type",
            f"{host.title} does not take method {method_type!r}; "
            f"it takes {', '.join(host.methods)}",
        )
    yield from _grader_failures(detail if method_type == "reinforcement" else None, host)
    suffix = spec.get("suffix")
    if suffix is not None and not host.suffix_max:
        yield (
            "suffix",
            f"{host.title} does not take a suffix (its documentation says so): remove it",
        )
    elif isinstance(suffix, str):
        bad = sorted({c for c in suffix if c in host.suffix_forbidden})
        if bad:
            yield "suffix", f"{host.title} does not allow {' '.join(map(repr, bad))} in a suffix"
        if len(suffix) > host.suffix_max:
            yield "suffix", f"{host.title} allows at most {host.suffix_max} characters"
    if spec.get("metadata") and "metadata" not in host.echoes:
        yield (
            "metadata",
            f"{host.title} keeps no metadata on a job (its documented job object has none), so "
            "it would be dropped: remove it",
        )
    tier = spec.get("training_type")
    if tier is not None:
        if not host.training_types:
            tiered = " and ".join(h.title for h in hosts.HOSTS if h.training_types)
            yield "training_type", f"{host.title} has no training tiers (only {tiered} does)"
        elif not isinstance(tier, str) or hosts.training_type(host, tier) is None:
            yield (
                "training_type",
                f"got {json.dumps(tier)}; {host.title} takes "
                f"{', '.join(host.training_types)} (any case)",
            )
    yield from _extra_body_failures(spec.get(EXTRA_BODY), host)


#: OpenAI's grader types (its create schema's `grader` of a reinforcement method).
OPENAI_GRADERS = frozenset(
    {"string_check", "text_similarity", "score_model", "label_model", "python", "multi"}
)
#: Grader types some host takes that are not OpenAI's (checked against the row, not the schema).
OWN_GRADERS = frozenset(g for h in hosts.HOSTS for g in (h.graders or ())) - OPENAI_GRADERS


def _grader(detail: Any) -> Mapping[str, Any] | None:
    grader = detail.get("grader") if isinstance(detail, Mapping) else None
    return grader if isinstance(grader, Mapping) else None


def _grader_failures(detail: Any, host: hosts.Host) -> Iterator[tuple[str, str]]:
    """A reinforcement grader the host does not take, naming the host and the hosts that do;
    a `lambda` grader's shape and ARN."""
    grader = _grader(detail)
    kind = grader.get("type") if grader else None
    if not isinstance(kind, str) or is_unknown(kind):
        return
    path = "method.reinforcement.grader"
    allowed = host.graders
    if (allowed is None and kind in OWN_GRADERS) or (allowed is not None and kind not in allowed):
        takes = ", ".join(allowed) if allowed is not None else "OpenAI's grader types"
        if kind in OPENAI_GRADERS:
            what = f"OpenAI's {kind!r} grader"
        else:
            takers = " and ".join(h.title for h in hosts.HOSTS if kind in (h.graders or ()))
            what = f"a {kind!r} grader" + (f" (only {takers} does)" if takers else "")
        yield f"{path}.type", f"{host.title} does not take {what}; it takes {takes}"
        return
    if kind != "lambda" or grader is None:
        return
    for key in sorted(set(grader) - {"type", "lambda", "name"}):
        yield f"{path}.{key}", "unknown property; a lambda grader is {type, lambda: {function}}"
    inner = grader.get("lambda")
    function = inner.get("function") if isinstance(inner, Mapping) else None
    if is_unknown(function):
        return
    if not isinstance(function, str) or not hosts.LAMBDA_ARN.fullmatch(function):
        yield (
            f"{path}.lambda.function",
            f"got {json.dumps(function)}; must be an AWS Lambda function's ARN, "
            "arn:aws:lambda:REGION:ACCOUNT:function:NAME",
        )


def _extra_body_failures(extra: Any, host: hosts.Host) -> Iterator[tuple[str, str]]:
    """`extra_body` carries what no argument covers (a host's field such as Nebius's `tags`, or
    anything newer than the tables); a field that has an argument is declared there instead,
    where it is checked for the host."""
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        yield EXTRA_BODY, f"got {json.dumps(extra)}; must be an object of fields to send"
        return
    by_api_name = {FINE_TUNING_JOB[n].api_field: n for n in REQUEST_FIELDS}
    for key in extra:
        argument = by_api_name.get(key)
        if argument is not None and argument != EXTRA_BODY:
            yield f"{EXTRA_BODY}.{key}", f"is the argument {argument!r}: set it there (checked)"


def validate(
    props: Mapping[str, Any],
    fields: Sequence[str] = API_FIELDS,
    host: hosts.Host = hosts.COMPATIBLE,
) -> list[tuple[str, str]]:
    """(property path, reason) for each problem of the declared job spec; [] when valid.
    OpenAI's fields are checked against OpenAI's schema, and everything against `host`'s row.

    Values not known yet (preview of a program whose inputs come from other resources) pass.
    """
    present = [*fields, *(k for k in HOST_FIELDS if k not in fields)]
    spec = {
        k: _integral(_strip_unknown(props[k]))
        for k in present
        if k in props and props[k] is not None
    }
    spec = {k: v for k, v in spec.items() if not _is_sentinel(props[k])}
    unknown_required = {k for k in ("model", "training_file") if _is_sentinel(props.get(k))}
    method = spec.get("method")
    grader = _grader(method.get("reinforcement") if isinstance(method, Mapping) else None)
    own_grader = grader is not None and grader.get("type") in OWN_GRADERS  # checked by the row
    openai_view = _schema_view({k: v for k, v in spec.items() if k in fields}, host)
    failures = list(host_failures(spec, host))
    failures += list(shapes.for_host(host).failures(spec))
    failures += [
        (path, reason)
        for path, reason in _schema_failures(openai_view)
        if not (reason == "is required" and path in unknown_required)
        and not (own_grader and path == "method.reinforcement.grader")
        and not path.startswith("metadata")
    ]
    failures.extend(_metadata_failures(spec.get("metadata")))
    failures.extend(_method_failures(spec.get("method"), spec))
    # One line per path: the most specific reason first.
    seen: dict[str, str] = {}
    for path, reason in failures:
        seen.setdefault(path, reason)
    return list(seen.items())
