"""The `finetune` resource provider: the dynamic providers' logic served to any Pulumi language.

`FinetuneProvider` is a `pulumi.provider.experimental.Provider`. Each resource type is served by
the same `TableProvider` the Python face uses (`FineTuningJobProvider`, `TrainingFileProvider`):
this class only converts values (`values`), supplies the inputs the Python program side would
supply, and runs each blocking call in a thread of its own pool, so one process serves every
wait at once while the event loop stays free to answer the engine (Cancel among them).

What the Python program side supplies and the plugin computes here instead:
- the resource key (project/stack/name) and the URN: from the request's URN;
- the stack instance: the id the engine gave this provider resource (`Configure`);
- the training data figures of a job's file (cost estimate): remembered per file id from the
  TrainingFile states this process sees (`check` of a job that uses a file known by then);
- the prices: the provider's config `finetune:trainingPrices`;
- the owned job (what the state records for the resource): from the state the engine sends to
  `diff`, `update`, `read` and `delete`. A create the engine sends without any state (a new
  resource, the re-run of a killed `pulumi up`, or `pulumi up --replace`, for which the engine
  sends none) adopts the newest marked job, as the Python face does when the state records
  none; a delete of the job that a create in this process just adopted for the same resource
  leaves it alone (`pulumi up --replace` of an unchanged job then keeps it).

Cancel (a Ctrl-C, and the end of every run) sets `waiting.STOP`: every wait returns the job as
last seen. A create whose wait was cut short that way fails as a partially created resource
(`PartiallyCreated`): the state records the job and its id, and the next `pulumi up` updates it,
which resumes waiting. No Cancel ever cancels a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from .. import identity, settings
from ..prices import CONFIG_NAME as PRICES_CONFIG
from ..providers import common, waiting
from ..providers.file import TrainingFileProvider
from ..providers.job import TERMINAL_STATUSES, FineTuningJobProvider, StackListings
from ..schema import FINE_TUNING_JOB, TRAINING_DATA, TRAINING_FILE, TRAINING_PRICES, Kind, Table
from ..spec import is_unknown
from . import schema as package
from .values import camel, from_wire, snake, to_wire

JSON = dict[str, Any]
T = TypeVar("T")

# Kept in the state of a job whose create a Cancel cut short: the next update resumes waiting.
INTERRUPTED = "_wait_interrupted"
# A pool as large as any stack's waits: each waited job holds one thread while it polls.
MAX_THREADS = 256


class PartiallyCreated(Exception):
    """A create that made the resource but did not finish: the engine records `properties`
    under `resource_id` (with `reason` as the error) and updates it on the next `pulumi up`."""

    def __init__(self, resource_id: str, properties: dict[str, PropertyValue], reason: str):
        super().__init__(reason)
        self.resource_id = resource_id
        self.properties = properties
        self.reason = reason


def _urn_parts(urn: str) -> tuple[str, str, str]:
    """(project, stack, name) of `urn:pulumi:STACK::PROJECT::TYPE::NAME`."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", "", urn
    return parts[1], parts[0].rsplit(":", 1)[-1], parts[-1]


def resource_key(urn: str) -> str:
    project, stack, name = _urn_parts(urn)
    return f"{project}/{stack}/{name}"


_INTERNAL: dict[str, frozenset[str]] = {}


def internal(table: Table) -> frozenset[str]:
    """The table's internal inputs: the plugin computes them afresh on each call, so no
    response carries them."""
    found = _INTERNAL.get(table.resource)
    if found is None:
        found = frozenset(a.name for a in table.attributes if a.kind is Kind.INTERNAL)
        _INTERNAL[table.resource] = found
    return found


def _urn_type(urn: str) -> str:
    """The type token of a URN, as the SDK's requests read it (`request.type`)."""
    parts = urn.split("::")
    return parts[-2] if len(parts) > 1 else ""


def _jobs_provider() -> FineTuningJobProvider:
    """The job provider of this process: its creates share one listing of the stack's marked
    jobs (kept current as it creates), so an `up` of N new jobs makes N creates plus the
    listing's pages, not N lookups besides."""
    provider = FineTuningJobProvider()
    provider.listings = StackListings()
    return provider


class FinetuneProvider(Provider):
    """Serves FineTuningJob and TrainingFile through their dynamic providers' logic."""

    def __init__(self) -> None:
        super().__init__()
        self.cores: dict[str, common.TableProvider] = {
            package.token(FINE_TUNING_JOB): _jobs_provider(),
            package.token(TRAINING_FILE): TrainingFileProvider(),
        }
        self.pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="finetune")
        self.stack_instance = ""
        self.prices: Any = None
        self.owned: dict[str, dict[str, Any]] = {}
        self.created: dict[str, str] = {}
        self.files: dict[str, dict[str, Any]] = {}

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a thread of the pool: blocking HTTP never holds the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def _core(self, type_: str) -> common.TableProvider:
        core = self.cores.get(type_)
        if core is None:
            raise ValueError(
                f"unknown resource type {type_!r} (finetune serves {list(self.cores)})"
            )
        return core

    def _with_internal(self, urn: str, table: Table, props: Mapping[str, Any]) -> dict[str, Any]:
        """`props` with the inputs the Python program would supply (a job's only)."""
        full = dict(props)
        if table is not FINE_TUNING_JOB:
            return full
        full[identity.RESOURCE_KEY] = resource_key(urn)
        full[identity.URN] = urn
        full[identity.STACK_INSTANCE] = self.stack_instance
        full[identity.OWNED_JOB] = self.owned.get(urn, {"job_id": "", "created_at": 0})
        full[TRAINING_PRICES] = self.prices
        file_id = full.get("training_file")
        full[TRAINING_DATA] = self.files.get(file_id) if isinstance(file_id, str) else None
        return full

    def _out(self, table: Table, props: Mapping[str, Any]) -> dict[str, PropertyValue]:
        return to_wire(props, table, internal(table))

    def _remember(self, urn: str, table: Table, state: Mapping[str, Any]) -> None:
        """What the state records, for the calls that do not carry it (see the docstring)."""
        if table is FINE_TUNING_JOB and state.get("job_id"):
            created = state.get("created_at")
            self.owned[urn] = {
                "job_id": state["job_id"],
                "created_at": int(created) if isinstance(created, int | float) else 0,
            }
        elif table is TRAINING_FILE and isinstance(state.get("file_id"), str):
            self.files[state["file_id"]] = {
                "example_count": state.get("example_count"),
                "billed_tokens_per_epoch": state.get("billed_tokens_per_epoch"),
            }

    # -- the engine's calls --------------------------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=json.dumps(package.package_schema()))

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        config: dict[str, Any] = {}
        args = from_wire(request.args)
        for name in (*settings.CONFIG_NAMES, PRICES_CONFIG):
            value = args.get(snake(name))
            for key in (f"finetune:config:{name}", f"finetune:{name}"):
                if value is None:
                    value = request.variables.get(key)
            if value is not None and not is_unknown(value):
                config[settings.config_key(name)] = value
        prices = config.pop(settings.config_key(PRICES_CONFIG), None)
        if isinstance(prices, str):
            with contextlib.suppress(ValueError):  # check names a bad value
                prices = json.loads(prices)
        self.prices = prices
        for core in self.cores.values():
            common.store_config(core, SimpleNamespace(config=config))  # type: ignore[arg-type]
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    async def check(self, request: CheckRequest) -> CheckResponse:
        olds, news = from_wire(request.old_inputs), from_wire(request.new_inputs)
        table, inputs, failures = await self.check_values(request.urn, olds, news)
        return CheckResponse(inputs=self._out(table, inputs), failures=failures)

    async def check_values(
        self, urn: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[Table, dict[str, Any], list[CheckFailure]]:
        """`check` on the providers' dictionaries (the server's path: see `values`): the
        resource's table, its checked inputs and the failures."""
        core = self._core(_urn_type(urn))
        news = self._with_internal(urn, core.table, news)
        result = await self._run(core.check, olds, news)
        failures = [CheckFailure(f.property, f.reason) for f in result.failures or []]
        return core.table, dict(result.inputs or {}), failures

    async def diff(self, request: DiffRequest) -> DiffResponse:
        olds, news = from_wire(request.old_state), from_wire(request.new_inputs)
        return await self.diff_values(request.urn, request.resource_id, olds, news)

    async def diff_values(
        self, urn: str, resource_id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> DiffResponse:
        """`diff` on the providers' dictionaries (the server's path: see `values`)."""
        core = self._core(_urn_type(urn))
        self._remember(urn, core.table, olds)
        result = await self._run(core.diff, resource_id, olds, news)
        replaces = [camel(k) for k in result.replaces or []]
        updates = [camel(k) for k in core.updated_in_place(olds, news)] if result.changes else []
        # What `pulumi preview --diff` marks (the SDK's server always sends a detailed diff).
        detailed = {k: PropertyDiff(PropertyDiffKind.UPDATE, True) for k in updates}
        detailed.update({k: PropertyDiff(PropertyDiffKind.UPDATE_REPLACE, True) for k in replaces})
        return DiffResponse(
            changes=result.changes,
            replaces=replaces,
            delete_before_replace=False,
            diffs=sorted(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        core = self._core(request.type)
        props = self._with_internal(request.urn, core.table, from_wire(request.properties))
        result = await self._run(core.create, props)
        outs = dict(result.outs or {})
        self.created[request.urn] = result.id
        if core.table is TRAINING_FILE:
            self._remember(request.urn, core.table, outs)  # its figures, for its jobs' check
        self._unless_cut_short(core, result.id, props, outs)
        return CreateResponse(resource_id=result.id, properties=self._out(core.table, outs))

    def _unless_cut_short(
        self, core: common.TableProvider, job_id: str, props: Mapping[str, Any], outs: JSON
    ) -> None:
        """Raise `PartiallyCreated` when a Cancel cut short the wait of a create or of the
        update that resumes it: the state records the job with an init error, so the next
        `pulumi up` waits for it again (a normal answer would record it as done waiting)."""
        if (
            core.table is FINE_TUNING_JOB
            and waiting.STOP.is_set()
            and props.get("wait_for_completion")
            and outs.get("status") not in TERMINAL_STATUSES
        ):
            outs[INTERRUPTED] = True
            raise PartiallyCreated(
                job_id,
                self._out(core.table, outs),
                f"stopped waiting for fine-tuning job {job_id} ({outs.get('status')}): it "
                "keeps running, and the next `pulumi up` waits for it again",
            )

    async def read(self, request: ReadRequest) -> ReadResponse:
        core = self._core(request.type)
        state = from_wire(request.properties)
        self._remember(request.urn, core.table, state)
        inputs = from_wire(request.inputs)
        imported = not state and not inputs
        props = self._with_internal(request.urn, core.table, state)
        result = await self._run(core.read, request.resource_id, props)
        if not result.id:
            return ReadResponse(resource_id=None, properties={}, inputs={})
        outs = dict(result.outs or {})
        if imported and core.table is FINE_TUNING_JOB:
            inputs = imported_inputs(outs)
            outs["spec"] = _spec(core, inputs)
            outs.update(inputs)
        return ReadResponse(
            resource_id=result.id,
            properties=self._out(core.table, outs),
            inputs=self._out(core.table, inputs),
        )

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        core = self._core(request.type)
        olds = from_wire(request.olds)
        self._remember(request.urn, core.table, olds)
        if olds.pop(INTERRUPTED, None):
            # A wait a Cancel cut short: the update waits again, as turning waiting on does.
            olds["wait_for_completion"] = False
        news = self._with_internal(request.urn, core.table, from_wire(request.news))
        result = await self._run(core.update, request.resource_id, olds, news)
        outs = dict(result.outs or {})
        self._unless_cut_short(core, request.resource_id, news, outs)
        return UpdateResponse(properties=self._out(core.table, outs))

    async def delete(self, request: DeleteRequest) -> None:
        core = self._core(request.type)
        if self.created.get(request.urn) == request.resource_id:
            # The replacement adopted this very job: it is the resource's job now. That is a
            # `pulumi up --replace` of which the engine sent no state: say how to train anew.
            if core.table is FINE_TUNING_JOB:
                await self._run(
                    waiting.engine_log().warning,
                    request.urn,
                    f"kept fine-tuning job {request.resource_id}: `pulumi up --replace` sends "
                    "the plugin no state of the job it replaces, so the job was taken for its "
                    "own orphan and nothing was trained. To train again, run `pulumi up "
                    "--replace <urn> --refresh` (the refresh tells the plugin which job the "
                    "stack owns)",
                )
            return
        props = self._with_internal(request.urn, core.table, from_wire(request.properties))
        await self._run(core.delete, request.resource_id, props)

    async def cancel(self) -> None:
        """The engine's Cancel (a Ctrl-C, and the end of every run): stop every wait now. The
        jobs keep running; nothing is cancelled."""
        waiting.STOP.set()


def imported_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments `pulumi import` records for an existing job: what a program declares to
    manage it as it is (the base model and its files)."""
    inputs = {"model": outs.get("model"), "training_file": outs.get("training_file")}
    if outs.get("validation_file"):
        inputs["validation_file"] = outs["validation_file"]
    return inputs


def _spec(core: common.TableProvider, inputs: Mapping[str, Any]) -> Any:
    from ..spec import api_spec

    return api_spec(inputs, core.table.api_fields)
