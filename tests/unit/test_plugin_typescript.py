"""The TypeScript SDK of the plugin's resources follows its package schema."""

from __future__ import annotations

import re
from pathlib import Path

from pulumi_finetune.plugin import typescript
from pulumi_finetune.plugin.schema import TABLES, package_schema, token


def test_it_writes_the_sdk_where_asked(tmp_path: Path) -> None:
    out = tmp_path / "sdk" / "finetune.ts"
    assert typescript.main([str(out)]) == 0
    assert out.read_text() == typescript.render()


def test_every_schema_property_is_a_typed_output_and_every_input_an_argument() -> None:
    sdk = typescript.render()
    resources = package_schema()["resources"]
    for table in TABLES:
        resource = resources[token(table)]
        name = table.resource
        args = re.search(rf"export interface {name}Args \{{(.*?)\n\}}", sdk, re.S)
        assert args is not None
        declared = re.findall(r"^    (\w+)\??: pulumi\.Input<", args.group(1), re.M)
        assert declared == list(resource["inputProperties"])
        body = sdk.split(f"export class {name} ", 1)[1].split("\n}\n", 1)[0]
        outputs = re.findall(r"public readonly (\w+)!: pulumi\.Output<", body)
        assert outputs == list(resource["properties"])
        for key in resource["requiredInputs"]:
            assert f"    {key}: pulumi.Input<" in args.group(1)


def test_types_follow_the_schema() -> None:
    assert typescript.ts_type({"type": "integer"}) == "number"
    assert typescript.ts_type({"type": "array", "items": {"type": "string"}}) == "string[]"
    assert typescript.ts_type({"type": "object", "additionalProperties": {"type": "string"}}) == (
        "{ [key: string]: string }"
    )
    assert typescript.ts_type({"$ref": "pulumi.json#/Any"}) == "any"
