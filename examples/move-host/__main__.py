"""The same data and job on whichever host the stack config names: moving it is a config change.

Stack config (see README.md):
- `move-host:host`: where the job lives: `openai`, `azure` or `nebius`;
- `move-host:hosts`: every host the stack uses, `{NAME: {"baseUrl": URL, "model": MODEL}}`
  (`model` optional: the defaults below);
- `move-host:<name>Key`: each host's key, as a secret;
- `move-host:onDestroy`: what happens to the old host's job and model once the new one has
  succeeded: `keep` (default: it keeps serving), `cancel` or `delete_model`.

Each host gets a provider of its own (`host_provider`), declared for as long as the stack lists
the host: the old job is deleted through it, after the new job was created and waited for.
"""

import pulumi

from pulumi_finetune import FineTuningJob, TrainingFile, host_provider

# A base model per host: OpenAI's models on OpenAI and Azure, an open model on Nebius.
MODELS = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "azure": "gpt-4.1-mini-2025-04-14",
    "nebius": "meta-llama/Meta-Llama-3.1-8B-Instruct",
}

config = pulumi.Config("move-host")
target = config.require("host")
hosts = config.require_object("hosts")
providers = {
    name: host_provider(
        name,
        host=name,
        base_url=settings["baseUrl"],
        api_key=config.require_secret(f"{name}Key"),
    )
    for name, settings in hosts.items()
}
if target not in providers:
    raise ValueError(
        f"move-host:host {target!r} is not one of move-host:hosts ({', '.join(hosts)})"
    )
on_target = pulumi.ResourceOptions(provider=providers[target])
model = hosts[target].get("model") or MODELS[target]

data = TrainingFile("release-notes", path="data/release_notes.jsonl", model=model, opts=on_target)
job = FineTuningJob(
    "release-notes",
    model=model,
    training_file=data.id,
    suffix="notes",
    method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    wait_for_completion=True,  # the old host's job is handled only once this one succeeded
    on_destroy=config.get("onDestroy") or "keep",
    opts=on_target,
)

pulumi.export("host", job.host)
pulumi.export("job", job.id)
pulumi.export("model", job.result_model)  # fine_tuned_model, or Nebius's final checkpoint
