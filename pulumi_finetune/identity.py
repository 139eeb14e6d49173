"""What ties a fine-tuning job to the one stack instance that started it.

OpenAI has no idempotency keys, so every job carries a marker in its metadata: a digest of the
stack instance, the resource and the spec. A create whose response was lost, or a `pulumi up`
killed mid-create, is recovered by looking the marker up and adopting the job found, instead of
posting again. Three facts decide what may be adopted; the program side supplies them as
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
