"""Where ``pulumi-finetune-local`` starts: check for the `local` extra, then run the command.

`pip install pulumi-finetune` installs the command without the endpoint's HTTP stack (werkzeug,
waitress, the `local` extra), and :mod:`.cli` imports that stack at import time. Checked here,
before :mod:`.cli` is imported, a missing extra is one line naming what to install (exit 2), not
a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib
import sys

PROG = "pulumi-finetune-local"
# The modules the `local` extra provides (pyproject.toml's [project.optional-dependencies]).
LOCAL_EXTRA_MODULES = ("werkzeug", "waitress")
INSTALL = 'pip install "pulumi-finetune[local]"'


def missing_local_extra() -> str | None:
    """The first of the `local` extra's modules that cannot be imported, or None."""
    for name in LOCAL_EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # absent, or installed without a dependency of its own
            return exc.name or name
    return None


def main(argv: list[str] | None = None) -> int:
    missing = missing_local_extra()
    if missing is not None:
        print(
            f"{PROG}: the local endpoint needs the `local` extra (no module {missing!r}): "
            f"{INSTALL}",
            file=sys.stderr,
        )
        return 2
    from .cli import main as cli_main

    return cli_main(argv)
