"""Property values between Pulumi's wire form and the providers' plain dictionaries.

The plugin speaks `PropertyValue`s with Pulumi's camelCase names (`trainingFile`); the providers
(`pulumi_finetune.providers`) take plain Python values under the tables' snake_case names
(`training_file`), exactly as the dynamic provider hands them over. Only top-level names are
renamed: nested values (`method`, `hyperparameters`, `metadata`) keep OpenAI's own shapes.

Numbers arrive as floats (Pulumi has one number type): a whole number becomes an `int`, as the
providers' checks expect for `seed` or `n_epochs`; on the way out every number is a float. An
unknown value (preview) becomes the providers' unknown sentinel, and goes back out as that
sentinel, which the engine reads as unknown (`PropertyValue.computed()` does not serialise).
Secrets are unwrapped on the way in; outputs the tables mark secret are wrapped on the way out.

`from_struct` and `to_struct` do the same between the gRPC messages' `Struct`s and the providers'
dictionaries directly: the SDK's `PropertyValue`s in between cost more than a job's check or diff
itself (every no-op preview reads each job's whole state), and are built only for values these
resources never hold (assets, archives, resource references, output values).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from google.protobuf import struct_pb2
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import _special_secret_sig as SECRET_SIG
from pulumi.runtime.rpc import _special_sig_key as SIG_KEY

from ..schema import Table
from ..spec import UNKNOWN

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


@lru_cache(maxsize=4096)
def camel(name: str) -> str:
    """`training_file` -> `trainingFile` (Pulumi's property names); leading underscores stay."""
    bare = name.lstrip("_")
    head, *rest = bare.split("_")
    return name[: len(name) - len(bare)] + head + "".join(p[:1].upper() + p[1:] for p in rest)


@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """`trainingFile` -> `training_file` (the tables' names); leading underscores stay."""
    bare = name.lstrip("_")
    return name[: len(name) - len(bare)] + _CAPITAL.sub("_", bare).lower()


def plain(value: PropertyValue) -> Any:
    """A Python value: numbers whole where they are whole, unknowns as the sentinel."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, bool) or inner is None or isinstance(inner, str):
        return inner
    if isinstance(inner, float):
        return int(inner) if inner.is_integer() else inner
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple | list):
        return [plain(v) for v in inner]
    return inner  # assets, archives, resource references: not used by these resources


def wire(value: Any, secret: bool = False) -> PropertyValue:
    """A PropertyValue: ints as floats, tuples as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        result = PropertyValue(value)
    elif isinstance(value, int | float):
        result = PropertyValue(float(value))
    elif isinstance(value, Mapping):
        result = PropertyValue({str(k): wire(v) for k, v in value.items()})
    elif isinstance(value, list | tuple):
        result = PropertyValue([wire(v) for v in value])
    else:
        result = PropertyValue(str(value))
    return result.with_secret(True) if secret else result


def from_wire(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The providers' inputs or state: snake_case names, plain values."""
    return {snake(k): plain(v) for k, v in props.items()}


def to_wire(
    props: Mapping[str, Any], table: Table, hidden: Iterable[str] = ()
) -> dict[str, PropertyValue]:
    """Pulumi's properties: camelCase names, the table's secret outputs wrapped, `hidden` names
    (inputs the plugin computes afresh on each call) left out."""
    secret = set(table.secret_outputs)
    skip = set(hidden)
    return {camel(k): wire(v, k in secret) for k, v in props.items() if k not in skip}


def plain_value(value: struct_pb2.Value) -> Any:
    """`plain(PropertyValue.unmarshal(value))`, without the PropertyValue."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "null_value":
        return None
    if kind == "list_value":
        return [plain_value(v) for v in value.list_value.values]
    if kind == "struct_value":
        fields = value.struct_value.fields
        sig = fields.get(SIG_KEY)
        if sig is None:
            return {k: plain_value(v) for k, v in fields.items()}
        if sig.string_value == SECRET_SIG and "value" in fields:
            return plain_value(fields["value"])
    # assets, archives, resource references, output values, malformed values: the SDK's reading
    return plain(PropertyValue.unmarshal(value))


def from_struct(props: struct_pb2.Struct) -> dict[str, Any]:
    """`from_wire(PropertyValue.unmarshal_map(props))`, without the PropertyValues."""
    return {snake(k): plain_value(v) for k, v in props.fields.items()}


def _json(value: Any) -> Any:
    """What `wire(value)` marshals to, as the plain data `Struct.update` takes."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return str(value)


def to_struct(
    props: Mapping[str, Any], table: Table, hidden: Iterable[str] = ()
) -> struct_pb2.Struct:
    """`PropertyValue.marshal_map(to_wire(props, table, hidden))`, without the PropertyValues."""
    secret = set(table.secret_outputs)
    skip = set(hidden)
    data: dict[str, Any] = {}
    for key, value in props.items():
        if key not in skip:
            plain_data = _json(value)
            data[camel(key)] = (
                {SIG_KEY: SECRET_SIG, "value": plain_data} if key in secret else plain_data
            )
    out = struct_pb2.Struct()
    out.update(data)
    return out
