"""docs/hosts.md's table of what works on each host is the one the host rows give."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "readme_hosts.py"


def test_the_readme_hosts_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location("readme_hosts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python scripts/readme_hosts.py"
    table = module.render()
    assert "`apim-request-id`" in table and "JOB_ID:CHECKPOINT_ID" in table
