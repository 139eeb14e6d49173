"""The installed commands when an extra they need is missing: one line naming it, exit 2.

Each command runs for real, as installed, in a Python where the extra's modules cannot be
imported: a `sitecustomize` on PYTHONPATH puts a finder first on `sys.meta_path` that answers
`ModuleNotFoundError` for them, as a Python without the package does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

SCRIPTS = Path(sysconfig.get_path("scripts"))

BLOCKER = """
import sys

class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Missing())
"""


def run_without(
    blocked: tuple[str, ...], argv: list[str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=blocked))
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_FINETUNE_LOCAL_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


LOCAL_LINE = (
    "pulumi-finetune-local: the local endpoint needs the `local` extra (no module 'werkzeug'): "
    'pip install "pulumi-finetune[local]"\n'
)


@pytest.mark.parametrize(
    "command",
    [
        [str(SCRIPTS / "pulumi-finetune-local")],
        [sys.executable, "-m", "pulumi_finetune.local"],
    ],
    ids=["pulumi-finetune-local", "python -m pulumi_finetune.local"],
)
def test_local_endpoint_without_its_extra_names_it_in_one_line(
    command: list[str], tmp_path: Path
) -> None:
    argv = [*command, "--port", "0", "--data-dir", str(tmp_path / "data"), "--key", "sk-x"]
    done = run_without(("werkzeug", "waitress"), argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == LOCAL_LINE
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing started


def test_local_endpoint_missing_only_waitress_names_it(tmp_path: Path) -> None:
    argv = [str(SCRIPTS / "pulumi-finetune-local"), "--key", "sk-x"]
    done = run_without(("waitress",), argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == LOCAL_LINE.replace("'werkzeug'", "'waitress'")


def test_local_endpoint_with_its_extra_gets_past_the_check(tmp_path: Path) -> None:
    # The same run with an unrelated module blocked reaches the command's own checks (no key).
    argv = [str(SCRIPTS / "pulumi-finetune-local"), "--data-dir", str(tmp_path / "data")]
    done = run_without(("matplotlib",), argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "extra" not in done.stderr
    assert "a key is required" in done.stderr


def test_watch_png_without_the_plot_extra_names_it_in_one_line(tmp_path: Path) -> None:
    argv = [
        str(SCRIPTS / "pulumi-finetune"),
        "watch",
        "ftjob-abc",
        "--png",
        str(tmp_path / "loss.png"),
        "--base-url",
        "http://127.0.0.1:9/v1",
    ]
    done = run_without(("matplotlib",), argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "pulumi-finetune watch: error: --png needs the `plot` extra: "
        "pip install 'pulumi-finetune[plot]'\n"
    )
    assert not (tmp_path / "loss.png").exists()
