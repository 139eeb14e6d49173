"""The lifecycle table and what check makes of it: dates per host and base model with their
sources, stack config overriding any row, failures for a job that would be created where
creating has ended, warnings 60 days ahead, `model_retires_on`, and explained refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_finetune import lifecycle
from pulumi_finetune.errors import NotFoundError, PermissionDeniedError
from pulumi_finetune.providers import winddown
from pulumi_finetune.providers.job import FineTuningJobProvider
from pulumi_finetune.schema import FINE_TUNING_JOB

MINI = "gpt-4o-mini-2024-07-18"
BEFORE = date(2026, 12, 4)  # 33 days before OpenAI's end, 41 before gpt-4o-mini retires
AFTER = date(2027, 1, 7)


def test_every_row_has_a_source_and_iso_dates() -> None:
    for row in lifecycle.HOST_ROWS:
        assert row.source and date.fromisoformat(row.jobs_end)
    for mrow in lifecycle.MODEL_ROWS:
        assert mrow.source and mrow.models
        for day in (mrow.retires_on, mrow.jobs_end):
            assert day is None or date.fromisoformat(day)


def test_openai_dates_and_gates() -> None:
    ends = lifecycle.jobs_end("openai", MINI)
    assert ends is not None and ends.day == "2027-01-06"
    assert "2026-05-07" in ends.notes and "2026-07-02" in ends.notes
    retires = lifecycle.retires_on("openai", f"ft:{MINI}:org:bot:abc")  # a fine-tuned model
    assert retires is not None and retires.day == "2027-01-14"
    assert lifecycle.retires_on("openai", "gpt-4.1-mini").day == "2027-01-14"  # type: ignore[union-attr]
    # shut down on 2026-10-23 with o4-mini, reinforcement fine-tuning's only base at OpenAI
    for retired in ("gpt-4.1-nano-2025-04-14", "o4-mini-2025-04-16", "ft:o4-mini-2025-04-16:o::x"):
        fact = lifecycle.retires_on("openai", retired)
        assert fact is not None and fact.day == "2026-10-23", retired
        assert "medium confidence" in fact.source
    assert lifecycle.retires_on("compatible", MINI) is None
    assert lifecycle.jobs_end("compatible", MINI) is None
    assert lifecycle.jobs_end("nebius", "meta-llama/Llama-3.1-8B") is None


def test_azure_trains_each_model_until_its_own_date() -> None:
    ends = lifecycle.jobs_end("azure", "gpt-4.1-2025-04-14")
    assert ends is not None and (ends.day, ends.model) == ("2027-04-14", "gpt-4.1-2025-04-14")
    assert lifecycle.retires_on("azure", MINI).day == "2027-10-01"  # type: ignore[union-attr]


def test_stack_config_overrides_any_row_and_blank_clears_it() -> None:
    overrides = {
        "openai": {"jobs_end": "2027-06-30", "models": {MINI: "2027-09-01"}},
        "azure": {"models": {"gpt-4.1-2025-04-14": {"jobs_end": ""}}},
    }
    ends = lifecycle.jobs_end("openai", MINI, overrides)
    assert ends is not None and ends.day == "2027-06-30"
    assert ends.source == "stack config finetune:lifecycle"
    assert lifecycle.retires_on("openai", MINI, overrides).day == "2027-09-01"  # type: ignore[union-attr]
    assert lifecycle.jobs_end("azure", "gpt-4.1-2025-04-14", overrides) is None
    assert lifecycle.jobs_end("openai", MINI, {"openai": {"jobs_end": ""}}) is None


def test_malformed_overrides_are_named_by_their_config_path() -> None:
    bad = {"openai": {"jobs_end": "soon", "models": {MINI: {"retires": "2027-01-01"}}}}
    found = list(lifecycle.override_failures(bad))
    assert ("finetune:lifecycle.openai.jobs_end", found[0][1]) == found[0]
    assert "YYYY-MM-DD" in found[0][1]
    assert found[1][0] == f"finetune:lifecycle.openai.models['{MINI}'].retires"
    assert list(lifecycle.override_failures("not json")) != []


def test_the_clock_can_be_set_for_a_date_to_come() -> None:
    assert lifecycle.today({lifecycle.CLOCK_ENV: "2027-01-07"}) == AFTER
    assert lifecycle.today({lifecycle.CLOCK_ENV: "garbage"}) == lifecycle.today({})


def job(**props: Any) -> dict[str, Any]:
    return {"host": "openai", "model": MINI, **props}


def test_a_new_job_after_the_cutoff_fails_naming_date_source_and_options() -> None:
    found = winddown.assess(job(), creates=True, today=AFTER)
    path, reason = found.failures[0]
    assert path == "host"
    assert "since 2027-01-06" in reason and "deprecations" in reason
    assert "Azure OpenAI" in reason and "finetune:lifecycle.openai.jobs_end" in reason
    assert found.retires_on == "2027-01-14"
    # an existing job (not created again) only keeps its date
    kept = winddown.assess(job(), creates=False, today=AFTER)
    assert kept.failures == [] and kept.retires_on == "2027-01-14"
    assert any("retires on OpenAI on 2027-01-14 (in 7 days)" in w for w in kept.warnings)


def test_within_60_days_warns_and_a_compatible_host_assumes_nothing() -> None:
    found = winddown.assess(job(), creates=True, today=BEFORE)
    assert found.failures == []
    assert "from 2027-01-06 (in 33 days)" in found.warnings[0]
    assert "2027-01-14 (in 41 days)" in found.warnings[1]
    quiet = winddown.assess(job(host="compatible"), creates=True, today=AFTER)
    assert (quiet.failures, quiet.warnings, quiet.retires_on) == ([], [], "")
    far = winddown.assess(job(host="azure"), creates=True, today=BEFORE)
    assert (far.failures, far.warnings, far.retires_on) == ([], [], "2027-10-01")


def test_a_retired_base_model_fails_a_create() -> None:
    found = winddown.assess(job(), creates=True, today=date(2027, 2, 1))
    paths = [path for path, _ in found.failures]
    assert paths == ["host", "model"]
    assert "was retired on OpenAI on 2027-01-14" in found.failures[1][1]


def checked(env_today: str, olds: dict[str, Any] | None = None, **props: Any) -> Any:
    provider = FineTuningJobProvider()
    config = {"finetune:baseUrl": "http://127.0.0.1:1/v1", "finetune:host": "openai"}
    provider.configure(ConfigureRequest(Config(config, "test")))
    news = {**FINE_TUNING_JOB.placeholders(), "model": MINI, "training_file": "file-1", **props}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(lifecycle.CLOCK_ENV, env_today)
        return provider.check(olds or {}, news)


def test_check_fails_a_create_and_the_override_lets_it_through() -> None:
    refused = checked("2027-01-07")
    assert len(refused.failures) == 1 and refused.failures[0].reason.startswith("host: OpenAI")
    overrides = {"openai": {"jobs_end": ""}}
    allowed = checked("2027-01-07", _lifecycle=overrides)
    assert allowed.failures == [] and allowed.inputs["model_retires_on"] == "2027-01-14"
    bad = checked("2027-01-07", _lifecycle={"openai": {"jobs_end": 5}})
    assert bad.failures[0].reason.startswith("finetune:lifecycle.openai.jobs_end: got 5")


def test_check_lets_existing_and_adopted_jobs_through_after_the_cutoff() -> None:
    first = checked("2026-12-04")
    olds = dict(first.inputs)
    assert checked("2027-01-07", olds).failures == []  # unchanged
    legacy = {k: v for k, v in olds.items() if k != "host"}
    assert checked("2027-01-07", legacy).failures == []  # recorded before the host
    assert checked("2027-01-07", olds, suffix="v2").failures != []  # a replacement
    assert checked("2027-01-07", adopt_job_id="ftjob-abc").failures == []


def api_error(cls: type[Any], **fields: Any) -> Any:
    return cls(
        method="POST",
        path="/fine_tuning/jobs",
        status=403 if cls is PermissionDeniedError else 404,
        message="Your organization cannot create fine-tuning jobs.",
        request_id="req_123",
        **fields,
    )


def test_a_refused_create_says_the_gates_and_the_fix() -> None:
    text = winddown.refusal(api_error(PermissionDeniedError), "openai", MINI)
    assert text is not None
    assert "2026-05-07" in text and "from 2027-01-06 none can" in text
    assert "not retried" in text and "\nFix: move the job" in text
    proxy = winddown.refusal(api_error(PermissionDeniedError), "compatible", MINI)
    assert proxy is not None and "finetune:host openai" in proxy
    gone = api_error(NotFoundError, code="model_not_found", param="model")
    text = winddown.refusal(gone, "openai", MINI)
    assert text is not None and "retired on 2027-01-14" in text
    assert winddown.refusal(api_error(NotFoundError, code="file_not_found"), "openai", MINI) is None


def test_openais_pausing_status_is_an_active_job_on_its_way_to_paused() -> None:
    from pulumi_finetune.providers.job import ACTIVE_STATUSES, TERMINAL_STATUSES, job_outputs

    job = {"id": "ftjob-1", "status": "pausing", "model": "gpt-4o-mini-2024-07-18"}
    assert "pausing" in ACTIVE_STATUSES and "pausing" not in TERMINAL_STATUSES
    assert job_outputs(job)["paused"] is True  # a refresh shows it paused, not drifting back
