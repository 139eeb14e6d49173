"""The base-model table: every model the local endpoint offers is described, and every family
can be reached."""

from __future__ import annotations

import pytest

from pulumi_finetune import models
from pulumi_finetune.local import catalog


@pytest.mark.parametrize("snapshot", models.SNAPSHOTS, ids=lambda s: s.id)
def test_every_offered_model_has_a_family(snapshot: models.Snapshot) -> None:
    assert models.family(snapshot.id) is not models.DEFAULT_FAMILY
    if snapshot.alias:
        assert models.family(snapshot.alias) == models.family(snapshot.id)
        assert catalog.resolve_base(snapshot.alias) == snapshot.id


def test_no_family_is_hidden_behind_an_earlier_prefix() -> None:
    # the first match wins: a prefix listed after a shorter one it starts with never matches
    for i, later in enumerate(models.FAMILIES):
        for earlier in models.FAMILIES[:i]:
            assert not later.prefix.startswith(earlier.prefix), (earlier.prefix, later.prefix)


@pytest.mark.parametrize(
    ("model", "encoding", "limit", "completions"),
    [
        ("gpt-4o-mini-2024-07-18", "o200k_base", 65_536, False),
        ("ft:gpt-4-0613:acme::abc", "cl100k_base", 8_192, False),
        ("GPT-3.5-turbo-0613", "cl100k_base", 4_096, False),
        ("davinci-002", "cl100k_base", 16_384, True),
        ("some-future-model", "o200k_base", 65_536, False),
        (None, "o200k_base", 65_536, False),
    ],
)
def test_facts_of_a_model(model: str | None, encoding: str, limit: int, completions: bool) -> None:
    got = models.family(model)
    assert (got.encoding, got.token_limit, got.completions) == (encoding, limit, completions)


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("gpt-4.1-2025-04-14.ft-0123456789abcdef0123456789abcdef", "gpt-4.1-2025-04-14"),
        (
            "gpt-4o-mini-2024-07-18.ft-0123456789abcdef0123456789abcdef-notes",
            "gpt-4o-mini-2024-07-18",
        ),
        ("ft:gpt-4o-mini-2024-07-18:acme:notes:abc123", "gpt-4o-mini-2024-07-18"),
        ("gpt-4.1", "gpt-4.1-2025-04-14"),
        ("meta-llama/Llama-3.3-70B-Instruct", "meta-llama/llama-3.3-70b-instruct"),
    ],
)
def test_base_model_of_each_hosts_ids(model: str, base: str) -> None:
    assert models.base_model(model) == base


def test_an_azure_fine_tuned_model_has_its_bases_facts() -> None:
    azure = "gpt-4.1-2025-04-14.ft-0123456789abcdef0123456789abcdef-notes"
    assert models.is_fine_tuned(azure) and models.is_fine_tuned("ft:gpt-4o:acme::x")
    assert not models.is_fine_tuned("gpt-4.1-2025-04-14")
    assert models.family(azure) == models.family("gpt-4.1-2025-04-14")
    assert models.family(azure).vision
    assert models.token_limit("gpt-4-0613.ft-0123abcd") == 8_192


def test_open_models_have_no_openai_family() -> None:
    for snapshot in models.OPEN_SNAPSHOTS:
        assert "/" in snapshot.id
        assert models.known_family(snapshot.id) is None
