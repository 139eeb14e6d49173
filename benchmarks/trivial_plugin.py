"""The cheapest provider plugin: `benchecho:index:Echo`, whose create returns its inputs, served by
the same `pulumi.provider.experimental` gRPC stack as the finetune plugin, in Python. The baseline
of `plugin_scale.py`: what any Python plugin costs, without the finetune provider's logic and HTTP.

    python benchmarks/trivial_plugin.py ENGINE_ADDRESS     # as the engine starts a plugin
"""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from pathlib import Path

from pulumi.provider.experimental.provider import (
    CheckRequest,
    CheckResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    Provider,
)
from pulumi.provider.experimental.server import main as serve

NAME = "benchecho"
VERSION = "0.0.1"
TOKEN = f"{NAME}:index:Echo"
PROPERTIES = ("model", "trainingFile", "suffix")
SCHEMA = {
    "name": NAME,
    "version": VERSION,
    "resources": {
        TOKEN: {
            "properties": {p: {"type": "string"} for p in PROPERTIES},
            "inputProperties": {p: {"type": "string"} for p in PROPERTIES},
        }
    },
}


class EchoProvider(Provider):
    """Check returns the inputs, diff compares them, create returns them: no other work."""

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=json.dumps(SCHEMA))

    async def check(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        changed = [k for k in PROPERTIES if request.old_state.get(k) != request.new_inputs.get(k)]
        return DiffResponse(changes=bool(changed), replaces=changed)

    async def create(self, request: CreateRequest) -> CreateResponse:
        return CreateResponse(resource_id=f"echo-{uuid.uuid4().hex}", properties=request.properties)

    async def delete(self, request: DeleteRequest) -> None:
        return None


def install(home: Path) -> Path:
    """The plugin folder in `home/plugins`, as `pulumi-finetune plugin install` writes its own."""
    target = home / "plugins" / f"resource-{NAME}-v{VERSION}"
    target.mkdir(parents=True, exist_ok=True)
    script = target / f"pulumi-resource-{NAME}"
    here = Path(__file__).resolve()
    script.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(here))} "$@"\n'
    )
    script.chmod(0o755)
    return target


if __name__ == "__main__":
    serve(sys.argv[1:], VERSION, EchoProvider())
