"""The plugin process over gRPC, as the engine drives it, against a real local endpoint.

`pulumi-resource-finetune` is started as the engine starts it (its first argument the engine's
address: here a socket this test holds open), and called through Pulumi's provider protocol.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc, status_pb2

from pulumi_finetune import identity, spec
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient
from pulumi_finetune.plugin import install
from pulumi_finetune.plugin.values import from_wire, wire

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
JOB = "finetune:index:FineTuningJob"
FILE = "finetune:index:TrainingFile"
STACK_PROVIDER_ID = "3b0c5e4e-1111-4c1e-9a59-0123456789ab"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::proj::{type_}::{name}"


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return PropertyValue.marshal_map({k: wire(v) for k, v in props.items()})


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    return from_wire(PropertyValue.unmarshal_map(value))


@dataclass
class Plugin:
    stub: provider_pb2_grpc.ResourceProviderStub
    process: subprocess.Popen[str]
    endpoint: LocalEndpoint

    def check(self, type_: str, name: str, news: dict[str, Any]) -> dict[str, Any]:
        resp = self.stub.Check(
            provider_pb2.CheckRequest(urn=urn(type_, name), news=struct(news), olds=struct({}))
        )
        assert not resp.failures, resp.failures
        return plain(resp.inputs)

    def create(self, type_: str, name: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self.stub.Create(
            provider_pb2.CreateRequest(urn=urn(type_, name), properties=struct(props))
        )
        return resp.id, plain(resp.properties)


@pytest.fixture
def plugin(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Plugin]:
    """The plugin process, on an endpoint whose clock runs at `request.param` (default 1.0)."""
    engine = socket.socket()
    engine.bind(("127.0.0.1", 0))
    engine.listen()
    endpoint = LocalEndpoint(tmp_path / "endpoint", clock_speed=getattr(request, "param", 1.0))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PULUMI_"))},
        "OPENAI_API_KEY": endpoint.key,
        "OPENAI_BASE_URL": endpoint.url,
    }
    launcher = install.install(tmp_path / "home") / install.EXECUTABLE
    address = f"127.0.0.1:{engine.getsockname()[1]}"
    process = subprocess.Popen(
        [str(launcher), address], stdout=subprocess.PIPE, env=env, text=True, cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.Configure(
            provider_pb2.ConfigureRequest(args=struct({}), acceptSecrets=True, id=STACK_PROVIDER_ID)
        )
        yield Plugin(stub, process, endpoint)
        channel.close()
    finally:
        process.kill()
        process.wait()
        endpoint.stop()
        engine.close()


def test_the_launcher_serves_the_schema_and_the_version(plugin: Plugin) -> None:
    info = plugin.stub.GetPluginInfo(empty_pb2.Empty())
    assert info.version == install.__version__
    schema = plugin.stub.GetSchema(provider_pb2.GetSchemaRequest())
    assert '"finetune:index:FineTuningJob"' in schema.schema


def test_check_fails_with_the_property_path_and_no_traceback(plugin: Plugin) -> None:
    resp = plugin.stub.Check(
        provider_pb2.CheckRequest(
            urn=urn(JOB, "bad"),
            olds=struct({}),
            news=struct({"model": MODEL, "trainingFile": "file-x", "seed": "three", "foo": 1}),
        )
    )
    reasons = [f.reason for f in resp.failures]
    assert any(r.startswith("seed:") for r in reasons), reasons
    assert any("unknown argument 'foo'" in r for r in reasons), reasons
    assert not any("Traceback" in r or 'File "' in r for r in reasons)


def test_an_api_error_reads_as_the_python_face_does(plugin: Plugin) -> None:
    props = plugin.check(JOB, "missing", {"model": MODEL, "trainingFile": "file-missing"})
    with pytest.raises(grpc.RpcError) as raised:
        plugin.create(JOB, "missing", props)
    details = raised.value.details()
    assert details.startswith(f"Unable to create the fine-tuning job at {plugin.endpoint.url}: ")
    assert "Traceback" not in details and 'File "' not in details


def test_a_file_and_a_job_round_trip_with_pulumi_names_and_the_stack_instance(
    plugin: Plugin,
) -> None:
    file_props = plugin.check(FILE, "data", {"path": str(DATA)})
    assert file_props["example_count"] == 12  # computed in check, known in preview
    file_id, file_outs = plugin.create(FILE, "data", file_props)
    assert file_outs["file_id"] == file_id
    # The job's check now knows its file's figures: the cost estimate of the preview.
    job_props = plugin.check(JOB, "job", {"model": MODEL, "trainingFile": file_id})
    assert job_props["estimated_billed_tokens"] and job_props["estimated_cost_usd"]
    assert "_resource_key" not in job_props  # computed afresh by the plugin, never recorded
    job_id, outs = plugin.create(JOB, "job", job_props)
    assert outs["job_id"] == job_id and outs["status"] == "validating_files"
    marker = identity.marker_for(STACK_PROVIDER_ID, "proj/dev/job", spec.spec_hash(outs["spec"]))
    stack = identity.stack_marker(STACK_PROVIDER_ID)  # the stack's own, for one listing
    assert outs["metadata"] == {"pulumi_finetune": marker, "pulumi_finetune_stack": stack}


def test_cancel_stops_a_wait_at_once_and_the_job_is_recorded_partially_created(
    plugin: Plugin,
) -> None:
    api = EndpointClient(plugin.endpoint.url, plugin.endpoint.key)
    training_file = api.upload(DATA)
    props = plugin.check(
        JOB, "waited", {"model": MODEL, "trainingFile": training_file, "waitForCompletion": True}
    )
    failure: list[grpc.RpcError] = []

    def create() -> None:
        try:
            plugin.create(JOB, "waited", props)
        except grpc.RpcError as exc:
            failure.append(exc)

    thread = threading.Thread(target=create)
    thread.start()
    deadline = time.monotonic() + 30
    while not api.jobs() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # waiting now
    plugin.stub.Cancel(empty_pb2.Empty())
    thread.join(timeout=5)
    assert not thread.is_alive(), "the wait did not stop within 5 s of Cancel"
    assert failure, "a create cut short must fail as partially created"
    details = _init_failed(failure[0])
    (job,) = api.jobs()
    assert details.id == job["id"]
    assert job["status"] not in ("cancelled", "failed")  # Cancel never cancels the job
    state = plain(details.properties)
    assert state["job_id"] == job["id"] and state["_wait_interrupted"] is True

    # The next `pulumi up` updates the partially created job: it waits again, posts nothing.
    plugin.endpoint.advance_clock(3600)
    news = {k: v for k, v in state.items() if k in props}
    resp = plugin.stub.Update(
        provider_pb2.UpdateRequest(
            urn=urn(JOB, "waited"), id=job["id"], olds=details.properties, news=struct(news)
        )
    )
    outs = plain(resp.properties)
    assert outs["status"] == "succeeded" and outs["fine_tuned_model"].startswith("ft:")
    assert "_wait_interrupted" not in outs
    assert len(api.jobs()) == 1


def _init_failed(error: grpc.RpcError) -> provider_pb2.ErrorResourceInitFailed:
    """The ErrorResourceInitFailed detail of a gRPC error, as Pulumi's engine reads it."""
    metadata = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    detail = provider_pb2.ErrorResourceInitFailed()
    assert status.details[0].Unpack(detail)
    return detail


def test_plugin_install_writes_a_launcher_of_this_python(tmp_path: Path) -> None:
    target = install.install(tmp_path)
    assert target == tmp_path / "plugins" / f"resource-finetune-v{install.__version__}"
    script = target / "pulumi-resource-finetune"
    assert os.access(script, os.X_OK)
    assert sys.executable in script.read_text()
    help_text = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert "pulumi-resource-finetune" in help_text.stdout


def test_a_create_with_no_state_adopts_the_marked_job_and_its_old_delete_leaves_it(
    plugin: Plugin,
) -> None:
    # `pulumi up --replace` of an unchanged job: the engine sends the plugin no state of the
    # resource it replaces, so the current job looks like an orphan of this resource.
    api = EndpointClient(plugin.endpoint.url, plugin.endpoint.key)
    props = plugin.check(JOB, "bot", {"model": MODEL, "trainingFile": api.upload(DATA)})
    first, _ = plugin.create(JOB, "bot", props)
    again, _ = plugin.create(JOB, "bot", props)
    assert again == first and len(api.jobs()) == 1  # kept, not posted again
    plugin.stub.Delete(
        provider_pb2.DeleteRequest(urn=urn(JOB, "bot"), id=first, properties=struct(props))
    )
    assert api.get(f"fine_tuning/jobs/{first}")["status"] != "cancelled"


def test_the_cli_installs_the_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pulumi_finetune.cli import main

    assert main(["plugin", "install", "--pulumi-home", str(tmp_path)]) == 0
    assert (install.plugin_dir(tmp_path) / install.EXECUTABLE).is_file()
    assert str(install.plugin_dir(tmp_path)) in capsys.readouterr().out


@pytest.mark.parametrize("plugin", [0.01], indirect=True)  # the job validates for minutes
def test_cancel_also_ends_waiting_to_pause_a_job_not_yet_running(plugin: Plugin) -> None:
    api = EndpointClient(plugin.endpoint.url, plugin.endpoint.key)
    props = plugin.check(
        JOB, "pausing", {"model": MODEL, "trainingFile": api.upload(DATA), "paused": True}
    )
    done: list[tuple[str, dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: done.append(plugin.create(JOB, "pausing", props)))
    thread.start()
    deadline = time.monotonic() + 30
    while not api.jobs() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    plugin.stub.Cancel(empty_pb2.Empty())
    thread.join(timeout=10)
    assert not thread.is_alive(), "waiting to pause did not stop after Cancel"
    (job,) = api.jobs()
    # Recorded as it is (not paused yet): the next `pulumi up` diffs `paused` and pauses it.
    assert done, "no answer"
    assert (done[0][1]["status"], done[0][1]["paused"]) == (job["status"], False), job["status"]


def test_a_job_gone_at_the_endpoint_leaves_the_state_on_refresh(plugin: Plugin) -> None:
    resp = plugin.stub.Read(
        provider_pb2.ReadRequest(
            urn=urn(JOB, "gone"),
            id="ftjob-gone",
            properties=struct({"jobId": "ftjob-gone", "model": MODEL}),
            inputs=struct({"model": MODEL}),
        )
    )
    assert resp.id == ""  # the engine drops a resource whose read answers no id
