"""The `finetune` resource-provider plugin: the providers' logic served to every Pulumi language.

`pulumi-resource-finetune` (this package's console script, `python -m pulumi_finetune.plugin`)
is what the engine starts; `pulumi-finetune plugin install` puts a launcher where every Pulumi
program on the machine finds it. See the README's "Other languages (the provider plugin)".

- `schema`: the package schema, generated from the resources' tables;
- `values`: property values between Pulumi's wire form and the providers' dictionaries;
- `provider`: the Provider that serves the two resources through `pulumi_finetune.providers`;
- `server`: the gRPC server (plain errors, partially created resources, the provider's id);
- `install`: the plugin folder in Pulumi's plugin cache.
"""
