"""``pulumi-finetune validate``: exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_finetune.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
VALID = DATA / "valid" / "chat_12.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(VALID))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    summary = lines[0]
    assert summary.startswith(f"{VALID}: chat, 12 examples, ")
    assert "estimated billed tokens" in summary and "(8 epochs)" in summary
    assert summary.endswith("0 errors, 0 warnings: valid")


def test_invalid_file_exits_1_with_one_line_per_issue(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "malformed" / "unknown_role.jsonl"
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0] == (
        f"{path}:7: error: messages[1].role: unknown role 'bot' "
        "(expected system, user, assistant, tool, function)"
    )
    assert lines[-1].endswith("1 error, 0 warnings: INVALID")


def test_warnings_only_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "malformed" / "duplicate_examples.jsonl"
    code, out, _ = run(capsys, "validate", str(path), "--no-tokens")
    assert code == 0
    assert f"{path}:9: warning: $: duplicate of line 4: remove one of them" in out
    assert "tokens" not in out.splitlines()[-1]


def test_max_errors_and_more_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("x\n" * 30)
    code, out, _ = run(capsys, "validate", str(path), "--max-errors", "3", "--no-tokens")
    assert code == 1
    lines = out.strip().splitlines()
    assert [ln.split(":")[1] for ln in lines[:3]] == ["1", "2", "3"]
    assert lines[3] == "... and 27 more errors"  # 30 broken lines, no "too few examples"
    assert len(lines) == 5


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(VALID), "--json", "--model", "gpt-4o-mini")
    assert code == 0
    d = json.loads(out)
    assert d["ok"] is True and d["format"] == "chat" and d["example_count"] == 12
    assert d["model"] == "gpt-4o-mini" and d["token_limit"] == 65_536
    assert d["tokenizer"] in ("o200k_base", "estimate")


def test_json_output_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "malformed" / "chat_for_babbage.jsonl"
    code, out, _ = run(capsys, "validate", str(path), "--json", "--model", "babbage-002")
    assert code == 1
    d = json.loads(out)
    assert d["ok"] is False and d["errors"][0]["line"] == 0  # the whole file
    assert "chat data (inferred from line 1) cannot train babbage-002" in d["summary"]


def test_format_and_model_flags(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "valid" / "completions.jsonl"
    assert run(capsys, "validate", str(path), "--format", "completions")[0] == 0
    assert run(capsys, "validate", str(path), "--model", "gpt-4o-mini")[0] == 1
    assert run(capsys, "validate", str(path), "--model", "davinci-002")[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["validate"],
        ["validate", str(VALID), "--format", "xml"],
        ["validate", str(VALID), "--max-errors", "lots"],
        ["validate", str(VALID), "--max-errors", "-1"],
        ["frobnicate"],
        ["validate", "/nonexistent/file.jsonl"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_console_entry_point_runs_as_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.cli", "validate", str(VALID), "--no-tokens"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "12 examples" in proc.stdout


# A child that draws the bar for any file size (the threshold is what the tests may not wait for).
_BAR_CHILD = (
    "import sys; import pulumi_finetune.cli as cli; cli.PROGRESS_MIN_BYTES = 0; "
    "sys.exit(cli.main(sys.argv[1:]))"
)


def test_no_progress_bar_when_piped() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _BAR_CHILD, "validate", str(VALID), "--no-tokens"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 1 and "\r" not in proc.stdout


def test_progress_bar_on_a_terminal() -> None:
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    # a terminal 100 columns wide, as a real one reports (a fresh pty says 0)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", _BAR_CHILD, "validate", str(VALID), "--no-tokens"],
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = out.decode()
    assert "chat_12.jsonl:" in text and "%|" in text  # tqdm's bar, named after the file
    assert "12 examples" in text  # and the report after it
