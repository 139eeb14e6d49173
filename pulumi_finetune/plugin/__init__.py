"""The `finetune` resource-provider plugin: the providers' logic served to every Pulumi language.

`pulumi-resource-finetune` is what the engine starts: a launcher of `python -m
pulumi_finetune.plugin` that `pulumi-finetune plugin install` puts in Pulumi's plugin cache, where
every Pulumi program on the machine finds it. Nothing of that name goes on PATH (Pulumi would warn
on every run of a program in the package's virtualenv). See the README's "Other languages (the
provider plugin)".

- `schema`: the package schema, generated from the resources' tables (the SDKs in `sdk/` are
  generated from it by `scripts/gen-sdks.sh`);
- `values`: property values between Pulumi's wire form and the providers' dictionaries;
- `provider`: the Provider that serves the two resources through `pulumi_finetune.providers`;
- `server`: the gRPC server (plain errors, partially created resources, the provider's id);
- `install`: the plugin folder in Pulumi's plugin cache.
"""
