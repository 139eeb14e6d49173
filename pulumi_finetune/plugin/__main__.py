"""`python -m pulumi_finetune.plugin ENGINE_ADDRESS`: the provider plugin."""

from .server import main

main()
