"""Two baselines of `plugin_preview_parts.py`, served as the engine starts a provider plugin.

    python benchmarks/shaped_plugin.py shaped ENGINE_ADDRESS
    python benchmarks/shaped_plugin.py noop ENGINE_ADDRESS

- `shaped`: `benchshaped:index:FineTuningJob`, a resource of FineTuningJob's shape with the
  trivial plugin's work: its schema is the finetune package's (renamed), and its create returns
  the inputs plus the outputs a real job recorded (`outputs.json` beside the launcher, written by
  the benchmark from a finetune stack). What separates it from the trivial plugin is what
  Pulumi's engine and YAML host spend on a resource of that shape; it imports nothing of ours.
- `noop`: the finetune plugin itself (same process, imports, Configure), except that Check
  returns the inputs as sent and Diff says "no change" without any work: what separates the
  finetune plugin from it is our Check and Diff.
"""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from pathlib import Path
from typing import Any

SHAPED = "benchshaped"
VERSION = "0.0.1"
TOKEN = f"{SHAPED}:index:FineTuningJob"
OUTPUTS = "outputs.json"


def install(home: Path, mode: str) -> Path:
    """The launcher of `mode` in `home/plugins`: `shaped` as its own plugin, `noop` in place of
    the finetune plugin's (installed first by `pulumi-finetune plugin install`)."""
    if mode == "shaped":
        target = home / "plugins" / f"resource-{SHAPED}-v{VERSION}"
        script = target / f"pulumi-resource-{SHAPED}"
    else:
        from pulumi_finetune.plugin import install as finetune

        target = finetune.plugin_dir(home)
        script = target / finetune.EXECUTABLE
    target.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve()
    script.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(here))} {mode} "$@"\n'
    )
    script.chmod(0o755)
    return target


def _shaped(argv: list[str]) -> None:
    from pulumi.provider.experimental.property_value import PropertyValue
    from pulumi.provider.experimental.provider import (
        CreateRequest,
        CreateResponse,
        GetSchemaRequest,
        GetSchemaResponse,
    )
    from pulumi.provider.experimental.server import main as serve
    from trivial_plugin import EchoProvider

    def wire(value: Any) -> PropertyValue:
        if isinstance(value, dict):
            return PropertyValue({k: wire(v) for k, v in value.items()})
        if isinstance(value, list):
            return PropertyValue([wire(v) for v in value])
        if isinstance(value, int | float) and not isinstance(value, bool):
            return PropertyValue(float(value))
        return PropertyValue(value)

    class ShapedProvider(EchoProvider):
        def __init__(self, schema: str, outputs: dict[str, Any]) -> None:
            super().__init__()
            self.schema = schema
            self.outputs = {k: wire(v) for k, v in outputs.items()}

        async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
            return GetSchemaResponse(schema=self.schema)

        async def create(self, request: CreateRequest) -> CreateResponse:
            properties = {**self.outputs, **request.properties}
            return CreateResponse(resource_id=f"echo-{uuid.uuid4().hex}", properties=properties)

    setup = json.loads((_home_plugin() / OUTPUTS).read_text())
    serve(argv, VERSION, ShapedProvider(setup["schema"], setup["outputs"]))


def _home_plugin() -> Path:
    """This plugin's folder in the PULUMI_HOME the engine runs with."""
    import os

    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return home / "plugins" / f"resource-{SHAPED}-v{VERSION}"


def write_setup(home: Path, outputs: dict[str, Any]) -> None:
    """The shaped plugin's schema (the finetune package's, renamed) and a recorded job's
    outputs, in its folder."""
    from pulumi_finetune.plugin.schema import package_schema

    text = json.dumps(package_schema()).replace('"finetune:', f'"{SHAPED}:')
    text = text.replace("#/types/finetune:", f"#/types/{SHAPED}:")
    schema = json.loads(text)
    schema["name"], schema["version"] = SHAPED, VERSION
    schema.pop("language", None)
    (install(home, "shaped") / OUTPUTS).write_text(
        json.dumps({"schema": json.dumps(schema), "outputs": outputs})
    )


def _noop(argv: list[str]) -> None:
    from pulumi.runtime.proto import provider_pb2

    from pulumi_finetune.plugin import server

    async def check(self: Any, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    async def diff(self: Any, request: Any, context: Any) -> Any:
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True
        )

    server.FinetuneServicer.Check = check  # type: ignore[method-assign]
    server.FinetuneServicer.Diff = diff  # type: ignore[method-assign]
    server.main(argv)


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    sys.argv[1:] = rest  # the SDK's server reads the engine's address from sys.argv
    _shaped(rest) if mode == "shaped" else _noop(rest)
