"""A resource of FineTuningJob's shape with the trivial Echo's work: the third baseline of
``preview_overhead.py``.

It declares the same outputs and typed attributes as FineTuningJob, passes the same internal
inputs (as plain values), uses an explicit provider resource of its own, and records the same
outputs; its provider does what Echo's does. What separates it from Echo is what Pulumi's SDK
and engine spend on a resource with that many properties; what separates FineTuningJob from it
is our code. (A module of its own: importing ``pulumi_finetune`` here must not slow Echo.)
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource
from trivial_dynamic import EchoProvider

from pulumi_finetune import identity
from pulumi_finetune.resources import FineTuningJob
from pulumi_finetune.schema import FINE_TUNING_JOB, TRAINING_DATA, TRAINING_PRICES


class ShapedEchoProvider(EchoProvider):
    """Echo's provider; its outputs also hold every output FineTuningJob records, at the values
    it records before the API fills them in."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        result = super().create(props)
        return CreateResult(result.id, FINE_TUNING_JOB.stable(result.outs or {}))


_explicit: list[pulumi.ProviderResource] = []


def _provider() -> pulumi.ProviderResource:
    if not _explicit:
        _explicit.append(pulumi.ProviderResource("pulumi-python", "shaped-echo", {}))
    return _explicit[0]


class ShapedEcho(Resource, module="bench", name="Echo"):
    """FineTuningJob's declared outputs and inputs, Echo's provider."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None, **props: Any) -> None:
        internal = {
            identity.RESOURCE_KEY: f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}",
            identity.STACK_INSTANCE: "00000000-0000-0000-0000-000000000000",
            identity.OWNED_JOB: {"job_id": "", "created_at": 0},
            identity.URN: name,
            TRAINING_DATA: None,
            TRAINING_PRICES: None,
        }
        full = {**FINE_TUNING_JOB.placeholders(), **props, **internal}
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=_provider()))
        super().__init__(ShapedEchoProvider(), name, full, opts)


ShapedEcho.__annotations__ = dict(FineTuningJob.__annotations__)
