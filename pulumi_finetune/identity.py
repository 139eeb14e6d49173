"""What ties a fine-tuning job to the one stack instance that started it.

No host has idempotency keys, so every job carries a marker: a digest of the stack instance,
the resource and the spec. A create whose response was lost, or a `pulumi up` killed
mid-create, is recovered by looking the marker up and adopting the job found, instead of
posting again. Where the marker lives depends on what the host's documented job object returns
(its row's `echoes` in `pulumi_finetune.hosts`), strongest first (`marker_place`):

- **metadata**: OpenAI and Azure OpenAI keep a job's `metadata`; the marker takes one slot, and
  the job list is filtered by it where the host's list takes the filter (`lists_by_metadata`),
  else read page by page (newest first) down to the job's training file's own `created_at`.
- **seed**: a host that keeps no metadata but returns the job's `seed` (Nebius) is sent a seed
  derived from the marker when the program declares none (any seed is as good as a random one);
  a job is the resource's when its seed, model and files are.
- **echoes**: where the host returns neither (Amazon Bedrock), or the program declares its own
  seed, a job is recognised by everything the host echoes of the request (model, files,
  suffix, hyperparameters, the method and its grader). After a lost answer only a job the
  listing taken before the first post did not hold counts (the host's own ids and times, never
  this machine's clock). That cannot tell two identical jobs apart: two resources with the same
  spec on the same files, another stack training the same file ids the same way, or an earlier
  job of this resource that left the state (`on_destroy=keep`) with its file still there,
  could be taken for one another. `check` warns on the job's row that the guarantee is weaker
  there (`weaker_guarantee`), and a search that finds two candidates fails rather than guess;
  nothing is posted again.

Three facts decide what may be adopted; the program side supplies them as
internal inputs of each FineTuningJob, so the provider needs no `pulumi` CLI and no access to the
backend:

- the **stack instance**: the id the engine gave the stack's `pulumi-finetune` provider resource
  when it created it (a random UUID, kept in the stack's state). Two stacks of the same name in
  two backends, or a stack removed and re-created under the same name, have different ids, so
  they never share a marker and never adopt each other's jobs. It survives a killed `pulumi up`:
  the provider resource is recorded before any job is created.
- the **resource key**: project/stack/resource name.
- the **owned job**: the job the stack's state records for this resource now, read by the program
  from the stack's last checkpoint (the engine's `readStackResourceOutputs`). A job the state owns
  (the one `pulumi up --replace` replaces) and anything older (earlier incarnations) is never
  adopted; a newer marked job is the orphan of an interrupted run.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .hosts import Host

Place = Literal["metadata", "seed", "echoes"]

# Internal inputs of a FineTuningJob (never sent to the API, never a diff: see its table in
# `pulumi_finetune.schema`).
RESOURCE_KEY = "_resource_key"
STACK_INSTANCE = "_stack_instance"
OWNED_JOB = "_owned_job"
URN = "_urn"  # the resource's URN: progress goes to its row in `pulumi up`

# The shared explicit provider's name, and its input naming the stack it serves.
PROVIDER_NAME = "pulumi-finetune"
STACK_INPUT = "finetune:stack"


def marker_for(stack_instance: str, resource_key: str, spec_sha256: str) -> str:
    """The metadata marker of a job: the same for every create of one spec of one resource of
    one stack instance, different for anything else."""
    text = f"{resource_key}\n{spec_sha256}"
    if stack_instance:
        text = f"{stack_instance}\n{text}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def stack_marker(stack_instance: str) -> str:
    """The marker every job of one stack instance shares (beside its own), so that one
    filtered listing finds them all; "" when the stack instance is not known."""
    if not stack_instance:
        return ""
    return hashlib.sha256(f"stack\n{stack_instance}".encode()).hexdigest()[:32]


def marker_place(host: Host, seed_declared: bool) -> Place:
    """Where a job's marker lives on `host` (see the module's docstring)."""
    if "metadata" in host.echoes:
        return "metadata"
    if "seed" in host.echoes and not seed_declared:
        return "seed"
    return "echoes"


def marker_seed(marker: str) -> int:
    """The seed that carries `marker` (OpenAI's range, 0 to 2**31 - 1)."""
    return int(marker[:8], 16) % 2**31


def weaker_guarantee(host: Host, seed_declared: bool) -> str | None:
    """What preview says on a job's row where a lost create answer is recognised only by what
    the host echoes; None where the job carries a marker."""
    if marker_place(host, seed_declared) != "echoes":
        return None
    why = (
        "the host keeps no metadata, and the job's seed is declared: leave it out and a "
        "seed carries the marker"
        if "seed" in host.echoes
        else "its documented job object keeps neither metadata nor a seed"
    )
    echoed = ", ".join(f for f in host.echoes if f not in ("metadata", "seed", "integrations"))
    return (
        f"{host.title} keeps no marker of pulumi-finetune on this job ({why}): a create whose "
        f"answer is lost is recognised by what it echoes ({echoed}) among the jobs started "
        "after the attempt. Another job with the same spec and files (another resource, "
        "another stack training the same file ids, or an earlier job of this one kept by "
        "on_destroy=keep) could not be told apart from it"
    )
