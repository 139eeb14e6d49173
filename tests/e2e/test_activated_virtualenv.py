"""A Python program run from a shell with the virtualenv activated (the README's "By hand"), with
Pulumi looking on PATH for plugins and downloading missing ones as it does outside the tests: the
package puts nothing named like a plugin on PATH, so `pulumi preview` of the quickstart prints no
plugin warning, with the plugin installed (`pulumi-finetune plugin install`) or not.

(A wheel install also says it is no plugin's SDK, `pulumi_finetune/pulumi-plugin.json`, so the
Python host asks for no `finetune` plugin; the Python host built here reads that file beside the
package in site-packages, which an editable install such as this clone's `.venv` does not have:
there the CLI looks the plugin up, and downloads it in vain when it is not installed.)"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from pulumi_finetune.plugin import install

from .conftest import REPO


@pytest.mark.parametrize("plugin_installed", [True, False])
def test_quickstart_preview_in_an_activated_virtualenv_warns_of_no_plugin(
    fast_endpoint, make_project, engine, plugin_installed
) -> None:
    venv_bin = Path(sys.executable).parent
    assert not list(venv_bin.glob("pulumi-resource-*")), "a plugin-named executable on PATH"
    activated = {
        "PATH": os.pathsep.join([str(engine), str(venv_bin), os.environ["PATH"]]),
        "VIRTUAL_ENV": str(venv_bin.parent),
        # The tests' default hides plugins on PATH (and their warning); a user's shell does not.
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "false",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false",
    }
    project = make_project(fast_endpoint, env=activated)
    shutil.copytree(REPO / "examples" / "quickstart", project.dir, dirs_exist_ok=True)
    if plugin_installed:
        install.install(Path(project.env["PULUMI_HOME"]))  # as `pulumi-finetune plugin install`

    preview = project.preview("-v=7", "--logtostderr")
    assert "warning:" not in preview.stdout.lower(), preview.stdout
    if plugin_installed:  # found where `plugin install` put it: nothing to download
        assert "finetune downloading" not in preview.stderr
    assert "+ 5 to create" in preview.stdout, preview.stdout
