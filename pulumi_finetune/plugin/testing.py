"""Projects in other languages for the real-engine tests of the plugin (and its benchmarks).

A `PluginProject` is a `pulumi_finetune.local.testing.Project` whose program is YAML,
TypeScript, Go or Python on the plugin face: its PULUMI_HOME holds the plugin
(`pulumi-finetune plugin install`), and its CLI sits beside the YAML, Node.js and Go language
hosts (`scripts/install-language-hosts.sh`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..local.testing import Project, pulumi_env
from . import install
from .values import camel

MAIN = {"nodejs": "index.ts", "go": "main.go", "python": "__main__.py"}
HOSTS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-language-hosts.sh"


def language_hosts_dir() -> Path:
    """The pinned CLI with the YAML, Node.js and Go language hosts beside it (built once,
    cached)."""
    out = subprocess.run(["bash", str(HOSTS_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@dataclass
class PluginProject(Project):
    """A YAML (`runtime: yaml`), TypeScript (`runtime: nodejs`), Go (`runtime: go`) or Python
    project using the plugin."""

    runtime: str = "yaml"
    program: str = ""
    """The YAML program (the resources, outputs, ... of Pulumi.yaml), `index.ts`, `main.go` or
    `__main__.py`."""

    def __post_init__(self) -> None:
        self.dir = self.root / "project"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        self.env = {**pulumi_env(self.root, self.engine), **self.env}
        install.install(Path(self.env["PULUMI_HOME"]))
        self.write_program(self.program)
        self.init_stack()

    def write(self, program: dict[str, Any]) -> None:
        """The Python test program's description (`{"files": ..., "jobs": ...}`, see
        `pulumi_finetune.local.testing`), as the same YAML program."""
        self.write_program(yaml_program(program))

    def write_program(self, program: str) -> None:
        header = f"name: {self.name}\nruntime: {self.runtime}\n"
        if self.runtime == "yaml":
            (self.dir / "Pulumi.yaml").write_text(header + program)
        else:
            (self.dir / "Pulumi.yaml").write_text(header)
            (self.dir / MAIN[self.runtime]).write_text(program)


def yaml_program(program: dict[str, Any]) -> str:
    """A YAML program of the resources the Python test program declares for the same
    description: `files` as TrainingFiles, `jobs` as FineTuningJobs ("@name": that file's id)."""
    lines = ["resources:"]
    kinds = (("files", "TrainingFile"), ("jobs", "FineTuningJob"))
    for key, kind in kinds:
        for name, args in (program.get(key) or {}).items():
            props = {
                camel(k): f"${{{v[1:]}.id}}" if isinstance(v, str) and v.startswith("@") else v
                for k, v in args.items()
            }
            lines += [f"  {name}:", f"    type: finetune:index:{kind}"]
            lines.append(f"    properties: {json.dumps(props)}")
    return "\n".join(lines) + "\n" if len(lines) > 1 else "resources: {}\n"
