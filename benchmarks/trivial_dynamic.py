"""The cheapest dynamic resource: its provider returns its inputs. The baseline of
``preview_overhead.py``.

It lives in an importable module (not in a program's ``__main__``) so that its provider pickles
by reference, as ``pulumi_finetune``'s providers do: the provider process imports this module
from ``PYTHONPATH`` instead of unpickling code. Like FineTuningJob's provider it opts out of
``serialize_as_secret_always``, so neither side pays for encrypting the pickled provider.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class EchoProvider(ResourceProvider):
    """Create returns the inputs as outputs; check and diff are the SDK's defaults."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {k: v for k, v in props.items() if k != "__provider"}
        return CreateResult(f"echo-{uuid.uuid4().hex}", outs)


class Echo(Resource, module="bench", name="Echo"):
    """A dynamic resource whose outputs are its inputs."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None, **props: Any) -> None:
        super().__init__(EchoProvider(), name, dict(props), opts)
