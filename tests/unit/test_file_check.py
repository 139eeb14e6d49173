"""TrainingFile's check during preview: an unchanged file reuses the recorded report (a preview
of unchanged data costs a sha256, not a full parse); anything that changed is validated again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pulumi_finetune.providers.file import TrainingFileProvider

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"


def check(olds: dict[str, Any], path: Path, **news: Any) -> Any:
    return TrainingFileProvider().check(olds, {"path": str(path), "model": MODEL, **news})


def test_an_unchanged_file_reuses_the_recorded_report(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    shutil.copy(DATA, data)
    first = check({}, data)
    recorded = {**first.inputs, "example_count": 999}  # a marker: only reuse can return it

    again = check(recorded, tmp_path / "train.jsonl")

    assert not first.failures and not again.failures
    assert again.inputs["sha256"] == first.inputs["sha256"]
    assert again.inputs["example_count"] == 999


def test_changed_bytes_model_or_format_are_validated_again(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    shutil.copy(DATA, data)
    recorded = {**check({}, data).inputs, "example_count": 999}

    other_model = check(recorded, data, model="gpt-4.1-mini-2025-04-14")
    other_format = check(recorded, data, format="preference")
    with data.open("a") as handle:
        handle.write('{"messages": "not a list"}\n')
    edited = check(recorded, data)

    assert other_model.inputs["example_count"] == 12
    assert other_format.failures  # chat data declared as preference: checked, and rejected
    assert edited.inputs["example_count"] == 13
    assert any(":13: messages" in f.reason for f in edited.failures), edited.failures


def test_a_path_that_is_not_a_regular_file_fails_check_with_a_clear_reason(tmp_path: Path) -> None:
    result = check({}, tmp_path)

    assert [f.reason.split(": ", 1)[0] for f in result.failures] == ["path"]
    assert str(tmp_path) in result.failures[0].reason


def test_the_formats_check_accepts_are_the_validators() -> None:
    from pulumi_finetune import datasets
    from pulumi_finetune.providers.file import FORMATS

    assert tuple(f.value for f in datasets.Format) == FORMATS
