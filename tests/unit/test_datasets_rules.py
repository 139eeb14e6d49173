"""OpenAI's data rules, one test each: what OpenAI refuses is an error with its line (or the
file), and what it takes is not refused. Sources: OpenAI's fine-tuning, vision fine-tuning and
DPO guides, and the input schemas of its OpenAPI description (shared/reference/api-notes.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune import models
from pulumi_finetune.datasets import ValidationReport, validate_file

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
VISION = "gpt-4o-2024-08-06"
BAD = 5  # the line each test breaks


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


def chat(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You answer sums."},
            {"role": "user", "content": f"What is {i} + {i}?"},
            {"role": "assistant", "content": f"{2 * i}"},
        ]
    }


def vision(i: int, *parts: dict[str, Any]) -> dict[str, Any]:
    ex = chat(i)
    ex["messages"][1]["content"] = [{"type": "text", "text": f"Image {i}:"}, *parts]
    return ex


def preference(i: int) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": f"Say {i} politely."}]},
        "preferred_output": [{"role": "assistant", "content": f"{i}, please."}],
        "non_preferred_output": [{"role": "assistant", "content": f"{i}!"}],
    }


def reinforcement(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "developer", "content": "Answer with a number."},
            {"role": "user", "content": f"What is {i} + {i}?"},
        ],
        "answer": str(2 * i),
    }


def run(
    tmp_path: Path,
    examples: list[dict[str, Any]],
    *,
    model: str | None = None,
    format: str | None = None,
) -> ValidationReport:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(ex) + "\n" for ex in examples))
    return validate_file(path, model=model, format=format)


def with_line(make: Any, bad: dict[str, Any], n: int = 12) -> list[dict[str, Any]]:
    rows = [make(i) for i in range(n)]
    rows[BAD - 1] = bad
    return rows


def errors(report: ValidationReport) -> list[tuple[int, str]]:
    return [(i.line, i.path) for i in report.errors]


# --------------------------------------------------------------------------------------------
# Images (vision fine-tuning guide)


@pytest.mark.parametrize("model", [VISION, "gpt-4o", f"ft:{VISION}:acme::abc123", None])
def test_images_train_a_vision_model(tmp_path: Path, model: str | None) -> None:
    rows = [
        vision(i, image(data_url(PNG)), image(data_url(JPEG, "image/jpeg"), detail="low"))
        for i in range(12)
    ]
    rows[0] = vision(0, image("https://example.com/cat.webp", detail="high"))
    rows[1] = vision(1, image(data_url(WEBP, "image/webp"), detail="auto"))
    report = run(tmp_path, rows, model=model)
    assert report.ok, report.summary()


@pytest.mark.parametrize("model", ["gpt-4o-mini-2024-07-18", "gpt-4.1-mini", "gpt-3.5-turbo"])
def test_images_are_refused_for_a_model_without_vision(tmp_path: Path, model: str) -> None:
    rows = with_line(chat, vision(BAD, image(data_url(PNG))))
    report = run(tmp_path, rows, model=model)
    assert errors(report) == [(BAD, "messages[1].content[1]")]
    assert f"{model} has no vision fine-tuning" in report.errors[0].message


def test_more_than_ten_images_in_one_example(tmp_path: Path) -> None:
    url = data_url(PNG)
    rows = with_line(chat, vision(BAD, *[image(url) for _ in range(11)]))
    rows[0] = vision(0, *[image(url) for _ in range(10)])  # ten are fine
    report = run(tmp_path, rows, model=VISION)
    assert errors(report) == [(BAD, "messages[1].content[11]")]
    assert "more than 10 images" in report.errors[0].message


def test_image_over_10_mb_by_its_decoded_size(tmp_path: Path) -> None:
    big = PNG + b"\x00" * (10 * 1024 * 1024)  # just over 10 MiB once decoded
    rows = with_line(chat, vision(BAD, image(data_url(big))))
    rows[0] = vision(0, image(data_url(PNG + b"\x00" * (10 * 1024 * 1024 - len(PNG)))))
    report = run(tmp_path, rows, model=VISION)
    assert errors(report) == [(BAD, "messages[1].content[1].image_url.url")]
    assert "over the 10,485,760-byte (10 MB) limit" in report.errors[0].message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (data_url(GIF, "image/gif"), "image/gif is not taken"),
        (data_url(GIF, "image/png"), "the data is a image/gif image"),
        (data_url(b"hello world, not an image"), "not a JPEG, PNG or WEBP image"),
        ("data:image/png,rawbytes", "must be base64"),
        ("data:image/png;base64,***", "not valid base64"),
        ("file:///home/me/cat.png", "neither an http(s) URL nor a data URL"),
    ],
)
def test_image_formats_other_than_jpeg_png_webp(tmp_path: Path, url: str, words: str) -> None:
    rows = with_line(chat, vision(BAD, image(url)))
    report = run(tmp_path, rows, model=VISION)
    assert errors(report) == [(BAD, "messages[1].content[1].image_url.url")]
    assert words in report.errors[0].message


def test_media_type_that_disagrees_with_the_data_is_a_warning(tmp_path: Path) -> None:
    rows = with_line(chat, vision(BAD, image(data_url(JPEG, "image/png"))))
    report = run(tmp_path, rows, model=VISION)
    assert report.ok
    assert [(w.line, w.path) for w in report.warnings] == [
        (BAD, "messages[1].content[1].image_url.url")
    ]


def test_detail_is_auto_low_or_high(tmp_path: Path) -> None:
    rows = with_line(chat, vision(BAD, image(data_url(PNG), detail="medium")))
    report = run(tmp_path, rows, model=VISION)
    assert errors(report) == [(BAD, "messages[1].content[1].image_url.detail")]
    assert report.errors[0].message == "detail must be auto, low or high, got 'medium'"


@pytest.mark.parametrize(("index", "role"), [(0, "system"), (2, "assistant")])
def test_images_only_in_user_messages(tmp_path: Path, index: int, role: str) -> None:
    bad = chat(BAD)
    bad["messages"][index]["content"] = [image(data_url(PNG))]
    report = run(tmp_path, with_line(chat, bad), model=VISION)
    assert errors(report) == [(BAD, f"messages[{index}].content[0]")]
    assert f"only in user messages, not {role}" in report.errors[0].message


def test_images_in_preference_data(tmp_path: Path) -> None:
    bad = preference(BAD)
    bad["input"]["messages"][0]["content"] = [image(data_url(PNG))]
    report = run(tmp_path, with_line(preference, bad), model=VISION)
    assert errors(report) == [(BAD, "input.messages[0].content[0]")]
    assert "preference (DPO) data is text only" in report.errors[0].message


# --------------------------------------------------------------------------------------------
# Messages


def test_system_messages_in_reinforcement_data(tmp_path: Path) -> None:
    bad = reinforcement(BAD)
    bad["messages"][0]["role"] = "system"
    report = run(tmp_path, with_line(reinforcement, bad), model="o4-mini")
    assert errors(report) == [(BAD, "messages[0].role")]
    assert 'no system messages: make it "role": "developer"' in report.errors[0].message


def test_empty_assistant_reply(tmp_path: Path) -> None:
    bad = chat(BAD)
    bad["messages"][2]["content"] = ""
    calls = chat(1)
    calls["messages"][2] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
        ],
    }
    calls["messages"].append({"role": "tool", "tool_call_id": "c1", "content": "2"})
    calls["messages"].append({"role": "assistant", "content": "2"})
    rows = with_line(chat, bad)
    rows[0] = calls  # empty content beside tool calls is fine
    report = run(tmp_path, rows)
    assert errors(report) == [(BAD, "messages[2].content")]
    assert "empty assistant reply" in report.errors[0].message


def test_example_with_nothing_to_train_on_is_a_warning(tmp_path: Path) -> None:
    bad = chat(BAD)
    bad["messages"][2]["weight"] = 0
    report = run(tmp_path, with_line(chat, bad))
    assert report.ok
    assert [(w.line, w.path) for w in report.warnings] == [(BAD, "messages")]
    assert "trains nothing" in report.warnings[0].message


def test_role_and_key_lists_name_function_and_functions(tmp_path: Path) -> None:
    bad = chat(BAD)
    bad["messages"][1]["role"] = "bot"
    bad["extra"] = 1
    report = run(tmp_path, with_line(chat, bad))
    by_path = {i.path: i.message for i in report.errors}
    assert by_path["messages[1].role"].endswith(
        "(expected system, user, assistant, tool, function)"
    )
    assert by_path["extra"].endswith("(allowed: messages, tools, parallel_tool_calls, functions)")


# --------------------------------------------------------------------------------------------
# Model and method


@pytest.mark.parametrize(
    ("make", "model", "words"),
    [
        (reinforcement, "gpt-4o-mini-2024-07-18", "needs a reasoning model"),
        (chat, "o4-mini", "o4-mini is a reasoning model, which trains only with reinforcement"),
        (preference, "o4-mini-2025-04-16", "is a reasoning model"),
        (preference, "gpt-3.5-turbo-0125", "dpo method, which gpt-3.5-turbo-0125 does not take"),
    ],
)
def test_model_and_method_pairs_that_cannot_train(
    tmp_path: Path, make: Any, model: str, words: str
) -> None:
    report = run(tmp_path, [make(i) for i in range(12)], model=model)
    assert errors(report) == [(0, "$")]  # the whole file, not a line
    assert words in report.errors[0].message
    assert str(report.errors[0]).startswith("file: ")


@pytest.mark.parametrize(
    ("make", "model"),
    [
        (reinforcement, "o4-mini-2025-04-16"),
        (preference, "gpt-4o-mini-2024-07-18"),
        (preference, "gpt-4.1-nano"),
        (chat, "ft:gpt-4.1-2025-04-14:acme::x1"),
    ],
)
def test_model_and_method_pairs_that_train(tmp_path: Path, make: Any, model: str) -> None:
    report = run(tmp_path, [make(i) for i in range(12)], model=model)
    assert report.ok, report.summary()


def test_declared_format_is_checked_against_the_model(tmp_path: Path) -> None:
    report = run(tmp_path, [chat(i) for i in range(12)], model="o4-mini", format="chat")
    assert errors(report) == [(0, "$")] and "(declared)" in report.errors[0].message


def test_every_family_with_methods_is_consistent() -> None:
    for fam in models.FAMILIES:
        if fam.reasoning:
            assert fam.methods == frozenset({"reinforcement"}), fam
        if fam.vision:
            assert fam.methods is not None and "supervised" in fam.methods, fam


# --------------------------------------------------------------------------------------------
# Messages that mislead no more


def test_unknown_model_is_said_to_be_unknown(tmp_path: Path) -> None:
    rows = [chat(i) for i in range(12)]
    rows[3]["messages"][1]["content"] = "word " * 70_000
    report = run(tmp_path, rows, model="my-own-model")
    assert report.ok and report.token_limit is None
    [warning] = report.warnings  # no invented limit, so no over-limit warning
    assert warning.line == 0
    assert "unknown model 'my-own-model'" in warning.message and "not checked" in warning.message


def test_no_model_checks_against_the_largest_limit(tmp_path: Path) -> None:
    rows = [chat(i) for i in range(12)]
    rows[3]["messages"][1]["content"] = "word " * 70_000
    report = run(tmp_path, rows)
    assert report.token_limit == 65_536
    assert [w.line for w in report.warnings] == [4]
    assert "65,536 tokens, the largest limit of any model" in report.warnings[0].message


def test_one_broken_line_among_ten_does_not_ask_for_more_examples(tmp_path: Path) -> None:
    path = tmp_path / "ten.jsonl"
    lines = [json.dumps(chat(i)) for i in range(10)]
    lines[4] = lines[4][:-1]  # broken JSON
    path.write_text("\n".join(lines) + "\n")
    report = validate_file(path)
    assert [(i.line, i.path) for i in report.errors] == [(5, "$")]
    assert report.example_count == 9


def test_hint_has_balanced_braces(tmp_path: Path) -> None:
    rows = [{"prompt": f"{i} + {i} =", "completion": f" {2 * i}"} for i in range(12)]
    report = run(tmp_path, rows, model="gpt-4o-mini")
    message = report.errors[0].message
    assert 'chat format {"messages": [user, assistant]} or' in message
    assert message.count("{") == message.count("}")


def test_an_open_model_is_said_to_be_counted_by_estimate(tmp_path: Path) -> None:
    report = run(tmp_path, [chat(i) for i in range(12)], model="meta-llama/Llama-3.3-70B-Instruct")
    assert report.ok and report.token_limit is None
    [warning] = report.warnings
    assert "open model" in warning.message and "an estimate" in warning.message


def test_an_azure_fine_tuned_model_has_its_bases_limit(tmp_path: Path) -> None:
    azure = "gpt-4o-mini-2024-07-18.ft-0123456789abcdef0123456789abcdef-notes"
    report = run(tmp_path, [chat(i) for i in range(12)], model=azure)
    assert report.ok and report.warnings == []
    assert report.token_limit == 65_536
