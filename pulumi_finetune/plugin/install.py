"""Installs the plugin where every Pulumi program on this machine finds it.

Pulumi looks for a provider `finetune` of version V in `$PULUMI_HOME/plugins/resource-finetune-vV/`
(`~/.pulumi` by default) and starts the executable `pulumi-resource-finetune` in it. The folder
holds a launcher script that runs this package's plugin with the Python it is installed in
(`runtime: python` plugin folders need a current Python language host, which the hosts this
project builds are not). No Pulumi.yaml needs to name it; with
`PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION` set, nothing is downloaded either.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .._version import __version__
from .schema import PACKAGE

EXECUTABLE = f"pulumi-resource-{PACKAGE}"


def pulumi_home(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    home = env.get("PULUMI_HOME")
    return Path(home) if home else Path.home() / ".pulumi"


def plugin_dir(home: Path, version: str = __version__) -> Path:
    return home / "plugins" / f"resource-{PACKAGE}-v{version}"


def launcher(python: str = sys.executable) -> str:
    """The executable Pulumi starts: this package's plugin, run by `python`."""
    return (
        "#!/bin/sh\n"
        "# pulumi-finetune's provider plugin (written by `pulumi-finetune plugin install`)\n"
        f'exec {shlex.quote(python)} -m pulumi_finetune.plugin "$@"\n'
    )


def install(home: Path | None = None, python: str = sys.executable) -> Path:
    """Write the plugin folder (again: the launcher follows the current Python); its path."""
    target = plugin_dir(home or pulumi_home())
    target.mkdir(parents=True, exist_ok=True)
    Path(f"{target}.partial").unlink(missing_ok=True)
    script = target / EXECUTABLE
    tmp = target / f".{EXECUTABLE}.tmp"
    tmp.write_text(launcher(python))
    tmp.chmod(0o755)
    tmp.replace(script)
    return target


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`pulumi-finetune plugin install [--pulumi-home DIR]`."""
    plugin = sub.add_parser(
        "plugin",
        help="the provider plugin for YAML, TypeScript and other Pulumi languages",
        description="Manage pulumi-finetune's resource provider plugin `finetune`.",
    )
    actions = plugin.add_subparsers(dest="plugin_command", required=True, metavar="ACTION")
    install_cmd = actions.add_parser(
        "install",
        help="install it where every Pulumi program on this machine finds it",
        description="Write the plugin folder resource-finetune-vVERSION into Pulumi's plugin "
        "cache ($PULUMI_HOME/plugins, else ~/.pulumi/plugins), launching this Python.",
    )
    install_cmd.add_argument("--pulumi-home", type=Path, help="Pulumi's home (default as Pulumi)")


def run(args: argparse.Namespace) -> int:
    target = install(args.pulumi_home)
    print(f"installed the finetune provider plugin v{__version__} in {target}")
    return 0
