"""OpenAI fine-tuning jobs and training files as declarative Pulumi resources."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .resources import (
        DestroyBehavior,
        FineTuningJob,
        FineTuningJobArgs,
        HyperparametersArgsDict,
        IntegrationArgsDict,
        MethodArgsDict,
        TrainingFile,
        TrainingFileArgs,
        host_provider,
    )

__all__ = [
    "DestroyBehavior",
    "FineTuningJob",
    "FineTuningJobArgs",
    "HyperparametersArgsDict",
    "IntegrationArgsDict",
    "MethodArgsDict",
    "TrainingFile",
    "TrainingFileArgs",
    "__version__",
    "host_provider",
]


def __getattr__(name: str) -> Any:
    # The resources pull in the Pulumi SDK (~50 MB); the validate CLI and the local endpoint
    # import this package without needing it.
    if name in __all__:
        return getattr(importlib.import_module(".resources", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
