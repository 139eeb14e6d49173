"""Bad specs fail `pulumi preview` naming the property, before any request reaches the endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import MODEL


def sup(**hyper: Any) -> dict[str, Any]:
    return {"type": "supervised", "supervised": {"hyperparameters": hyper}}


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "empty model": ({"model": ""}, "model"),
    "suffix of 65 characters": ({"suffix": "s" * 65}, "suffix"),
    "17 metadata pairs": ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    "65-character metadata key": ({"metadata": {"k" * 65: "v"}}, "metadata"),
    "513-character metadata value": ({"metadata": {"team": "v" * 513}}, "metadata.team"),
    "n_epochs 0": ({"method": sup(n_epochs=0)}, "method.supervised.hyperparameters.n_epochs"),
    "n_epochs 51": ({"method": sup(n_epochs=51)}, "method.supervised.hyperparameters.n_epochs"),
    "batch_size 257": (
        {"method": sup(batch_size=257)},
        "method.supervised.hyperparameters.batch_size",
    ),
    "learning_rate_multiplier 0": (
        {"method": sup(learning_rate_multiplier=0)},
        "method.supervised.hyperparameters.learning_rate_multiplier",
    ),
    "dpo beta 2.5": (
        {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 2.5}}}},
        "method.dpo.hyperparameters.beta",
    ),
    "method.type foo": ({"method": {"type": "foo"}}, "method.type"),
    "dpo with only a supervised block": (
        {"method": {"type": "dpo", "supervised": {"hyperparameters": {"n_epochs": 2}}}},
        "method.supervised",
    ),
    "seed -1": ({"seed": -1}, "seed"),
    "unknown top-level argument": ({"colour": "red"}, "colour"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_preview_fails_naming_the_property(case, fast_endpoint, make_project):
    change, prop = CASES[case]
    project = make_project(fast_endpoint)
    project.write({"jobs": {"bad": {"model": MODEL, "training_file": "file-not-needed", **change}}})
    fast_endpoint.api.reset_stats()

    result = project.preview(check=False)

    assert result.returncode != 0, result.output
    assert prop in result.output, result.output
    assert fast_endpoint.api.stats()["requests"] == 0
