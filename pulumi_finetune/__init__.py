"""OpenAI fine-tuning jobs and training files as declarative Pulumi resources."""

from ._version import __version__
from .resources import (
    DestroyBehavior,
    FineTuningJob,
    FineTuningJobArgs,
    HyperparametersArgsDict,
    IntegrationArgsDict,
    MethodArgsDict,
    TrainingFile,
    TrainingFileArgs,
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
]
