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
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CreateResult, ReadResult

from .. import hosts, lifecycle
from ..errors import NotFoundError
from ..rules import SINGLE_REQUEST_MAX_BYTES
from ..schema import ORIGIN, TRAINING_FILE
from ..spec import is_unknown
from . import common
from .failures import explained

if TYPE_CHECKING:
    from .. import datasets

PURPOSES = ("fine-tune",)
# The data formats (datasets.Format); the validator itself is imported only when check runs,
# so the program side, which imports this module to name the provider class, never loads it.
FORMATS = ("chat", "completions", "preference", "reinforcement")
# A job in one of these states may still read its files.
READING_STATUSES = frozenset({"validating_files", "queued", "running", "paused"})
MAX_LISTED_ERRORS = 20


# What check records from the validation report; reused while the bytes, model and format hold.
REPORT_OUTPUTS = (
    "sha256",
    "bytes",
    "format",
    "example_count",
    "total_tokens",
    "max_example_tokens",
    "billed_tokens_per_epoch",
    "estimated_billed_tokens",
    "default_epochs",
    "tokenizer",
)


def _recorded_report_holds(olds: Mapping[str, Any], sha256: str, declared: Any, model: Any) -> bool:
    """Whether the last check's report still describes this file: same content hash, same
    model, and the declared format (if any) is the one recorded."""
    return (
        bool(olds.get("sha256"))
        and olds.get("sha256") == sha256
        and olds.get("model") == model
        and declared in (None, olds.get("format"))
        and all(key in olds for key in REPORT_OUTPUTS)
    )


def _upload_max_bytes() -> int:
    # The upload code (and requests) is imported only when a file is that large: preview of an
    # ordinary program never loads it.
    from ..uploads import UPLOAD_MAX_BYTES

    return UPLOAD_MAX_BYTES


def _per_epoch(report: datasets.ValidationReport) -> int | None:
    """Σ min(limit, tokens): the billed tokens of one pass over the data (the report's estimate
    is this times the default epochs)."""
    if report.billed_tokens_estimate is None or not report.default_epochs:
        return None
    return report.billed_tokens_estimate // report.default_epochs


class TrainingFileProvider(common.TableProvider):
    """Pulumi dynamic provider for `pulumi_finetune.TrainingFile`."""

    table = TRAINING_FILE

    def check_inputs(
        self, inputs: dict[str, Any], olds: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """Validates the data and adds what `check` computes from it (see the table)."""
        failures = list(common.check_connection_options(inputs))
        failures.extend(common.check_host(self, inputs))
        purpose = inputs.get("purpose")
        if purpose not in PURPOSES and not is_unknown(purpose):
            failures.append(("purpose", f"got {purpose!r}; must be 'fine-tune'"))
        declared = inputs.get("format")
        if declared is not None and not is_unknown(declared) and declared not in FORMATS:
            failures.append(("format", f"got {declared!r}; must be one of {', '.join(FORMATS)}"))
            declared = None
        path = inputs.get("path")
        if is_unknown(path) or is_unknown(inputs.get("model")):
            return failures
        if not isinstance(path, str) or not path:
            failures.append(("path", "is required: the local path of a JSONL file"))
            return failures
        if not Path(path).is_file():
            failures.append(("path", f"no such file: {path}"))
            return failures
        size = Path(path).stat().st_size
        if size > SINGLE_REQUEST_MAX_BYTES and size > _upload_max_bytes():
            failures.append(
                (
                    "path",
                    f"{path} has {size} bytes; OpenAI takes files of at most "
                    f"{_upload_max_bytes()} bytes (8 GB)",
                )
            )
            return failures
        try:
            from .. import datasets

            sha256, _ = datasets.sha256_file(path)
        except OSError as exc:
            failures.append(("path", str(exc)))
            return failures
        if _recorded_report_holds(olds, sha256, declared, inputs.get("model")):
            # Same bytes, same model and format: the data was validated when it was recorded;
            # reuse that report instead of parsing and tokenizing the whole file again.
            inputs.update({key: olds.get(key) for key in REPORT_OUTPUTS})
            inputs["filename"] = Path(path).name
            return failures
        try:
            report = datasets.validate_file(
                path, format=declared, model=inputs.get("model"), max_errors=MAX_LISTED_ERRORS
            )
        except OSError as exc:
            failures.append(("path", str(exc)))
            return failures
        for issue in report.errors:
            failures.append(("path", issue.located(path)))
        if report.error_count > len(report.errors):
            failures.append(
                ("path", f"... and {report.error_count - len(report.errors)} more errors")
            )
        inputs.update(
            sha256=report.sha256,
            bytes=report.bytes,
            format=report.format,
            example_count=report.example_count,
            total_tokens=report.total_tokens,
            max_example_tokens=report.max_example_tokens,
            billed_tokens_per_epoch=_per_epoch(report),
            estimated_billed_tokens=report.billed_tokens_estimate,
            default_epochs=report.default_epochs,
            tokenizer=report.tokenizer,
            filename=Path(path).name,
        )
        return failures

    @explained("Unable to upload the training file", common.base_url_of)
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
        outs = {**common.inputs_of(props), **self.table.from_api(uploaded)}
        outs[ORIGIN.name] = client.settings.origin
        if outs["bytes"] is None:
            outs["bytes"] = props.get("bytes")
        return CreateResult(uploaded["id"], outs)

    @explained("Unable to refresh the training file", common.base_url_of)
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The file as the endpoint reports it; a file gone leaves the state, except one that
        expired on a host that expires every upload (Azure: `expires_after`): that one stays,
        with status `expired`, so a refresh never re-uploads it and so replaces (re-trains)
        the jobs made from it. A job created later needs it again: `pulumi up --replace` it.
        A file recorded at an origin this provider now has no key for is not asked for: its
        state is kept as recorded."""
        settings = common.settings_for(self, props)
        if common.recorded_origin(props):
            why = common.elsewhere(self, props, settings)
            if why:
                print(common.kept_unread(f"file {id_}", why), file=sys.stderr, flush=True)
                return ReadResult(id_, common.inputs_of(props))
        with common.client_for(self, props, settings) as client:
            try:
                live = client.retrieve_file(id_)
            except NotFoundError:
                if _expired(client.settings.host_row(), props):
                    return ReadResult(id_, {**common.inputs_of(props), "status": "expired"})
                return ReadResult("", {})
        outs = {**common.inputs_of(props), **self.table.from_api(live)}
        outs["host"] = outs.get("host") or common.host_of(self, props)
        outs[ORIGIN.name] = common.recorded_origin(props) or settings.origin
        return ReadResult(id_, outs)

    @explained("Unable to delete the training file", common.base_url_of)
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the upload, unless a job that may still read it is running.

        Such a file is kept (and forgotten by state): deleting it could fail that job. A job
        that finished no longer needs its files. A file that lives where this provider now has
        no key (its settings moved) is left there, with a line on the stack's row: a file left
        behind trains and bills nothing, so a move is not refused for it.
        """
        settings = common.settings_for(self, props)
        why = common.elsewhere(self, props, settings)
        if why:
            print(common.forgotten(f"file {id_}", why), file=sys.stderr, flush=True)
            return
        with common.client_for(self, props, settings) as client:
            for job in itertools.islice(client.list_jobs(limit=100), 100):
                if job.get("status") in READING_STATUSES and id_ in (
                    job.get("training_file"),
                    job.get("validation_file"),
                ):
                    return
            with contextlib.suppress(NotFoundError):
                client.delete_file(id_)


def _expired(host: hosts.Host, props: Mapping[str, Any]) -> bool:
    """Whether the host expires uploads and this one's day has come (`lifecycle.today`)."""
    created = props.get("created_at")
    if host.upload_expires_after is None or not isinstance(created, int | float):
        return False
    ends = datetime.fromtimestamp(created + host.upload_expires_after, UTC).date()
    return ends <= lifecycle.today()
