"""Uploading a training file: one streamed `POST /files`, or the multipart Uploads API.

Files up to the threshold (512 MB by default, OpenAI's limit for `POST /files`) go up in one
multipart request streamed from disk. Larger files, up to OpenAI's 8 GB, use the Uploads API:

1. `POST /uploads` with filename, purpose, bytes and mime type;
2. `POST /uploads/{id}/parts` for each slice of at most 64 MiB (the part size of OpenAI's own
   SDK), a few at a time on a small thread pool. Each part is streamed from the file through a
   bounded reader, so memory stays at a few buffers per part in flight, whatever the file size.
   A part that fails is retried by the client like any request (a part that was stored but whose
   answer was lost is harmless: only the parts listed at completion make the file);
3. meanwhile one more thread reads the file in order for its md5 (sent with `/complete`, so the
   endpoint checks the bytes it assembled) and its sha256 (compared with the sha256 that
   `pulumi preview` validated: a file edited during the upload is never completed);
4. `POST /uploads/{id}/complete` with the part ids in file order and the md5.

Any failure or interruption (an error, Ctrl-C, a changed file) stops the parts still to go and
cancels the upload with `POST /uploads/{id}/cancel`: no half-made upload is left pending. When the
answer to `/complete` itself is lost, the upload is cancelled if it can still be; if it cannot,
it completed, and its file is found by name, size and time.

A process killed outright cannot cancel anything; OpenAI expires a pending upload an hour after it
was created, and no File is ever made from it.

Settings, read from the environment of the process that uploads (Pulumi's provider process
inherits the environment of `pulumi`), for tests and unusual links:

- `PULUMI_FINETUNE_MULTIPART_THRESHOLD`: files larger than this many bytes use the Uploads API
  (default 536870912, 512 MiB; at most that, since `POST /files` takes no more);
- `PULUMI_FINETUNE_UPLOAD_PART_SIZE`: bytes per part (default and maximum 67108864, 64 MiB);
- `PULUMI_FINETUNE_UPLOAD_PARALLELISM`: parts in flight at once (default 4, at most 16). Requests
  also share the client's per-process cap (`PULUMI_FINETUNE_MAX_CONCURRENT_REQUESTS`, 4).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from requests_toolbelt import MultipartEncoder

from . import datasets
from .client import JSON, Client
from .errors import (
    APIConnectionError,
    APIError,
    FileChangedError,
    InternalServerError,
    UploadError,
)
from .rules import SINGLE_REQUEST_MAX_BYTES

MiB = 1024 * 1024
UPLOAD_MAX_BYTES = 8 * 1024 * MiB
"""The most one Upload accepts."""
PART_MAX_BYTES = 64 * MiB
MAX_PARALLELISM = 16
MIME_TYPE = "text/jsonl"

THRESHOLD_ENV = "PULUMI_FINETUNE_MULTIPART_THRESHOLD"
PART_SIZE_ENV = "PULUMI_FINETUNE_UPLOAD_PART_SIZE"
PARALLELISM_ENV = "PULUMI_FINETUNE_UPLOAD_PARALLELISM"

_HASH_CHUNK = MiB


class _Aborted(Exception):
    """Another part failed (or the upload was interrupted): stop sending this one."""


@dataclass(frozen=True)
class UploadOptions:
    """When to use the Uploads API and how to send the parts."""

    threshold: int = SINGLE_REQUEST_MAX_BYTES
    """Files larger than this many bytes use the Uploads API."""
    part_size: int = PART_MAX_BYTES
    """Bytes per part, at most 64 MiB."""
    parallelism: int = 4
    """Parts in flight at once."""

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= SINGLE_REQUEST_MAX_BYTES:
            raise ValueError(f"threshold must be between 0 and {SINGLE_REQUEST_MAX_BYTES} bytes")
        if not 1 <= self.part_size <= PART_MAX_BYTES:
            raise ValueError(f"part_size must be between 1 and {PART_MAX_BYTES} bytes")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise ValueError(f"parallelism must be between 1 and {MAX_PARALLELISM}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UploadOptions:
        """The options set in the environment (see the module's docstring); defaults otherwise."""
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for name, var in (
            ("threshold", THRESHOLD_ENV),
            ("part_size", PART_SIZE_ENV),
            ("parallelism", PARALLELISM_ENV),
        ):
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise UploadError(f"{var}={raw!r} is not a whole number") from None
        try:
            return cls(**values)
        except ValueError as exc:
            raise UploadError(f"upload settings from the environment: {exc}") from None


class BoundedReader:
    """`length` bytes of a file from its current position, read on demand.

    `len()` is what is left, as `requests_toolbelt` expects of a streamed field. A file that ends
    early (it shrank) raises instead of sending a short part; `abort` stops a part in flight.
    """

    def __init__(self, handle: IO[bytes], length: int, abort: threading.Event | None = None):
        self._handle = handle
        self._left = length
        self._abort = abort

    def __len__(self) -> int:
        return self._left

    def read(self, size: int | None = -1) -> bytes:
        if self._abort is not None and self._abort.is_set():
            raise _Aborted()
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(want)
        if not data and want > 0:
            raise FileChangedError(
                f"{getattr(self._handle, 'name', 'the file')} ended {self._left} bytes early: "
                "it changed while it was being uploaded"
            )
        self._left -= len(data)
        return data


def file_digests(
    path: str | os.PathLike[str], abort: threading.Event | None = None
) -> tuple[str, str, int]:
    """(md5 hex, sha256 hex, bytes) of a file, read in order 1 MiB at a time."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            if abort is not None and abort.is_set():
                raise _Aborted()
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha.hexdigest(), size


def upload_file(
    client: Client,
    path: str | os.PathLike[str],
    *,
    purpose: str,
    filename: str | None = None,
    expected_sha256: str | None = None,
    options: UploadOptions | None = None,
) -> JSON:
    """Upload a file and return the File object (`id`, `bytes`, `filename`, `status`, ...).

    With `expected_sha256`, a file whose content differs is not uploaded (or, for a multipart
    upload, not completed): the caller validated other bytes than these.
    """
    options = options or UploadOptions.from_env()
    file_path = Path(path)
    name = filename or file_path.name
    size = file_path.stat().st_size
    # A host without OpenAI's Uploads API (Nebius) takes a file of any size in one request.
    if size <= options.threshold or not client.settings.host_row().uploads_api:
        if expected_sha256 is not None:
            digest, _ = datasets.sha256_file(file_path)
            _require_same(file_path, digest, expected_sha256)
        return client.upload_file(file_path, purpose=purpose, filename=name)
    if size > UPLOAD_MAX_BYTES:
        raise UploadError(
            f"{file_path} has {size} bytes; an upload takes at most {UPLOAD_MAX_BYTES} (8 GB)"
        )
    return MultipartUpload(
        client, file_path, size=size, purpose=purpose, filename=name, options=options
    ).run(expected_sha256)


def _require_same(path: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise FileChangedError(
            f"{path} changed after it was validated (sha256 now {actual[:12]}…, validated "
            f"{expected[:12]}…); run `pulumi up` again to validate and upload the new content"
        )


class MultipartUpload:
    """One file through the Uploads API; see the module's docstring for the protocol."""

    def __init__(
        self,
        client: Client,
        path: Path,
        *,
        size: int,
        purpose: str,
        filename: str,
        options: UploadOptions,
    ) -> None:
        self.client = client
        self.path = path
        self.size = size
        self.purpose = purpose
        self.filename = filename
        self.options = options
        self.part_count = max(1, math.ceil(size / options.part_size))
        self.upload: JSON = {}
        self._abort = threading.Event()

    @property
    def upload_id(self) -> str:
        return str(self.upload.get("id") or "")

    def run(self, expected_sha256: str | None = None) -> JSON:
        # A create whose answer is lost may leave an empty pending upload behind; it holds no
        # bytes, makes no File and expires within the hour. Retrying it is worth that.
        self.upload = self.client.request(
            "POST",
            "uploads",
            json={
                "filename": self.filename,
                "purpose": self.purpose,
                "bytes": self.size,
                "mime_type": MIME_TYPE,
                **self.client.upload_expiry(),
            },
        )
        if not self.upload_id:
            raise UploadError(f"POST /uploads answered without an upload id: {self.upload!r}")
        try:
            part_ids, md5 = self._send_parts(expected_sha256)
        except BaseException as exc:
            self._cancel_after(exc)
            raise
        return self._complete(part_ids, md5)

    # -- parts ---------------------------------------------------------------------------------

    def _send_parts(self, expected_sha256: str | None) -> tuple[list[str], str]:
        """Send every part (and hash the file alongside); the part ids in file order and md5."""
        parts_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.options.parallelism, thread_name_prefix="upload-part"
        )
        hash_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="upload-md5"
        )
        try:
            hashing = hash_pool.submit(self._hash, expected_sha256)
            parts = [parts_pool.submit(self._send_part, index) for index in range(self.part_count)]
            every: list[concurrent.futures.Future[Any]] = [hashing, *parts]
            done, _ = concurrent.futures.wait(every, return_when=concurrent.futures.FIRST_EXCEPTION)
            for future in every:
                error = future.exception() if future in done else None
                if error is not None:
                    raise error
            return [part.result() for part in parts], hashing.result()
        finally:
            # On any way out but success: parts not started never start, parts in flight stop at
            # their next read, and the threads are joined before the upload is cancelled.
            self._abort.set()
            parts_pool.shutdown(wait=True, cancel_futures=True)
            hash_pool.shutdown(wait=True, cancel_futures=True)

    def _hash(self, expected_sha256: str | None) -> str:
        """The file's md5, after checking it is the content that was validated (and its size)."""
        md5, sha256, hashed = file_digests(self.path, self._abort)
        if hashed != self.size:
            raise FileChangedError(
                f"{self.path} has {hashed} bytes, not the {self.size} it had when the upload "
                "started: it changed while it was being uploaded"
            )
        if expected_sha256 is not None:
            _require_same(self.path, sha256, expected_sha256)
        return md5

    def _send_part(self, index: int) -> str:
        offset = index * self.options.part_size
        length = min(self.options.part_size, self.size - offset)
        handles: list[IO[bytes]] = []

        def body() -> tuple[Any, str]:
            # A fresh stream per attempt: the client may retry the part.
            if self._abort.is_set():
                raise _Aborted()
            handle = self.path.open("rb")
            handles.append(handle)
            handle.seek(offset)
            encoder = MultipartEncoder(
                fields={
                    "data": (
                        f"{self.filename}.part{index}",
                        BoundedReader(handle, length, self._abort),
                        "application/octet-stream",
                    )
                }
            )
            return encoder, encoder.content_type

        try:
            part: JSON = self.client.request(
                "POST", f"uploads/{self.upload_id}/parts", body=body, retry_if_sent=True
            )
        finally:
            for handle in handles:
                handle.close()
        part_id = part.get("id")
        if not isinstance(part_id, str) or not part_id:
            raise UploadError(f"a part of upload {self.upload_id} was answered without an id")
        return part_id

    # -- completion and cancellation -----------------------------------------------------------

    def _complete(self, part_ids: list[str], md5: str) -> JSON:
        try:
            done: JSON = self.client.request(
                "POST",
                f"uploads/{self.upload_id}/complete",
                json={"part_ids": part_ids, "md5": md5},
                retry_if_sent=False,
            )
        except (InternalServerError, APIConnectionError) as exc:
            # The answer was lost: the upload may or may not have completed.
            if isinstance(exc, APIConnectionError) and not exc.sent:
                self._cancel_after(exc)
                raise
            return self._settle_lost_completion(exc)
        except BaseException as exc:
            self._cancel_after(exc)
            raise
        return self._file_of(done)

    def _settle_lost_completion(self, exc: Exception) -> JSON:
        try:
            self.client.request("POST", f"uploads/{self.upload_id}/cancel")
        except APIError as cancel_error:
            if cancel_error.status >= 500 or cancel_error.status == 429:
                exc.add_note(self._left_pending_note(cancel_error))
                raise exc from None
            # The upload is no longer pending: it completed before the answer was lost.
            candidates = self._completed_file_candidates()
            if len(candidates) == 1:
                return candidates[0]
            ids = ", ".join(str(c.get("id")) for c in candidates) or "none"
            raise UploadError(
                f"upload {self.upload_id} of {self.path} completed but its answer was lost; "
                f"files named {self.filename!r} of {self.size} bytes made since it started: "
                f"{ids}. Delete the one it made, or keep it, and run `pulumi up` again"
            ) from exc
        except Exception as cancel_error:
            exc.add_note(self._left_pending_note(cancel_error))
            raise exc from None
        exc.add_note(f"upload {self.upload_id} was cancelled; nothing was left behind")
        raise exc

    def _completed_file_candidates(self) -> list[JSON]:
        """Files that the lost completion may have made: same purpose, name and size, made since
        the upload was created (more than one when another upload of the same name raced)."""
        created = int(self.upload.get("created_at") or 0)
        return [
            item
            for item in self.client.list_files(purpose=self.purpose)
            if item.get("filename") == self.filename
            and item.get("bytes") == self.size
            and int(item.get("created_at") or 0) >= created
        ]

    def _file_of(self, done: JSON) -> JSON:
        file = done.get("file")
        if done.get("status") != "completed" or not isinstance(file, dict) or not file.get("id"):
            raise UploadError(
                f"upload {self.upload_id} did not complete (status {done.get('status')!r})"
            )
        return file

    def _cancel_after(self, exc: BaseException) -> None:
        """Cancel the upload because of `exc`; say on `exc` what became of it."""
        try:
            self.client.request("POST", f"uploads/{self.upload_id}/cancel")
        except Exception as cancel_error:
            exc.add_note(self._left_pending_note(cancel_error))
        else:
            exc.add_note(f"upload {self.upload_id} was cancelled; nothing was left behind")

    def _left_pending_note(self, cancel_error: BaseException) -> str:
        return (
            f"upload {self.upload_id} could not be cancelled ({cancel_error}); it stays pending "
            "until it expires, an hour after it was created, and makes no file"
        )
