"""The TrainingFile provider: validates data in check, uploads once per content, deletes safely.

Runs in Pulumi's provider process. The file's identity is the sha256 of its bytes, computed in
`check`: editing the data replaces the file; moving or touching it changes nothing. `check` also
computes the size of the job-to-be (example count, tokens, estimated billed tokens), so
`pulumi preview` shows them for a file not uploaded yet.

`create` streams the file from disk; files over 512 MB (or `PULUMI_FINETUNE_MULTIPART_THRESHOLD`
bytes) go through the multipart Uploads API, and only the bytes `check` validated are completed:
see `pulumi_finetune.uploads`.
"""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .. import datasets
from ..errors import NotFoundError
from ..rules import SINGLE_REQUEST_MAX_BYTES
from ..spec import is_unknown
from . import common

PURPOSES = ("fine-tune",)
FORMATS = tuple(f.value for f in datasets.Format)
# A job in one of these states may still read its files.
READING_STATUSES = frozenset({"validating_files", "queued", "running", "paused"})
# Inputs whose change re-validates but never reaches the API.
PROVIDER_OPTIONS = ("model", "format", *common.CONNECTION_OPTIONS)
MAX_LISTED_ERRORS = 20


def _upload_max_bytes() -> int:
    # The upload code (and requests) is imported only when a file is that large: preview of an
    # ordinary program never loads it.
    from ..uploads import UPLOAD_MAX_BYTES

    return UPLOAD_MAX_BYTES


class TrainingFileProvider(ResourceProvider):
    """Pulumi dynamic provider for `pulumi_finetune.TrainingFile`."""

    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def configure(self, req: ConfigureRequest) -> None:
        common.store_config(self, req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = dict(news)
        inputs["purpose"] = news.get("purpose") or "fine-tune"
        failures = [CheckFailure(p, r) for p, r in common.check_connection_options(news)]
        if inputs["purpose"] not in PURPOSES and not is_unknown(inputs["purpose"]):
            failures.append(
                CheckFailure("purpose", f"got {inputs['purpose']!r}; must be 'fine-tune'")
            )
        declared = news.get("format")
        if declared is not None and not is_unknown(declared) and declared not in FORMATS:
            failures.append(
                CheckFailure("format", f"got {declared!r}; must be one of {', '.join(FORMATS)}")
            )
            declared = None
        path = news.get("path")
        if is_unknown(path) or is_unknown(news.get("model")):
            return CheckResult(inputs, failures)
        if not isinstance(path, str) or not path:
            failures.append(CheckFailure("path", "is required: the local path of a JSONL file"))
            return CheckResult(inputs, failures)
        if not Path(path).is_file():
            failures.append(CheckFailure("path", f"no such file: {path}"))
            return CheckResult(inputs, failures)
        size = Path(path).stat().st_size
        if size > SINGLE_REQUEST_MAX_BYTES and size > _upload_max_bytes():
            failures.append(
                CheckFailure(
                    "path",
                    f"{path} has {size} bytes; OpenAI takes files of at most "
                    f"{_upload_max_bytes()} bytes (8 GB)",
                )
            )
            return CheckResult(inputs, failures)
        report = datasets.validate_file(
            path, format=declared, model=news.get("model"), max_errors=MAX_LISTED_ERRORS
        )
        for issue in report.errors:
            failures.append(
                CheckFailure("path", f"{path}:{issue.line}: {issue.path}: {issue.message}")
            )
        if report.error_count > len(report.errors):
            failures.append(
                CheckFailure(
                    "path", f"... and {report.error_count - len(report.errors)} more errors"
                )
            )
        inputs.update(
            sha256=report.sha256,
            bytes=report.bytes,
            format=report.format,
            example_count=report.example_count,
            total_tokens=report.total_tokens,
            max_example_tokens=report.max_example_tokens,
            estimated_billed_tokens=report.billed_tokens_estimate,
            default_epochs=report.default_epochs,
            tokenizer=report.tokenizer,
            filename=Path(path).name,
        )
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [
            key
            for key in ("sha256", "purpose")
            if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]
        updates = [key for key in PROVIDER_OPTIONS if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            stables=[] if replaces else ["file_id", "sha256"],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Upload the bytes that `check` validated: streamed in one request, or through the
        multipart Uploads API above the threshold (see `pulumi_finetune.uploads`). A file edited
        since `check` is refused (a multipart upload is cancelled, never completed)."""
        path = str(props["path"])
        with common.client_for(self, props) as client:
            from .. import uploads

            uploaded = uploads.upload_file(
                client,
                path,
                purpose=str(props["purpose"]),
                filename=props.get("filename"),
                expected_sha256=str(props.get("sha256")),
            )
        outs = {k: v for k, v in props.items() if k != "__provider"}
        outs.update(
            file_id=uploaded["id"],
            filename=uploaded.get("filename"),
            bytes=uploaded.get("bytes", props.get("bytes")),
            status=uploaded.get("status"),
            created_at=uploaded.get("created_at"),
        )
        return CreateResult(uploaded["id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with common.client_for(self, props) as client:
            try:
                live = client.retrieve_file(id_)
            except NotFoundError:
                return ReadResult("", {})
        outs = {k: v for k, v in props.items() if k != "__provider"}
        outs.update(
            status=live.get("status"), bytes=live.get("bytes"), filename=live.get("filename")
        )
        return ReadResult(id_, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = {k: v for k, v in olds.items() if k != "__provider"}
        for key in (
            *PROVIDER_OPTIONS,
            "path",
            "total_tokens",
            "max_example_tokens",
            "estimated_billed_tokens",
            "default_epochs",
            "tokenizer",
        ):
            outs[key] = news.get(key)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the upload, unless a job that may still read it is running.

        Such a file is kept (and forgotten by state): deleting it could fail that job. A job
        that finished no longer needs its files.
        """
        with common.client_for(self, props) as client:
            for job in itertools.islice(client.list_jobs(limit=100), 100):
                if job.get("status") in READING_STATUSES and id_ in (
                    job.get("training_file"),
                    job.get("validation_file"),
                ):
                    return
            with contextlib.suppress(NotFoundError):
                client.delete_file(id_)
