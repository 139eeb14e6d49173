"""Uploads against the real local endpoint: the simple path, multipart parts in parallel, md5,
retries of failed parts, and cancellation on every way out that is not a completed file."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pulumi.output import Unknown

from pulumi_finetune import uploads
from pulumi_finetune.client import Client
from pulumi_finetune.errors import FileChangedError, InternalServerError, UploadError
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.settings import Settings
from pulumi_finetune.uploads import (
    BoundedReader,
    UploadOptions,
    upload_file,
)

UPLOADS = "POST /v1/uploads"
PARTS = "POST /v1/uploads/{upload_id}/parts"
COMPLETE = "POST /v1/uploads/{upload_id}/complete"
CANCEL = "POST /v1/uploads/{upload_id}/cancel"
FILES = "POST /v1/files"
PART_ROUTE = "POST /v1/uploads/*/parts"

# Tiny sizes so that a few kilobytes make many parts.
MULTIPART = UploadOptions(threshold=1000, part_size=700, parallelism=3)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    server = LocalEndpoint(
        data_dir=tmp_path_factory.mktemp("uploads-endpoint"), key="sk-" + secrets.token_hex(8)
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ep(endpoint: LocalEndpoint) -> Iterator[LocalEndpoint]:
    endpoint.clear_faults()
    endpoint.reset_stats()
    yield endpoint
    endpoint.clear_faults()


@pytest.fixture
def client(ep: LocalEndpoint) -> Iterator[Client]:
    with Client(
        Settings(base_url=ep.url, api_key=ep.key), max_retries=3, sleep=lambda _s: None
    ) as c:
        yield c


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """~10 KB whose every line is numbered, so a part out of order changes the bytes."""
    path = tmp_path / "train.jsonl"
    path.write_bytes(
        b"".join(b'{"line": %05d, "pad": "%s"}\n' % (i, b"x" * 20) for i in range(300))
    )
    return path


def routes(ep: LocalEndpoint) -> dict[str, int]:
    by_route: dict[str, int] = ep.stats()["by_route"]
    return by_route


def content(ep: LocalEndpoint, file_id: str) -> bytes:
    response = requests.get(
        f"{ep.url}/files/{file_id}/content",
        headers={"Authorization": f"Bearer {ep.key}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.content


def file_ids(ep: LocalEndpoint) -> set[str]:
    return {
        f["id"]
        for f in ep.app.store.list_files(purpose=None, after=None, limit=10000, order="asc").data
    }


def upload_statuses(ep: LocalEndpoint) -> dict[str, str]:
    store = ep.app.store
    with store._lock:
        rows = store._db.execute("SELECT * FROM uploads").fetchall()
    return {row["id"]: store._upload_json(row)["status"] for row in rows}


def pass_through(ep: LocalEndpoint, n: int) -> None:
    """Let the next `n` part requests through untouched, so a fault added next hits a later one."""
    ep.add_fault(PART_ROUTE, "slow", times=n, delay=0)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the two paths -----------------------------------------------------------------------------


def test_file_at_or_under_the_threshold_goes_up_in_one_request(ep, client, data):
    options = UploadOptions(threshold=data.stat().st_size)

    file = upload_file(client, data, purpose="fine-tune", options=options)

    assert content(ep, file["id"]) == data.read_bytes()
    assert file["filename"] == "train.jsonl"
    got = routes(ep)
    assert got.get(FILES) == 1 and UPLOADS not in got, got


def test_file_over_the_threshold_uses_parts_in_order_with_md5(ep, client, data):
    size = data.stat().st_size
    expected_parts = -(-size // MULTIPART.part_size)
    assert expected_parts >= 10

    file = upload_file(client, data, purpose="fine-tune", filename="named.jsonl", options=MULTIPART)

    assert content(ep, file["id"]) == data.read_bytes()
    assert file["bytes"] == size and file["filename"] == "named.jsonl"
    got = routes(ep)
    assert got.get(UPLOADS) == 1
    assert got.get(PARTS) == expected_parts
    assert got.get(COMPLETE) == 1
    assert FILES not in got and CANCEL not in got, got


def test_parts_are_sent_in_parallel_and_bounded_by_the_pool(ep, client, data, monkeypatch):
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    real = uploads.MultipartUpload._send_part

    def counting(self: uploads.MultipartUpload, index: int) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return real(self, index)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(uploads.MultipartUpload, "_send_part", counting)
    ep.add_fault(PART_ROUTE, "slow", times=1000, delay=0.05)

    file = upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    assert content(ep, file["id"]) == data.read_bytes()
    assert peak == MULTIPART.parallelism


def test_md5_sent_with_complete_is_that_of_the_whole_file(ep, client, data, monkeypatch):
    sent: list[dict[str, Any]] = []
    real = Client.request

    def spy(self: Client, method: str, path: str, **kwargs: Any) -> Any:
        if path.endswith("/complete"):
            sent.append(kwargs["json"])
        return real(self, method, path, **kwargs)

    monkeypatch.setattr(Client, "request", spy)

    upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    assert sent[0]["md5"] == hashlib.md5(data.read_bytes()).hexdigest()
    assert len(sent[0]["part_ids"]) == routes(ep)[PARTS]


# -- faults in the middle ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "503", "drop", "429"])
def test_a_part_failing_in_the_middle_is_retried_to_completion(ep, client, data, kind):
    pass_through(ep, 4)
    ep.add_fault(PART_ROUTE, kind, times=2, retry_after=0)
    parts = -(-data.stat().st_size // MULTIPART.part_size)

    file = upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    assert content(ep, file["id"]) == data.read_bytes()
    got = routes(ep)
    assert got[PARTS] == parts + 2, got
    assert CANCEL not in got


def test_a_part_that_keeps_failing_cancels_the_upload(ep, client, data):
    before = file_ids(ep)
    pass_through(ep, 4)
    ep.add_fault(PART_ROUTE, "500", times=1000)

    with pytest.raises(InternalServerError) as raised:
        upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    got = routes(ep)
    assert got.get(CANCEL) == 1 and COMPLETE not in got, got
    assert list(upload_statuses(ep).values())[-1] == "cancelled"
    assert file_ids(ep) == before
    assert any("was cancelled" in note for note in raised.value.__notes__)
    # The parts not yet started were never sent: at most the pool's worth failed, with retries.
    assert got[PARTS] < 4 + (1 + 3) * (MULTIPART.parallelism + 1), got


def test_a_failed_complete_that_took_no_effect_is_cancelled(ep, client, data):
    before = file_ids(ep)
    ep.add_fault("POST /v1/uploads/*/complete", "500")

    with pytest.raises(InternalServerError):
        upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    got = routes(ep)
    assert got.get(COMPLETE) == 1 and got.get(CANCEL) == 1, got
    assert list(upload_statuses(ep).values())[-1] == "cancelled"
    assert file_ids(ep) == before


def test_a_complete_whose_answer_was_lost_finds_the_file_it_made(ep, client, data):
    ep.add_fault("POST /v1/uploads/*/complete", "commit_then_500")
    before = file_ids(ep)

    file = upload_file(
        client, data, purpose="fine-tune", filename="lost-answer.jsonl", options=MULTIPART
    )

    assert file_ids(ep) - before == {file["id"]}
    assert content(ep, file["id"]) == data.read_bytes()
    assert list(upload_statuses(ep).values())[-1] == "completed"


def test_a_lost_complete_with_two_lookalike_files_names_them_instead_of_guessing(
    ep, client, data, monkeypatch
):
    twin: list[str] = []
    real = Client.request

    def race(self: Client, method: str, path: str, **kwargs: Any) -> Any:
        if path.endswith("/complete") and not twin:
            # Another upload of the same name and size finishes first.
            with data.open("rb") as handle:
                response = requests.post(
                    f"{ep.url}/files",
                    files={"file": ("twin.jsonl", handle)},
                    data={"purpose": "fine-tune"},
                    headers={"Authorization": f"Bearer {ep.key}"},
                    timeout=10,
                )
            twin.append(response.json()["id"])
        return real(self, method, path, **kwargs)

    monkeypatch.setattr(Client, "request", race)
    ep.add_fault("POST /v1/uploads/*/complete", "commit_then_500")

    with pytest.raises(UploadError, match="completed but its answer was lost") as raised:
        upload_file(client, data, purpose="fine-tune", filename="twin.jsonl", options=MULTIPART)

    assert twin[0] in str(raised.value)


# -- the file changing, and interruptions --------------------------------------------------------


def test_content_other_than_what_was_validated_is_never_completed(ep, client, data):
    validated = sha(data)
    data.write_bytes(data.read_bytes().replace(b"00007", b"00070"))
    before = file_ids(ep)

    with pytest.raises(FileChangedError, match="changed after it was validated"):
        upload_file(client, data, purpose="fine-tune", expected_sha256=validated, options=MULTIPART)

    got = routes(ep)
    assert COMPLETE not in got and got.get(CANCEL) == 1, got
    assert file_ids(ep) == before


def test_small_file_with_other_content_is_not_uploaded(ep, client, data):
    with pytest.raises(FileChangedError):
        upload_file(client, data, purpose="fine-tune", expected_sha256="0" * 64)
    assert routes(ep).get(FILES) is None


def test_the_same_content_as_validated_uploads(ep, client, data):
    file = upload_file(
        client, data, purpose="fine-tune", expected_sha256=sha(data), options=MULTIPART
    )
    assert content(ep, file["id"]) == data.read_bytes()


def test_an_interruption_while_parts_are_in_flight_cancels_the_upload(
    ep, client, data, monkeypatch
):
    calls = 0
    real = BoundedReader.read

    def interrupted(self: BoundedReader, size: int | None = -1) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise KeyboardInterrupt
        return real(self, size)

    monkeypatch.setattr(BoundedReader, "read", interrupted)
    before = file_ids(ep)

    with pytest.raises(KeyboardInterrupt):
        upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    got = routes(ep)
    assert got.get(CANCEL) == 1 and COMPLETE not in got, got
    assert list(upload_statuses(ep).values())[-1] == "cancelled"
    assert file_ids(ep) == before


def test_a_file_that_shrinks_during_the_upload_is_cancelled(ep, client, data, monkeypatch):
    real = uploads.file_digests

    def shrink_first(path: Any, abort: Any = None) -> tuple[str, str, int]:
        with open(path, "r+b") as handle:
            handle.truncate(1500)
        return real(path, abort)

    monkeypatch.setattr(uploads, "file_digests", shrink_first)

    with pytest.raises(FileChangedError):
        upload_file(client, data, purpose="fine-tune", options=MULTIPART)

    got = routes(ep)
    assert got.get(CANCEL) == 1 and COMPLETE not in got, got


# -- pieces ------------------------------------------------------------------------------------


def test_bounded_reader_reads_its_slice_only(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes(range(100)))
    with path.open("rb") as handle:
        handle.seek(10)
        reader = BoundedReader(handle, 25)
        assert len(reader) == 25
        assert reader.read(20) == bytes(range(10, 30))
        assert len(reader) == 5
        assert reader.read(20) == bytes(range(30, 35))
        assert reader.read(20) == b"" and len(reader) == 0


def test_bounded_reader_refuses_a_short_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    with path.open("rb") as handle:
        reader = BoundedReader(handle, 10)
        assert reader.read(10) == b"abc"
        with pytest.raises(FileChangedError):
            reader.read(10)


def test_options_from_the_environment():
    assert UploadOptions.from_env({}) == UploadOptions()
    assert UploadOptions().threshold == 512 * 1024 * 1024
    assert UploadOptions().part_size == 64 * 1024 * 1024
    env = {
        uploads.THRESHOLD_ENV: "1000",
        uploads.PART_SIZE_ENV: " 700 ",
        uploads.PARALLELISM_ENV: "2",
    }
    assert UploadOptions.from_env(env) == UploadOptions(1000, 700, 2)


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        (uploads.THRESHOLD_ENV, "lots", "not a whole number"),
        (uploads.THRESHOLD_ENV, str(513 * 1024 * 1024), "threshold"),
        (uploads.PART_SIZE_ENV, str(65 * 1024 * 1024), "part_size"),
        (uploads.PART_SIZE_ENV, "0", "part_size"),
        (uploads.PARALLELISM_ENV, "0", "parallelism"),
    ],
)
def test_bad_options_in_the_environment_are_named(var, value, message):
    with pytest.raises(UploadError, match=message):
        UploadOptions.from_env({var: value})


def test_the_environment_steers_upload_file(ep, client, data, monkeypatch):
    monkeypatch.setenv(uploads.THRESHOLD_ENV, "100")
    monkeypatch.setenv(uploads.PART_SIZE_ENV, "4096")

    file = upload_file(client, data, purpose="fine-tune")

    assert content(ep, file["id"]) == data.read_bytes()
    assert routes(ep)[PARTS] == -(-data.stat().st_size // 4096)


def test_files_over_8_gb_are_refused_before_any_request(ep, client, tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("wb") as handle:
        handle.truncate(uploads.UPLOAD_MAX_BYTES + 1)  # sparse: no disk used

    with pytest.raises(UploadError, match="at most"):
        upload_file(client, big, purpose="fine-tune")

    assert ep.stats()["requests"] == 0


# -- through the TrainingFile provider -----------------------------------------------------------

CHAT_12 = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"


@pytest.fixture
def provider_env(ep: LocalEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", ep.url)
    monkeypatch.setenv("OPENAI_API_KEY", ep.key)
    monkeypatch.setenv(uploads.THRESHOLD_ENV, "1000")
    monkeypatch.setenv(uploads.PART_SIZE_ENV, "700")


def test_provider_create_uploads_what_check_validated_in_parts(ep, provider_env, tmp_path):
    data = tmp_path / "chat.jsonl"
    shutil.copy(CHAT_12, data)
    provider = TrainingFileProvider()
    checked = provider.check({}, {"path": str(data)})
    assert checked.failures == []

    result = provider.create(checked.inputs)

    assert content(ep, result.id) == data.read_bytes()
    assert result.outs is not None and result.outs["file_id"] == result.id
    assert result.outs["bytes"] == data.stat().st_size
    assert routes(ep)[PARTS] == -(-data.stat().st_size // 700)


def test_provider_create_refuses_a_file_edited_after_check(ep, provider_env, tmp_path):
    data = tmp_path / "chat.jsonl"
    shutil.copy(CHAT_12, data)
    provider = TrainingFileProvider()
    checked = provider.check({}, {"path": str(data)})
    data.write_bytes(data.read_bytes().replace(b"Warsaw", b"Krakow"))

    with pytest.raises(FileChangedError, match="run `pulumi up` again"):
        provider.create(checked.inputs)

    got = routes(ep)
    assert COMPLETE not in got and got.get(CANCEL) == 1, got


def test_provider_check_waits_for_an_unknown_path():
    # During preview the engine's unknowns reach check as pulumi.output.Unknown objects.
    checked = TrainingFileProvider().check({}, {"path": Unknown(), "model": None})
    assert checked.failures == []
    assert "sha256" not in checked.inputs


def test_provider_refuses_a_file_over_8_gb_in_check(tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("wb") as handle:
        handle.truncate(uploads.UPLOAD_MAX_BYTES + 1)
    checked = TrainingFileProvider().check({}, {"path": str(big)})
    assert [f.reason.split(": ", 1)[0] for f in checked.failures] == ["path"]
    assert "at most" in checked.failures[0].reason
