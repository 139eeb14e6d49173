"""The ``pulumi-finetune`` command line.

``pulumi-finetune validate FILE`` checks a JSONL training file and exits 0 when it is valid
(warnings allowed), 1 when it has errors, 2 on a usage error. On a terminal it shows a progress
bar (on stderr) for a large file, or one that takes more than a couple of seconds; piped or
redirected, it prints only the report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from pulumi_finetune import watch
from pulumi_finetune.datasets import (
    DataFileError,
    DataIssue,
    Format,
    ValidationReport,
    validate_file,
)
from pulumi_finetune.plugin import install as plugin_install

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pulumi-finetune", description="Tools for OpenAI fine-tuning with Pulumi."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    v = sub.add_parser(
        "validate",
        help="check a JSONL training or validation file",
        description="Check a JSONL fine-tuning file line by line. Exit 0 when valid (warnings "
        "allowed), 1 when it has errors, 2 on a usage error.",
    )
    v.add_argument("file", metavar="FILE", help="the .jsonl file")
    v.add_argument(
        "--format",
        choices=[f.value for f in Format],
        help="expected format (default: inferred from the first example)",
    )
    v.add_argument("--model", help="base model to check against, e.g. gpt-4o-mini-2024-07-18")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument("--no-tokens", action="store_true", help="skip token counting (faster)")
    v.add_argument(
        "--max-errors",
        type=_positive_int,
        default=20,
        metavar="N",
        help="list at most N errors and N warnings (default 20)",
    )
    watch.add_parser(sub)
    plugin_install.add_parser(sub)
    return p


def _issue_line(file: str, issue: DataIssue) -> str:
    if issue.line == 0:  # the whole file
        return f"{file}: {issue.severity}: {issue.message}"
    return f"{file}:{issue.line}: {issue.severity}: {issue.path}: {issue.message}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _summary_line(file: str, r: ValidationReport) -> str:
    parts = [f"{file}: {r.format}", _plural(r.example_count, "example")]
    if r.total_tokens is not None:
        approx = "~" if r.tokenizer == "estimate" else ""
        parts.append(f"{approx}{r.total_tokens:,} tokens ({r.tokenizer})")
        parts.append(
            f"estimated billed tokens {r.billed_tokens_estimate:,} "
            f"({_plural(r.default_epochs or 0, 'epoch')})"
        )
    parts.append(_plural(r.error_count, "error"))
    parts.append(_plural(r.warning_count, "warning"))
    verdict = "valid" if r.ok else "INVALID"
    return f"{', '.join(parts)}: {verdict}"


#: Files at least this large show the bar at once; smaller ones after PROGRESS_DELAY seconds.
PROGRESS_MIN_BYTES = 50 * 1024 * 1024
PROGRESS_DELAY = 2.0


@contextmanager
def _progress(file: str) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing a tqdm bar on stderr, when both stdout and stderr are a
    terminal; None otherwise (nothing is drawn into a pipe, a file or a CI log)."""
    if not (sys.stderr.isatty() and sys.stdout.isatty()):
        yield None
        return
    try:
        size = os.stat(file).st_size
    except (OSError, ValueError):
        size = 0
    from tqdm import tqdm  # imported only when a bar may be drawn

    bar = tqdm(
        total=size,
        desc=os.path.basename(file),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        leave=False,
        delay=0 if size >= PROGRESS_MIN_BYTES else PROGRESS_DELAY,
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def update(done: int) -> None:
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def _validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        with _progress(args.file) as progress:
            report = validate_file(
                args.file,
                format=args.format,
                model=args.model,
                count_tokens=not args.no_tokens,
                max_errors=args.max_errors,
                progress=progress,
            )
    except OSError as e:
        # DataFileError (not a regular file, missing, a symlink loop, ...) or a read error:
        # one line, exit 2
        parser.error(str(e) if isinstance(e, DataFileError) else f"cannot read {args.file}: {e}")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0 if report.ok else 1
    out = sys.stdout
    for issue in report.errors:
        print(_issue_line(args.file, issue), file=out)
    if report.error_count > len(report.errors):
        print(f"... and {_plural(report.error_count - len(report.errors), 'more error')}", file=out)
    for issue in report.warnings:
        print(_issue_line(args.file, issue), file=out)
    if report.warning_count > len(report.warnings):
        more = report.warning_count - len(report.warnings)
        print(f"... and {_plural(more, 'more warning')}", file=out)
    print(_summary_line(args.file, report), file=out)
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "validate":
        return _validate(args, parser)
    if args.command == "watch":
        return watch.run(args)
    if args.command == "plugin":
        return plugin_install.run(args)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
