"""Offline token counting: which tokenizer is used, exact counts, and the labelled estimate."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    monkeypatch.setattr(tokens, "_native_counter", lambda name: None)
    monkeypatch.setattr(
        tokens, "_candidate_files", lambda name: [tmp_path / "cl100k_base.tiktoken"]
    )
    tok = tokens.get_tokenizer("cl100k_base")
    assert tok.name == "estimate" and not tok.exact


def test_estimate_fallback_is_labelled(monkeypatch: pytest.MonkeyPatch, fresh_cache: None) -> None:
    monkeypatch.setattr(tokens, "_candidate_files", lambda name: [])
    monkeypatch.setattr(tokens, "_native_counter", lambda name: None)
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


# ---------------------------------------------------------------- the native counter vs tiktoken

ENCODINGS = ("o200k_base", "cl100k_base")


def _tiktoken(name: str) -> tokens.Tokenizer:
    """tiktoken on the bundled rank file, as the reference."""
    bundled = _bundled(name)
    if bundled is None:
        pytest.skip("bpe-openai not installed")
    saved = dict(tokens._cache)
    try:
        tokens._cache.clear()
        original = tokens._native_counter
        tokens._native_counter = lambda name: None  # type: ignore[assignment]
        try:
            tok = tokens.get_tokenizer(name)
        finally:
            tokens._native_counter = original  # type: ignore[assignment]
    finally:
        tokens._cache.clear()
        tokens._cache.update(saved)
    assert tok.source == str(bundled)
    return tok


def _native(name: str) -> tokens.Tokenizer:
    native = tokens._native_counter(name)
    if native is None:
        pytest.skip("bpe-openai's native counter is not installed")
    return native


@pytest.mark.parametrize("name", ENCODINGS)
def test_known_counts_are_tiktokens(name: str) -> None:
    reference = _tiktoken(name)
    assert tuple(map(reference.count, tokens._KNOWN_TEXTS)) == tokens._KNOWN_COUNTS[name]


@needs_bundled
def test_native_counter_is_used_when_it_matches(fresh_cache: None) -> None:
    tok = tokens.get_tokenizer("o200k_base")
    assert "bpe-openai" in tok.source and tok.exact
    assert tok.count("hello world") == 2


@needs_bundled
def test_native_counter_that_disagrees_is_not_used(
    monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    wrong = tuple(n + 1 for n in tokens._KNOWN_COUNTS["o200k_base"])
    monkeypatch.setitem(tokens._KNOWN_COUNTS, "o200k_base", wrong)
    tok = tokens.get_tokenizer("o200k_base")
    assert tok.source == str(_bundled("o200k_base"))  # tiktoken on the verified rank file


@needs_bundled
def test_air_gapped_rank_files_take_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    monkeypatch.setenv("PULUMI_FINETUNE_TIKTOKEN_DIR", str(tmp_path))
    assert "bpe-openai" not in tokens.get_tokenizer("o200k_base").source


# Text that stresses the split patterns: letters of every case and script, digits, whitespace
# runs, contractions, punctuation, emoji, combining marks and lone surrogates (valid JSON escapes).
_PIECES = st.sampled_from(
    ["'s", "'T", "'re", "'VE", "'ll", "'D", " ", "  ", "\t", "\n", "\r\n", "\n\n ", "123",
     "4567", "3.14", "A", "a", "Ab", "aB", "é", "É", "ß", "中文", "한", "😀", "👍🏽", "\u0301",
     "\u00a0", "\u200b", "\u3000", "ـ", "ह", "ि", "<|endoftext|>", "_", "--", "?!", "\ud800"]
)  # fmt: skip
_TEXTS = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=40).map("".join),
)


@pytest.mark.parametrize("name", ENCODINGS)
def test_native_counter_matches_tiktoken(name: str) -> None:
    reference, native = _tiktoken(name), _native(name)

    @settings(max_examples=1500, deadline=None, database=None)
    @given(_TEXTS)
    def agree(text: str) -> None:
        assert native.count(text) == reference.count(text), repr(text)

    agree()
    for text in ("A" * 20_000, " " * 5000 + "x", "\n" * 3000, "1" * 4000, "😀" * 2000):
        assert native.count(text) == reference.count(text), text[:10]
