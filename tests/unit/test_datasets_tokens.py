"""Offline token counting: which tokenizer is used, exact counts, and the labelled estimate."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_finetune import tokens
from pulumi_finetune.datasets import validate_file

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    saved = dict(tokens._cache)
    tokens._cache.clear()
    yield
    tokens._cache.clear()
    tokens._cache.update(saved)


def _bundled(name: str) -> Path | None:
    for path in tokens._candidate_files(name):
        if path.suffix == ".gz" and "bpe_openai" in str(path) and path.is_file():
            return path
    return None


needs_bundled = pytest.mark.skipif(
    _bundled("o200k_base") is None, reason="bpe-openai (bundled BPE rank files) not installed"
)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        (None, "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-2025-04-14", "o200k_base"),
        ("o4-mini-2025-04-16", "o200k_base"),
        ("ft:gpt-4o-2024-08-06:acme:custom:abc", "o200k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("babbage-002", "cl100k_base"),
        ("davinci-002", "cl100k_base"),
    ],
)
def test_encoding_for_model(model: str | None, encoding: str) -> None:
    assert tokens.encoding_name_for_model(model) == encoding


@needs_bundled
def test_exact_counts_offline(fresh_cache: None) -> None:
    cl = tokens.get_tokenizer("cl100k_base")
    o2 = tokens.get_tokenizer("o200k_base")
    assert (cl.name, o2.name) == ("cl100k_base", "o200k_base")
    assert cl.exact and o2.exact
    # OpenAI's cookbook: "tiktoken is great!" is 6 cl100k tokens
    assert cl.count("tiktoken is great!") == 6
    assert o2.count("hello world") == 2
    # special-token text is ordinary text, not an error
    assert o2.count("<|endoftext|>") > 1


@needs_bundled
def test_chat_overhead_like_the_cookbook(fresh_cache: None) -> None:
    count = tokens.get_tokenizer("cl100k_base").count
    msgs = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "hello", "name": "example_user"},
    ]
    expected = 3 + sum(3 + sum(count(v) for v in m.values()) for m in msgs) + 1
    assert tokens.count_chat_tokens(msgs, count) == expected


def test_rank_file_from_env_dir_is_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    bundled = _bundled("cl100k_base")
    if bundled is None:
        pytest.skip("bpe-openai not installed")
    (tmp_path / "cl100k_base.tiktoken").write_bytes(gzip.decompress(bundled.read_bytes()))
    monkeypatch.setenv("PULUMI_FINETUNE_TIKTOKEN_DIR", str(tmp_path))
    tok = tokens.get_tokenizer("cl100k_base")
    assert tok.name == "cl100k_base"
    assert tok.source == str(tmp_path / "cl100k_base.tiktoken")


def test_tampered_rank_file_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    (tmp_path / "cl100k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")
    monkeypatch.setattr(
        tokens, "_candidate_files", lambda name: [tmp_path / "cl100k_base.tiktoken"]
    )
    tok = tokens.get_tokenizer("cl100k_base")
    assert tok.name == "estimate" and not tok.exact


def test_estimate_fallback_is_labelled(monkeypatch: pytest.MonkeyPatch, fresh_cache: None) -> None:
    monkeypatch.setattr(tokens, "_candidate_files", lambda name: [])
    tok = tokens.get_tokenizer("o200k_base")
    assert tok.name == "estimate"
    assert tok.count("abcdefgh") == 2
    report = validate_file(DATA / "valid" / "chat_12.jsonl")
    assert report.ok and report.tokenizer == "estimate"
    assert report.total_tokens is not None and report.total_tokens > 0
    assert "~" in report.summary()
    over = validate_file(DATA / "malformed" / "overlong_example.jsonl", model="gpt-3.5-turbo")
    assert "about" in over.warnings[0].message


def test_unknown_encoding_estimates(fresh_cache: None) -> None:
    assert tokens.get_tokenizer("p50k_base").name == "estimate"
