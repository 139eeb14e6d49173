"""Generates tests/data/valid/*.jsonl and tests/data/malformed/*.jsonl.

Run ``python tests/data/make_datasets.py`` after changing a case; the unit tests check that the
committed files match what this script produces, and use ``MALFORMED`` for the expected issues.

Each malformed file has one mistake, placed at line 7 where the mistake is per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BAD_LINE = 7

Example = dict[str, Any]

TOPICS = [
    ("Paris", "France"),
    ("Rome", "Italy"),
    ("Madrid", "Spain"),
    ("Lisbon", "Portugal"),
    ("Berlin", "Germany"),
    ("Vienna", "Austria"),
    ("Warsaw", "Poland"),
    ("Prague", "Czechia"),
    ("Dublin", "Ireland"),
    ("Oslo", "Norway"),
    ("Athens", "Greece"),
    ("Helsinki", "Finland"),
]


def chat(i: int) -> Example:
    city, country = TOPICS[i % len(TOPICS)]
    return {
        "messages": [
            {"role": "system", "content": "Marv is a factual chatbot that is also sarcastic."},
            {"role": "user", "content": f"What's the capital of {country}?"},
            {
                "role": "assistant",
                "content": f"{city}, as if everyone doesn't know that already.",
            },
        ]
    }


def completion(i: int) -> Example:
    city, country = TOPICS[i % len(TOPICS)]
    return {"prompt": f"The capital of {country} is", "completion": f" {city}."}


def preference(i: int) -> Example:
    city, country = TOPICS[i % len(TOPICS)]
    return {
        "input": {"messages": [{"role": "user", "content": f"What's the capital of {country}?"}]},
        "preferred_output": [{"role": "assistant", "content": f"The capital is {city}."}],
        "non_preferred_output": [{"role": "assistant", "content": "I don't know."}],
    }


def reinforcement(i: int) -> Example:
    city, country = TOPICS[i % len(TOPICS)]
    return {
        "messages": [
            {"role": "developer", "content": "Answer with the city name only."},
            {"role": "user", "content": f"What's the capital of {country}?"},
        ],
        "reference_answer": city,
    }


def chat_tools(i: int) -> Example:
    city, country = TOPICS[i % len(TOPICS)]
    call_id = f"call_{i}"
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_capital",
                "description": "Look up the capital of a country",
                "parameters": {
                    "type": "object",
                    "properties": {"country": {"type": "string"}},
                    "required": ["country"],
                },
            },
        }
    ]
    user_content: Any = f"What's the capital of {country}?"
    if i % 3 == 0:
        user_content = [
            {"type": "text", "text": f"What's the capital of {country}? Here is a map."},
            {"type": "image_url", "image_url": {"url": "https://example.com/map.png"}},
        ]
    return {
        "messages": [
            {"role": "system", "content": "You answer with the help of tools."},
            {"role": "user", "content": user_content},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": "get_capital",
                            "arguments": json.dumps({"country": country}),
                        },
                    }
                ],
                "weight": 0 if i % 2 else 1,
            },
            {"role": "tool", "tool_call_id": call_id, "content": json.dumps({"capital": city})},
            {"role": "assistant", "content": f"The capital of {country} is {city}.", "weight": 1},
        ],
        "tools": tools,
        "parallel_tool_calls": False,
    }


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def lines_of(make: Callable[[int], Example], n: int = 12) -> list[bytes]:
    return [dumps(make(i)) for i in range(n)]


def join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def chat_with(mutate: Callable[[Example], Any], line: int = BAD_LINE) -> bytes:
    """12 chat examples; ``mutate`` edits the example at ``line`` (in place or by returning)."""
    lines = lines_of(chat)
    ex = chat(line - 1)
    out = mutate(ex)
    if out is not None:
        ex = out
    lines[line - 1] = dumps(ex)
    return join(lines)


def replace_line(make: Callable[[int], Example], raw: bytes, line: int = BAD_LINE) -> bytes:
    lines = lines_of(make)
    lines[line - 1] = raw
    return join(lines)


def pref_with(mutate: Callable[[Example], Any]) -> bytes:
    lines = lines_of(preference)
    ex = preference(BAD_LINE - 1)
    mutate(ex)
    lines[BAD_LINE - 1] = dumps(ex)
    return join(lines)


# --------------------------------------------------------------------------------------------
# Malformed cases


@dataclass(frozen=True)
class Expect:
    severity: str
    line: int
    path: str
    #: Substrings the message must contain (case-insensitive): the problem and the fix.
    words: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    expect: tuple[Expect, ...]
    model: str | None = None
    format: str | None = None
    #: ok with warnings only
    ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def E(line: int, path: str, *words: str) -> Expect:
    return Expect("error", line, path, words)


def W(line: int, path: str, *words: str) -> Expect:
    return Expect("warning", line, path, words)


def _set(path: list[Any], value: Any) -> Callable[[Example], None]:
    def mutate(ex: Example) -> None:
        target: Any = ex
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _del(path: list[Any]) -> Callable[[Example], None]:
    def mutate(ex: Example) -> None:
        target: Any = ex
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _tool_example(mutate: Callable[[Example], None]) -> bytes:
    lines = lines_of(chat_tools)
    ex = chat_tools(BAD_LINE - 1)
    mutate(ex)
    lines[BAD_LINE - 1] = dumps(ex)
    return join(lines)


def _cases() -> list[Case]:
    long_text = "hello " * 20_000
    L = BAD_LINE
    return [
        Case(
            "not_json",
            replace_line(chat, b"this is not json"),
            (E(L, "$", "not json", "one json object"),),
        ),
        Case(
            "array_top_level",
            dumps([chat(i) for i in range(12)]) + b"\n",
            (E(1, "$", "array", "own line"), E(0, "$", "only 1 example", "add 9 more")),
        ),
        Case(
            "missing_messages",
            chat_with(lambda ex: {"conversation": ex["messages"]}),
            (
                E(L, "conversation", "unknown key", "remove it"),
                E(L, "messages", "missing", '"messages" list'),
            ),
        ),
        Case(
            "empty_messages",
            chat_with(_set(["messages"], [])),
            (E(L, "messages", "empty messages", "add at least"),),
        ),
        Case(
            "unknown_role",
            chat_with(_set(["messages", 1, "role"], "bot")),
            (
                E(
                    L,
                    "messages[1].role",
                    "unknown role 'bot'",
                    "expected system, user, assistant, tool",
                ),
            ),
        ),
        Case(
            "missing_role",
            chat_with(_del(["messages", 1, "role"])),
            (E(L, "messages[1].role", "missing role", 'add "role"'),),
        ),
        Case(
            "missing_assistant",
            chat_with(lambda ex: {"messages": ex["messages"][:2]}),
            (E(L, "messages", "no assistant message", "at least one assistant"),),
        ),
        Case(
            "content_wrong_type",
            chat_with(_set(["messages", 1, "content"], 42)),
            (E(L, "messages[1].content", "must be a string", "got number"),),
        ),
        Case(
            "missing_content",
            chat_with(_del(["messages", 2, "content"])),
            (E(L, "messages[2].content", "missing content", 'add "content"'),),
        ),
        Case(
            "weight_2",
            chat_with(_set(["messages", 2, "weight"], 2)),
            (E(L, "messages[2].weight", "must be 0 or 1", "got 2"),),
        ),
        Case(
            "weight_on_user",
            chat_with(_set(["messages", 1, "weight"], 1)),
            (E(L, "messages[1].weight", "only allowed on assistant", "remove it"),),
        ),
        Case(
            "unknown_message_key",
            chat_with(_set(["messages", 1, "text"], "hi")),
            (E(L, "messages[1].text", "unknown message key 'text'", "remove it"),),
        ),
        Case(
            "message_not_object",
            chat_with(_set(["messages", 1], "What's the capital?")),
            (E(L, "messages[1]", "must be an object", "got string"),),
        ),
        Case(
            "image_part_bad_type",
            chat_with(
                _set(
                    ["messages", 1, "content"],
                    [{"type": "text", "text": "Look"}, {"type": "image", "url": "https://x/y.png"}],
                )
            ),
            (
                E(
                    L,
                    "messages[1].content[1].type",
                    "unsupported content part type 'image'",
                    "image_url",
                ),
            ),
        ),
        Case(
            "image_in_assistant",
            chat_with(
                _set(
                    ["messages", 2, "content"],
                    [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                )
            ),
            (E(L, "messages[2].content[0]", "only in user messages", "not assistant"),),
        ),
        Case(
            "tool_call_without_id",
            _tool_example(_del(["messages", 2, "tool_calls", 0, "id"])),
            (E(L, "messages[2].tool_calls[0].id", "without id", "tool_call_id"),),
        ),
        Case(
            "tool_call_wrong_type",
            _tool_example(_set(["messages", 2, "tool_calls", 0, "type"], "tool")),
            (E(L, "messages[2].tool_calls[0].type", 'must be "function"', "'tool'"),),
        ),
        Case(
            "function_arguments_not_string",
            _tool_example(
                _set(["messages", 2, "tool_calls", 0, "function", "arguments"], {"country": "x"})
            ),
            (
                E(
                    L,
                    "messages[2].tool_calls[0].function.arguments",
                    "json-encoded string",
                    "json.dumps",
                ),
            ),
        ),
        Case(
            "tool_message_without_tool_call_id",
            _tool_example(_del(["messages", 3, "tool_call_id"])),
            (E(L, "messages[3].tool_call_id", "without tool_call_id", "add the id"),),
        ),
        Case(
            "tools_not_list",
            _tool_example(_set(["tools"], {"name": "get_capital"})),
            (E(L, "tools", "must be a list", "got object"),),
        ),
        Case(
            "preference_missing_non_preferred",
            pref_with(_del(["non_preferred_output"])),
            (E(L, "non_preferred_output", "missing", "one (worse) assistant message"),),
        ),
        Case(
            "preferred_output_not_assistant",
            pref_with(_set(["preferred_output", 0, "role"], "user")),
            (
                E(
                    L,
                    "preferred_output[0].role",
                    "must be an assistant message",
                    '"role": "assistant"',
                ),
            ),
        ),
        Case(
            "preferred_output_two_messages",
            pref_with(
                lambda ex: ex["preferred_output"].append({"role": "assistant", "content": "More."})
            ),
            (E(L, "preferred_output", "exactly one assistant message", "got 2 items"),),
        ),
        Case(
            "reinforcement_ends_with_assistant",
            replace_line(
                reinforcement,
                dumps(
                    {
                        "messages": [
                            {"role": "user", "content": "Capital of Peru?"},
                            {"role": "assistant", "content": "Lima"},
                        ],
                        "reference_answer": "Lima",
                    }
                ),
            ),
            (E(L, "messages[1].role", "must end with the prompt", "remove it"),),
        ),
        Case(
            "completions_for_chat_model",
            join(lines_of(completion)),
            (
                E(
                    0,
                    "$",
                    "cannot train gpt-4o-mini",
                    "convert each example to chat",
                    "inferred from line 1",
                ),
            ),
            model="gpt-4o-mini-2024-07-18",
        ),
        Case(
            "chat_for_babbage",
            join(lines_of(chat)),
            (E(0, "$", "chat data (inferred from line 1) cannot train babbage-002", "prompt"),),
            model="babbage-002",
        ),
        Case(
            "completions_missing_completion",
            replace_line(completion, dumps({"prompt": "The capital of Peru is"})),
            (E(L, "completion", "missing 'completion'", '"prompt" and "completion"'),),
        ),
        Case(
            "mixed_formats",
            replace_line(chat, dumps(completion(0))),
            (E(L, "$", "completions example but the file is chat", "one format"),),
        ),
        Case(
            "bom",
            b"\xef\xbb\xbf" + join(lines_of(chat)),
            (E(1, "$", "byte order mark", "without bom"),),
        ),
        Case(
            "latin1",
            replace_line(
                chat,
                json.dumps(
                    {
                        "messages": [
                            {"role": "user", "content": "Un café ?"},
                            {"role": "assistant", "content": "Oui."},
                        ]
                    },
                    ensure_ascii=False,
                ).encode("latin-1"),
            ),
            (E(L, "$", "invalid utf-8", "save it as utf-8", "latin-1"),),
        ),
        Case(
            "nine_examples", join(lines_of(chat, 9)), (E(0, "$", "only 9 examples", "add 1 more"),)
        ),
        Case(
            "blank_lines",
            replace_line(chat, b""),
            (E(L, "$", "blank line 7", "remove it"),),
            extra={"examples": 11},
        ),
        Case(
            "trailing_blank_lines",
            join(lines_of(chat)) + b"\n  \n",
            (E(13, "$", "blank line 13", "remove it"), E(14, "$", "blank line 14", "remove it")),
        ),
        Case(
            "trailing_garbage",
            replace_line(chat, dumps(chat(6)) + b' {"more": 1}'),
            (E(L, "$", "trailing characters", "one json object on each line"),),
        ),
        Case(
            "not_object",
            replace_line(chat, b'"just a string"'),
            (E(L, "$", "must be a json object", "got string"),),
        ),
        Case(
            "overlong_example",
            chat_with(_set(["messages", 1, "content"], long_text)),
            (
                W(
                    L,
                    "$",
                    "over the 16,385-token limit of gpt-3.5-turbo-0125",
                    "truncated",
                    "shorten",
                ),
            ),
            model="gpt-3.5-turbo-0125",
            ok=True,
        ),
        Case(
            "duplicate_examples",
            replace_line(chat, dumps(chat(3)), line=9),
            (W(9, "$", "duplicate of line 4", "remove one"),),
            ok=True,
        ),
    ]


MALFORMED: list[Case] = _cases()

VALID: dict[str, bytes] = {
    "chat_12.jsonl": join(lines_of(chat)),
    "chat_tools.jsonl": join(lines_of(chat_tools)),
    "completions.jsonl": join(lines_of(completion)),
    "preference.jsonl": join(lines_of(preference)),
    "reinforcement.jsonl": join(lines_of(reinforcement)),
}

#: Expected format of each valid file.
VALID_FORMATS = {
    "chat_12.jsonl": "chat",
    "chat_tools.jsonl": "chat",
    "completions.jsonl": "completions",
    "preference.jsonl": "preference",
    "reinforcement.jsonl": "reinforcement",
}


def generated() -> dict[Path, bytes]:
    out = {HERE / "valid" / name: data for name, data in VALID.items()}
    for case in MALFORMED:
        out[HERE / "malformed" / f"{case.name}.jsonl"] = case.content
    return out


def main() -> int:
    files = generated()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
