"""Writes docs/hosts.md's table of what works on each host, from the host rows in
`pulumi_finetune/hosts.py` (between `<!-- hosts:begin -->` and `<!-- hosts:end -->`).

    python scripts/readme_hosts.py [--check]

`--check` fails when the page's table is not what the rows say (a test runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pulumi_finetune import hosts, shapes

README = Path(__file__).resolve().parents[1] / "docs" / "hosts.md"
BEGIN, END = "<!-- hosts:begin -->", "<!-- hosts:end -->"


def _code(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) or "—"


def _credential(host: hosts.Host) -> str:
    key = (
        "`Authorization: Bearer KEY`"
        if host.key_header == "Authorization"
        else (f"`{host.key_header}: KEY`")
    )
    return key + (" or an Entra ID token (`finetune:azureToken`)" if host.bearer_tokens else "")


def _hyperparameters(host: hosts.Host) -> str:
    if host.hyperparameters == hosts.OPENAI_HYPERPARAMETERS:
        return "OpenAI's (`learning_rate_multiplier`, ...)"
    return _code(list(host.hyperparameters))


def _result(host: hosts.Host) -> str:
    if host.result == "fine_tuned_model":
        example = host.fine_tuned_id.format(
            base="BASE", org="ORG", suffix="SUFFIX", short="ID", hex="HEX"
        )
        field = shapes.for_host(host).result_field
        named = "" if field == "fine_tuned_model" else f", its `{field}`"
        return f"`fine_tuned_model`{named} (`{example}`)"
    return "the final checkpoint, `JOB_ID:CHECKPOINT_ID`"


def _pause(host: hosts.Host) -> str:
    if not host.can_pause:
        return "no (`paused=True` refused in preview)"
    caps = ", ".join(f"{m} at ${usd:,.0f}" for m, usd in host.cost_caps.items())
    return "yes" + (f"; pauses itself: {caps}" if caps else "")


def _uploads(host: hosts.Host) -> str:
    route = f"`{shapes.for_host(host).upload_route}`"
    parts = [f"{route}, and `/uploads` for large files" if host.uploads_api else f"{route} only"]
    if host.upload_expires_after:
        parts.append(f"`expires_after` {host.upload_expires_after} s (required)")
    return "; ".join(parts)


def _prices(host: hosts.Host) -> str:
    if host.price_table:
        return f"{host.price_table}'s table (`prices.py`), overridable"
    return "not tabled: no estimate" if host.price_note else "unknown: no estimate"


def _graders(host: hosts.Host) -> str:
    if "reinforcement" not in host.methods:
        return "—"
    return _code(list(host.graders)) if host.graders is not None else "OpenAI's"


def _marker(host: hosts.Host) -> str:
    """Where a job's marker lives (what a lost create answer is recognised by)."""
    if "metadata" in host.echoes:
        filtered = "list filtered by it" if host.lists_by_metadata else "list read page by page"
        return f"`metadata` ({filtered})"
    echoed = _code([f for f in host.echoes if f not in ("seed", "integrations")])
    if "seed" in host.echoes:
        return f"`seed` when none is declared, else what it echoes ({echoed}): weaker"
    return f"none: what it echoes ({echoed}), weaker (preview warns)"


def render() -> str:
    """The table, one column per host."""
    rows: list[tuple[str, ...]] = [
        ("", *(f"**{h.title}** (`{h.name}`)" for h in hosts.HOSTS)),
        ("recognised from", *(_code(list(h.hostnames)) for h in hosts.HOSTS)),
        ("API path", *(f"`{h.api_path}`" for h in hosts.HOSTS)),
        (
            "API shape (jobs at)",
            *(f"`{h.shape}` (`{shapes.for_host(h).jobs_path}`)" for h in hosts.HOSTS),
        ),
        ("credential", *(_credential(h) for h in hosts.HOSTS)),
        ("own create fields", *(_code(list(h.create_fields)) for h in hosts.HOSTS)),
        ("`training_type`", *(_code(list(h.training_types)) for h in hosts.HOSTS)),
        ("supervised hyperparameters", *(_hyperparameters(h) for h in hosts.HOSTS)),
        ("methods", *(_code(list(h.methods)) for h in hosts.HOSTS)),
        (
            "own method fields",
            *(
                _code([f"{m}.{f}" for m, fs in h.method_fields.items() for f in fs])
                for h in hosts.HOSTS
            ),
        ),
        ("reinforcement graders", *(_graders(h) for h in hosts.HOSTS)),
        ("job's marker (lost create answers)", *(_marker(h) for h in hosts.HOSTS)),
        (
            "training examples",
            *(
                f"{h.example_limits[0]:,} to {h.example_limits[1]:,}" if h.example_limits else "—"
                for h in hosts.HOSTS
            ),
        ),
        ("pause / resume", *(_pause(h) for h in hosts.HOSTS)),
        ("`result_model` is", *(_result(h) for h in hosts.HOSTS)),
        (
            "suffix",
            *(
                (f"≤ {h.suffix_max} chars" if h.suffix_max else "none (refused in preview)")
                + (f", no {_code(list(h.suffix_forbidden))}" if h.suffix_forbidden else "")
                for h in hosts.HOSTS
            ),
        ),
        (
            "uploads",
            *(_uploads(h) for h in hosts.HOSTS),
        ),
        ("request id header", *(f"`{h.request_id_header}`" for h in hosts.HOSTS)),
        ("error body", *(h.error_shape for h in hosts.HOSTS)),
        ("training prices", *(_prices(h) for h in hosts.HOSTS)),
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    note = (
        "Generated by `scripts/readme_hosts.py` from `pulumi_finetune/hosts.py` (sources and "
        "dates there)."
    )
    return "\n".join([*lines, "", note])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    readme = README.read_text()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    wanted = f"{head}{BEGIN}\n{render()}\n{END}{tail}"
    if args.check:
        if wanted != readme:
            print("docs/hosts.md's hosts table is stale: run python scripts/readme_hosts.py")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
