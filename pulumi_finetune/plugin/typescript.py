"""A typed TypeScript SDK for the plugin's two resources, rendered from its package schema.

    python -m pulumi_finetune.plugin.typescript OUT     # e.g. finetune.ts beside index.ts

Pulumi's own SDK generation (`pulumi package gen-sdk`) asks the language host to generate the
package (its `GeneratePackage` call), which the Node.js host this project can build (sdk v3.68.0)
does not have. This renders the same shape (an `...Args` interface, a `CustomResource` class with
a typed `Output` per property, `get`) from the same schema, so the TypeScript SDK follows the
tables as the schema does. It is rendered from the installed package, not kept in the
repository: a new row in `schema.py` reaches TypeScript programs when they render it again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .schema import package_schema

HEADER = (
    "// Rendered by `python -m pulumi_finetune.plugin.typescript` from the finetune plugin's "
    "package schema.\n// Do not edit: render it again after upgrading pulumi-finetune.\n"
)


def ts_type(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        return f"{ts_type(spec.get('items') or {})}[]"
    if kind == "object":
        extra = spec.get("additionalProperties") or {}
        return f"{{ [key: string]: {ts_type(extra)} }}"
    return "any"


def _doc(text: str, indent: str) -> str:
    return f"{indent}/** {text.replace('*/', '* /')} */\n"


def render_resource(token: str, resource: dict[str, Any]) -> str:
    name = token.rsplit(":", 1)[-1]
    inputs: dict[str, Any] = resource["inputProperties"]
    props: dict[str, Any] = resource["properties"]
    required = set(resource.get("requiredInputs", []))
    out = [f"/** The arguments of a {name}. */\nexport interface {name}Args {{\n"]
    for key, spec in inputs.items():
        optional = "" if key in required else "?"
        out.append(_doc(spec.get("description", key), "    "))
        out.append(f"    {key}{optional}: pulumi.Input<{ts_type(spec)}>;\n")
    out.append("}\n\n")
    out.append(_doc(resource.get("description", name), ""))
    out.append(f"export class {name} extends pulumi.CustomResource {{\n")
    out.append(f'    public static readonly __pulumiType = "{token}";\n\n')
    out.append(
        f"    /** Reads an existing {name} by its id (not managed: destroy leaves it). */\n"
        f"    public static get(\n"
        f"        name: string,\n"
        f"        id: pulumi.Input<pulumi.ID>,\n"
        f"        opts?: pulumi.CustomResourceOptions,\n"
        f"    ): {name} {{\n"
        f"        return new {name}(name, <any>undefined, {{ ...opts, id: id }});\n"
        f"    }}\n\n"
    )
    for key, spec in props.items():
        out.append(_doc(spec.get("description", key), "    "))
        out.append(f"    public readonly {key}!: pulumi.Output<{ts_type(spec)}>;\n")
    names = ", ".join(f'"{key}"' for key in props)
    options = "opts?: pulumi.CustomResourceOptions"
    out.append(
        f"\n    constructor(name: string, args: {name}Args, {options});\n"
        f"    constructor(name: string, args?: {name}Args, {options}) {{\n"
        f"        const inputs: pulumi.Inputs = {{}};\n"
        f"        for (const key of [{names}]) {{\n"
        f"            inputs[key] = undefined;\n"
        f"        }}\n"
        f"        Object.assign(inputs, args ?? {{}});\n"
        f"        super({name}.__pulumiType, name, inputs, opts);\n"
        f"    }}\n"
        f"}}\n"
    )
    return "".join(out)


def render() -> str:
    schema = package_schema()
    parts = [HEADER, 'import * as pulumi from "@pulumi/pulumi";\n']
    for token, resource in schema["resources"].items():
        parts.append("\n" + render_resource(token, resource))
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_finetune.plugin.typescript",
        description="Write the typed TypeScript SDK of the finetune plugin's resources.",
    )
    parser.add_argument("out", type=Path, help="the .ts file to write, e.g. finetune.ts")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
