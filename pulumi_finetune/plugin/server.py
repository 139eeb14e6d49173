"""The plugin's gRPC server: `pulumi.provider.experimental`'s servicer with three changes.

- Errors read as the Python face's do ("summary at URL: message" + "Fix: ..."): the SDK's
  servicer (3.27x) appends a Python traceback to every exception's text, so each handler here
  turns an exception into a plain gRPC status first (`_Failed`, which its wrapper lets through).
- A create cut short by Cancel returns a partially created resource: the status carries
  Pulumi's `ErrorResourceInitFailed` detail (the id and the properties), the way Pulumi's Go
  providers report a resource created but not initialised; the SDK's servicer has no such path.
- `Configure` hands the provider its own id (the engine sends it), the stack instance of the
  marker (see `pulumi_finetune.identity`).
- `Check` and `Diff`, which every preview sends for every resource, read and write the messages'
  values directly (`values.from_struct`, `to_struct`), without the SDK's `PropertyValue`s.

One `grpc.aio` server with no cap on concurrent calls; blocking work runs in the provider's
thread pool. The engine's address (the first argument) receives progress messages and is
watched: the plugin exits within seconds of the engine's port closing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import PropertyDiffKind
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc, status_pb2

from .._version import __version__
from ..providers import waiting
from .provider import FinetuneProvider, PartiallyCreated, internal
from .values import from_struct, to_struct

Handler = Callable[[Any, Any, Any], Awaitable[Any]]


class _Failed(BaseException):
    """A finished gRPC status, raised past the SDK's `except Exception` wrappers."""

    def __init__(self, status: grpc.Status) -> None:
        super().__init__(status.details)
        self.status = status


class _Status(grpc.Status):  # type: ignore[misc]
    def __init__(
        self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[Any, ...] = ()
    ) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


def status_for(error: BaseException) -> grpc.Status:
    """The gRPC status of an exception raised by the provider."""
    if isinstance(error, PartiallyCreated):
        detail = provider_pb2.ErrorResourceInitFailed(
            id=error.resource_id,
            properties=PropertyValue.marshal_map(error.properties),
            reasons=[error.reason],
        )
        packed = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=error.reason)
        packed.details.add().Pack(detail)
        metadata = (("grpc-status-details-bin", packed.SerializeToString()),)
        return _Status(grpc.StatusCode.UNKNOWN, error.reason, metadata)
    return _Status(grpc.StatusCode.UNKNOWN, str(error) or type(error).__name__)


def _guarded(name: str) -> Handler:
    inner: Handler = getattr(ProviderServicer, name)

    async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await inner(self, request, context)
        except _Failed as failed:  # raised by the provider (see `_Raising`)
            await context.abort_with_status(failed.status)

    handler.__name__ = name
    return handler


class FinetuneServicer(ProviderServicer):
    """The SDK's servicer, with plain errors, partial creates and the provider's own id."""

    _finetune: FinetuneProvider

    def __init__(self, provider: FinetuneProvider, engine_address: str) -> None:
        super().__init__([], __version__, _Raising(provider), engine_address)  # type: ignore[arg-type]
        self._finetune = provider

    async def Configure(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request.HasField("id"):
            self._finetune.stack_instance = request.id
        return await _CONFIGURE(self, request, context)

    async def Check(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            olds, news = from_struct(request.olds), from_struct(request.news)
            table, inputs, failures = await self._finetune.check_values(request.urn, olds, news)
            return provider_pb2.CheckResponse(
                inputs=to_struct(inputs, table, internal(table)),
                failures=[
                    provider_pb2.CheckFailure(property=f.property, reason=f.reason)
                    for f in failures
                ],
            )
        except Exception as exc:  # as `_Raising` reports it
            await context.abort_with_status(status_for(exc))

    async def Diff(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            olds, news = from_struct(request.olds), from_struct(request.news)
            diff = await self._finetune.diff_values(request.urn, request.id, olds, news)
        except Exception as exc:  # as `_Raising` reports it
            await context.abort_with_status(status_for(exc))
        changes = (
            provider_pb2.DiffResponse.DIFF_UNKNOWN
            if diff.changes is None
            else provider_pb2.DiffResponse.DIFF_SOME
            if diff.changes
            else provider_pb2.DiffResponse.DIFF_NONE
        )
        return provider_pb2.DiffResponse(
            replaces=diff.replaces,
            stables=diff.stables,
            deleteBeforeReplace=diff.delete_before_replace,
            changes=changes,
            diffs=diff.diffs,
            detailedDiff={
                k: provider_pb2.PropertyDiff(kind=_DIFF_KINDS[v.kind], inputDiff=v.input_diff)
                for k, v in diff.detailed_diff.items()
            },
            hasDetailedDiff=True,
        )

    Create = _guarded("Create")
    Read = _guarded("Read")
    Update = _guarded("Update")
    Delete = _guarded("Delete")
    GetSchema = _guarded("GetSchema")
    CheckConfig = _guarded("CheckConfig")
    DiffConfig = _guarded("DiffConfig")


_CONFIGURE = _guarded("Configure")
_DIFF_KINDS = {
    PropertyDiffKind.ADD: provider_pb2.PropertyDiff.ADD,
    PropertyDiffKind.ADD_REPLACE: provider_pb2.PropertyDiff.ADD_REPLACE,
    PropertyDiffKind.DELETE: provider_pb2.PropertyDiff.DELETE,
    PropertyDiffKind.DELETE_REPLACE: provider_pb2.PropertyDiff.DELETE_REPLACE,
    PropertyDiffKind.UPDATE: provider_pb2.PropertyDiff.UPDATE,
    PropertyDiffKind.UPDATE_REPLACE: provider_pb2.PropertyDiff.UPDATE_REPLACE,
}


class _Raising:
    """The provider, with every exception it raises turned into `_Failed` (a finished status)
    so that the SDK's handlers pass it through untouched."""

    def __init__(self, provider: FinetuneProvider) -> None:
        self._provider = provider

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._provider, name)
        if not asyncio.iscoroutinefunction(method):
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except Exception as exc:  # every error reaches the engine as its own message
                raise _Failed(status_for(exc)) from None

        return call


def serve(engine_address: str) -> None:
    provider = FinetuneProvider()
    waiting.serve_interruptibly(engine_address)
    waiting.watch_engine(engine_address)

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = FinetuneServicer(provider, engine_address)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def main(argv: list[str] | None = None) -> None:
    """`pulumi-resource-finetune ENGINE_ADDRESS`: as the engine starts a provider plugin."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-finetune",
        description="pulumi-finetune's resource provider plugin (started by the Pulumi engine)",
    )
    parser.add_argument("engine", help="the Pulumi engine's address")
    parser.add_argument("--logflow", action="store_true", help="ignored")
    parser.add_argument("--logtostderr", action="store_true", help="ignored")
    parser.add_argument("-v", dest="verbose", help="ignored")
    args, _ = parser.parse_known_args(argv)
    serve(args.engine)
