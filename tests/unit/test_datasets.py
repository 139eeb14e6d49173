"""validate_file on the committed corpus of valid and malformed datasets, and the helpers."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pulumi_finetune.datasets import (
    DataIssue,
    Format,
    ValidationReport,
    compare_files,
    estimate_epochs,
    limits,
    reader,
    sha256_file,
    token_limit,
    validate_file,
)
from pulumi_finetune.datasets.digests import DigestTable

DATA = Path(__file__).resolve().parents[1] / "data"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_datasets", DATA / "make_datasets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_datasets"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def test_committed_files_match_generator() -> None:
    for path, data in gen.generated().items():
        assert path.is_file(), f"{path} missing: run python tests/data/make_datasets.py"
        assert path.read_bytes() == data, f"{path} is stale: run tests/data/make_datasets.py"


def test_corpus_is_large_enough() -> None:
    assert len(list((DATA / "malformed").glob("*.jsonl"))) >= 25
    assert {c.name for c in gen.MALFORMED} == {p.stem for p in (DATA / "malformed").glob("*.jsonl")}


# --------------------------------------------------------------------------------------------
# Malformed corpus


@pytest.mark.parametrize("case", gen.MALFORMED, ids=lambda c: c.name)
def test_malformed(case: object) -> None:
    path = DATA / "malformed" / f"{case.name}.jsonl"  # type: ignore[attr-defined]
    report = validate_file(path, model=case.model, format=case.format)  # type: ignore[attr-defined]
    issues = report.errors + report.warnings
    got = sorted((i.severity, i.line, i.path) for i in issues)
    want = sorted((e.severity, e.line, e.path) for e in case.expect)  # type: ignore[attr-defined]
    assert got == want, "\n".join(str(i) for i in issues)
    for exp in case.expect:  # type: ignore[attr-defined]
        key = (exp.severity, exp.line, exp.path)
        messages = [i.message.lower() for i in issues if (i.severity, i.line, i.path) == key]
        assert any(all(w.lower() in m for w in exp.words) for m in messages), (exp, messages)
    assert report.ok is case.ok  # type: ignore[attr-defined]
    assert report.error_count == len(report.errors)
    assert report.warning_count == len(report.warnings)
    if not report.ok:
        first = report.errors[0]
        assert report.summary().startswith(str(first))
    if "examples" in case.extra:  # type: ignore[attr-defined]
        assert report.example_count == case.extra["examples"]  # type: ignore[attr-defined]


def test_malformed_also_without_tokens() -> None:
    # errors do not depend on token counting (the over-long warning does)
    for case in gen.MALFORMED:
        path = DATA / "malformed" / f"{case.name}.jsonl"
        with_tokens = validate_file(path, model=case.model)
        without = validate_file(path, model=case.model, count_tokens=False)
        assert without.errors == with_tokens.errors, case.name
        assert without.total_tokens is None and without.tokenizer is None


def test_unknown_role_summary_exact() -> None:
    report = validate_file(DATA / "malformed" / "unknown_role.jsonl")
    assert report.summary() == (
        "line 7: messages[1].role: unknown role 'bot' "
        "(expected system, user, assistant, tool, function)"
    )


# --------------------------------------------------------------------------------------------
# Valid datasets


@pytest.mark.parametrize("name", sorted(gen.VALID))
def test_valid(name: str) -> None:
    path = DATA / "valid" / name
    report = validate_file(path)
    assert report.ok, report.summary()
    assert report.errors == [] and report.warnings == []
    assert report.format == gen.VALID_FORMATS[name]
    assert report.example_count == 12
    assert report.total_tokens is not None and report.total_tokens > 12 * 5
    assert report.max_example_tokens is not None
    assert report.default_epochs == estimate_epochs(12) == 8
    digest, size = sha256_file(path)
    assert report.sha256 == digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.bytes == size == path.stat().st_size
    assert report.summary().startswith(f"valid {report.format} data: 12 examples")


@pytest.mark.parametrize("name", sorted(gen.VALID))
def test_valid_with_declared_format(name: str) -> None:
    fmt = gen.VALID_FORMATS[name]
    assert validate_file(DATA / "valid" / name, format=fmt, count_tokens=False).ok


def test_declared_format_mismatch() -> None:
    report = validate_file(DATA / "valid" / "chat_12.jsonl", format="completions")
    assert not report.ok
    assert report.error_count == 12
    assert "chat example but the file is completions (declared)" in report.errors[0].message


def test_chat_model_accepts_chat() -> None:
    report = validate_file(DATA / "valid" / "chat_12.jsonl", model="gpt-4o-mini-2024-07-18")
    assert report.ok
    assert report.tokenizer in ("o200k_base", "estimate")


def test_completions_model_accepts_completions() -> None:
    report = validate_file(DATA / "valid" / "completions.jsonl", model="davinci-002")
    assert report.ok, report.summary()
    assert report.tokenizer in ("cl100k_base", "estimate")


def test_billed_tokens_rule() -> None:
    report = validate_file(DATA / "valid" / "chat_12.jsonl")
    assert report.total_tokens is not None
    assert report.billed_tokens_estimate == report.total_tokens * 8


def test_billed_tokens_cap_at_limit() -> None:
    report = validate_file(
        DATA / "malformed" / "overlong_example.jsonl", model="gpt-3.5-turbo-0125"
    )
    assert report.max_example_tokens is not None and report.max_example_tokens > 16_385
    assert report.total_tokens is not None and report.billed_tokens_estimate is not None
    over = report.max_example_tokens - 16_385
    assert report.billed_tokens_estimate == (report.total_tokens - over) * 8


def test_max_errors_limits_the_list_not_the_count(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join("nope\n" for _ in range(50)))
    report = validate_file(path, max_errors=5, count_tokens=False)
    assert len(report.errors) == 5
    assert report.error_count == 50  # 50 lines; no "too few examples": 50 lines hold something
    assert [i.line for i in report.errors] == [1, 2, 3, 4, 5]
    d = report.to_dict()
    assert d["error_count"] == 50 and len(d["errors"]) == 5 and d["ok"] is False
    json.dumps(d)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    report = validate_file(path)
    assert [(i.line, i.message) for i in report.errors] == [
        (0, "only 0 examples: fine-tuning needs at least 10; add 10 more")
    ]
    assert report.summary() == "file: only 0 examples: fine-tuning needs at least 10; add 10 more"
    assert report.bytes == 0


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    lines = gen.lines_of(gen.chat)
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\r\n".join(lines))
    report = validate_file(path)
    assert report.ok, report.summary()
    assert report.example_count == 12


def test_lines_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK", 7)
    lines = gen.lines_of(gen.chat)
    lines[6] = b"not json"
    path = tmp_path / "x.jsonl"
    path.write_bytes(gen.join(lines))
    report = validate_file(path)
    assert [(i.line, i.path) for i in report.errors] == [(7, "$")]
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_overlong_line_is_skipped_without_buffering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "CHUNK", 64)
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 500)
    lines = gen.lines_of(gen.chat)
    lines[6] = b'{"messages": "' + b"x" * 1000 + b'"}'
    lines.append(b'{"messages": "' + b"y" * 1000)  # last line, no newline
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join(lines))
    report = validate_file(path)
    assert [(i.line, i.path) for i in report.errors] == [(7, "$"), (13, "$")]
    assert "1,016 bytes" in report.errors[0].message
    assert report.example_count == 11
    assert report.line_count == 13


def test_reinforcement_inference_vs_chat_with_extra_key(tmp_path: Path) -> None:
    # a chat example (ending with the assistant) with a stray key stays chat: the key is named
    lines = gen.lines_of(gen.chat)
    lines = [line[:-1] + b', "meta": 1}' for line in lines]
    path = tmp_path / "x.jsonl"
    path.write_bytes(gen.join(lines))
    report = validate_file(path, count_tokens=False)
    assert report.format == "chat"
    assert report.errors[0].path == "meta"


def test_legacy_function_role_and_function_call(tmp_path: Path) -> None:
    ex = {
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "weather", "arguments": '{"city": "Oslo"}'},
            },
            {"role": "function", "name": "weather", "content": '{"temp": 3}'},
            {"role": "assistant", "content": "3 degrees."},
        ],
        "functions": [{"name": "weather", "parameters": {"type": "object"}}],
    }
    path = tmp_path / "fn.jsonl"
    rows = []
    for i in range(12):
        e = json.loads(json.dumps(ex))
        e["messages"][0]["content"] += f" ({i})"
        rows.append(json.dumps(e))
    path.write_text("\n".join(rows) + "\n")
    report = validate_file(path)
    assert report.ok, report.summary()


# --------------------------------------------------------------------------------------------
# compare_files


def test_compare_files_names_shared_examples(tmp_path: Path) -> None:
    train = DATA / "valid" / "chat_12.jsonl"
    lines = gen.lines_of(gen.chat, 12)
    val_lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": "a"},
                ]
            }
        ).encode()
        for i in range(5)
    ]
    val_lines[2] = lines[4]
    val_lines[3] = lines[7] + b"\r"
    val = tmp_path / "val.jsonl"
    val.write_bytes(gen.join(val_lines))
    issues = compare_files(train, val)
    assert [(i.line, i.severity) for i in issues] == [(3, "warning"), (4, "warning")]
    assert "training file at line 5" in issues[0].message
    assert "training file at line 8" in issues[1].message
    assert compare_files(train, DATA / "valid" / "completions.jsonl") == []


def test_compare_files_caps_output(tmp_path: Path) -> None:
    train = DATA / "valid" / "chat_12.jsonl"
    issues = compare_files(train, train, max_issues=3)
    assert len(issues) == 4
    assert "9 more" in issues[-1].message


# --------------------------------------------------------------------------------------------
# Rules


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (0, 25),
        (1, 25),
        (3, 25),
        (4, 25),
        (5, 20),
        (10, 10),
        (12, 8),
        (33, 3),
        (34, 3),
        (100, 3),
        (8333, 3),
        (8334, 2),
        (12_500, 2),
        (25_000, 1),
        (1_000_000, 1),
    ],
)
def test_estimate_epochs(n: int, epochs: int) -> None:
    assert estimate_epochs(n) == epochs


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gpt-4o-2024-08-06", 65_536),
        ("gpt-4o-mini-2024-07-18", 65_536),
        ("gpt-4.1-nano-2025-04-14", 65_536),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", 65_536),
        ("gpt-3.5-turbo-0125", 16_385),
        ("gpt-3.5-turbo-1106", 16_385),
        ("babbage-002", 16_384),
        (None, 65_536),
        ("some-future-model", 65_536),
    ],
)
def test_token_limit(model: str | None, limit: int) -> None:
    assert token_limit(model) == limit


def test_public_types() -> None:
    issue = DataIssue(3, "messages[0].role", "bad", "error")
    assert str(issue) == "line 3: messages[0].role: bad"
    with pytest.raises(AttributeError):
        issue.line = 4  # type: ignore[misc]
    assert Format("chat") is Format.CHAT
    r = ValidationReport(format="chat", example_count=0, bytes=0, sha256="")
    assert r.ok


def test_sha256_file_streams(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    data = bytes(range(256)) * 10_000
    path.write_bytes(data)
    assert sha256_file(path) == (hashlib.sha256(data).hexdigest(), len(data))


def test_digest_table_grows_and_finds_earlier_lines() -> None:
    table = DigestTable(4)
    for n in range(1, 5001):
        assert table.add(n * 7919, n) == 0
    assert table.size == 5000 and table.cap > 5000
    assert table.add(7919 * 123, 9999) == 123
    assert table.contains(7919 * 4000) == 4000
    assert table.contains(1) == 0
    assert table.add(0, 7) == 0  # 0 is the empty-slot marker: stored as 1
    assert table.contains(0) == 7


def test_duplicates_found_across_table_growth(tmp_path: Path) -> None:
    rows = [json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) for i in range(20_000)]
    rows.append(rows[10])  # line 20001 repeats line 11
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(rows) + "\n")
    report = validate_file(path, count_tokens=False)
    assert report.ok and report.example_count == 20_001
    assert [(w.line, w.message) for w in report.warnings] == [
        (20_001, "duplicate of line 11: remove one of them")
    ]


def test_threaded_hash_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "THREADED_HASH_MIN", 0)
    monkeypatch.setattr(reader, "CHUNK", 1000)
    path = DATA / "valid" / "chat_tools.jsonl"
    report = validate_file(path)
    assert report.ok
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_fast_and_detailed_paths_agree_on_token_counts(tmp_path: Path) -> None:
    # the first example always takes the detailed path, the rest the fast path
    path = DATA / "valid" / "chat_12.jsonl"
    report = validate_file(path)
    first = json.loads(path.read_text().splitlines()[0])
    from pulumi_finetune import tokens

    tok = tokens.tokenizer_for_model(None)
    per_line = [
        tokens.count_chat_tokens(json.loads(ln)["messages"], tok.count)
        for ln in path.read_text().splitlines()
    ]
    assert tokens.count_chat_tokens(first["messages"], tok.count) == per_line[0]
    assert report.total_tokens == sum(per_line)
    assert report.max_example_tokens == max(per_line)


def test_typed_fast_path_reports_what_the_detailed_path_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every shape at the fast path's edge, validated with the fast path and without it
    from pulumi_finetune.datasets import validator

    def msgs(*pairs: tuple[str, Any], **weights: int) -> dict[str, Any]:
        out: list[dict[str, Any]] = [{"role": r, "content": c} for r, c in pairs]
        for index, w in weights.items():
            out[int(index[1:])]["weight"] = w
        return {"messages": out}

    base = [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello")]
    rows: list[Any] = [msgs(*base[:2], ("assistant", f"Hello {i}")) for i in range(12)]
    rows += [
        msgs(*base, i2=0),  # trains nothing: a warning
        msgs(*base, ("user", "More"), ("assistant", "Sure"), i2=0),  # one reply trains
        msgs(*base, i1=1),  # weight on a user message: an error
        msgs(*base[:2], ("assistant", "")),  # empty reply: an error
        msgs(("user", ""), ("assistant", "ok")),  # empty user message: fine
        msgs(*base[:2]),  # no assistant message
        msgs(*base, ("user", "and?")),  # ends with the user
        rows[3],  # a duplicate
        {"messages": [{"role": "assistant", "content": "x", "weight": True}]},
        {"messages": [{"role": "assistant", "content": "x", "weight": None}]},
        {"messages": [{"role": "bot", "content": "x"}]},
        {"messages": []},
    ]
    path = tmp_path / "edge.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fast = validate_file(path).to_dict()

    def never(raw: bytes) -> Any:
        raise validator.NotFast[0]("not on the fast path")

    monkeypatch.setattr(validator, "decode_fast_chat", never)
    detailed = validate_file(path).to_dict()
    assert fast == detailed
    assert fast["warning_count"] == 2 and fast["error_count"] == 8


def _tool_example(i: int = 0) -> dict[str, Any]:
    call = {"id": f"call_{i}", "type": "function",
            "function": {"name": "lookup", "arguments": json.dumps({"q": i})}}  # fmt: skip
    return {
        "messages": [
            {"role": "system", "content": "Use the tools."},
            {"role": "user", "content": f"Look up {i}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"call_{i}", "content": "{}"},
            {"role": "assistant", "content": f"Found {i}."},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
    }


def _reports_with_and_without_typed_tools(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tokens-off report of ``path`` with the typed tool path, then without it."""
    from pulumi_finetune.datasets import validator

    typed = validate_file(path, count_tokens=False).to_dict()
    with monkeypatch.context() as patch:
        patch.setattr(validator, "tool_chat_trained", lambda raw: -1)
        detailed = validate_file(path, count_tokens=False).to_dict()
    return typed, detailed


def test_typed_tool_path_reports_what_the_detailed_path_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_finetune.datasets import fastchat

    def edit(change: Any) -> dict[str, Any]:
        example = _tool_example(99)
        change(example)
        return example

    msgs = "messages"
    edges = [
        edit(lambda e: e[msgs][2].update(weight=0) or e[msgs][4].update(weight=0)),  # warning
        edit(lambda e: e[msgs][4].update(weight=0)),  # one reply still trains
        edit(lambda e: e[msgs][3].update(weight=1)),  # weight on a tool message
        edit(lambda e: e[msgs][2]["tool_calls"][0].pop("id")),
        edit(lambda e: e[msgs][2]["tool_calls"][0].update(type="code")),
        edit(lambda e: e[msgs][2]["tool_calls"][0]["function"].update(arguments={"q": 1})),
        edit(lambda e: e[msgs][2]["tool_calls"][0]["function"].update(name="")),
        edit(lambda e: e[msgs][2].update(tool_calls=[])),  # no calls and no content
        edit(lambda e: e[msgs][2].pop("content")),  # calls without content: fine
        edit(lambda e: e[msgs][2].update(content="")),  # calls with empty text: fine
        edit(lambda e: e[msgs][3].pop("tool_call_id")),
        edit(lambda e: e[msgs][3].update(tool_call_id=7)),
        edit(lambda e: e[msgs][3].update(content=None)),
        edit(lambda e: e[msgs][1].update(tool_call_id="call_1")),
        edit(lambda e: e[msgs][1].update(tool_calls=e[msgs][2]["tool_calls"])),
        edit(lambda e: e[msgs][4].update(content="")),  # empty final reply
        edit(lambda e: e[msgs].pop()),  # ends with the tool message
        edit(lambda e: e.update(tools={"lookup": {}})),
        edit(lambda e: e.update(tools=[{"type": "function", "function": {"name": 3}}])),
        edit(lambda e: e.update(tools=["lookup"])),
        edit(lambda e: e.update(parallel_tool_calls="yes")),
        edit(lambda e: e.update(parallel_tool_calls=False)),
        edit(lambda e: e.update(functions=[])),
        edit(lambda e: e.update(extra=1)),
        edit(lambda e: e[msgs][2].update(role="robot")),
        _tool_example(5),  # a duplicate of line 6
    ]
    rows = [_tool_example(i) for i in range(12)] + edges
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    typed, detailed = _reports_with_and_without_typed_tools(path, monkeypatch)
    assert typed == detailed
    assert typed["example_count"] == len(rows)
    assert typed["warning_count"] == 2 and typed["error_count"] == 18, typed["errors"]
    # the typed path took the valid ones (and the lines it must not take fell through to the
    # detailed path, which named what is wrong)
    taken = [fastchat.tool_chat_trained(json.dumps(r).encode()) != -1 for r in rows]
    assert taken[:12] == [True] * 12 and sum(taken) == 12 + 6


def test_typed_tool_path_agrees_on_random_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.one_of(
        st.none(), st.booleans(), st.integers(-1, 2), st.sampled_from(["", "x", "call_1"]),
        st.just([]), st.just({}), st.just({"name": "f", "arguments": "{}"}),
    )  # fmt: skip
    keys = st.sampled_from(
        ["role", "content", "weight", "tool_calls", "tool_call_id", "name", "id", "type",
         "function", "arguments", "tools", "parallel_tool_calls", "refusal"]
    )  # fmt: skip

    def containers(example: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                found.append(node)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(example)
        return found

    edits = st.lists(st.tuples(st.integers(0, 40), keys, values, st.booleans()), max_size=3)

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.lists(edits, min_size=1, max_size=6))
    def agree(all_edits: list[list[tuple[int, str, Any, bool]]]) -> None:
        rows = [_tool_example(i) for i in range(10)]
        for n, example_edits in enumerate(all_edits):
            example = _tool_example(100 + n)
            for where, key, value, remove in example_edits:
                nodes = containers(example)
                node = nodes[where % len(nodes)]
                if remove:
                    node.pop(key, None)
                else:
                    node[key] = copy.deepcopy(value)
            rows.append(example)
        path = tmp_path / "edited.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        typed, detailed = _reports_with_and_without_typed_tools(path, monkeypatch)
        assert typed == detailed

    agree()
