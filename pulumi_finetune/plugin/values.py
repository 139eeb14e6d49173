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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from ..schema import Table
from ..spec import UNKNOWN

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def camel(name: str) -> str:
    """`training_file` -> `trainingFile` (Pulumi's property names); leading underscores stay."""
    bare = name.lstrip("_")
    head, *rest = bare.split("_")
    return name[: len(name) - len(bare)] + head + "".join(p[:1].upper() + p[1:] for p in rest)


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
