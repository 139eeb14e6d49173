"""Azure OpenAI / Foundry, end to end: fine-tune, then serve the trained model.

A fine-tuned model on Azure answers only through a *deployment*, an Azure Resource Manager
resource (`Microsoft.CognitiveServices/accounts/deployments`), here azure-native's
`cognitiveservices.Deployment`. The two compose through `job.result_model`: the deployment
follows the job, and a replaced job (new data, another tier) is deployed once it succeeded.

The key comes from the account itself (azure-native's `list_account_keys_output`) and reaches
pulumi-finetune through a provider of its own (`host_provider`): it is never a resource
argument and stays a secret in state.

Stack config (see README.md): `azure-deployment:resourceGroup`, `azure-deployment:account`
(the Azure OpenAI / Foundry resource), optional `azure-deployment:trainingType` (Standard,
GlobalStandard or Developer) and `azure-deployment:deploymentSku` (standard, globalstandard or
developertier; developer deployments are removed after 24 hours).
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_azure_native.cognitiveservices as cognitiveservices

from pulumi_finetune import FineTuningJob, TrainingFile, host_provider

MODEL = "gpt-4.1-mini-2025-04-14"
here = Path(__file__).parent

config = pulumi.Config("azure-deployment")
resource_group: str = config.require("resourceGroup")
account: str = config.require("account")
training_type: str = config.get("trainingType") or "Standard"
deployment_sku: str = config.get("deploymentSku") or "standard"

keys = cognitiveservices.list_account_keys_output(
    account_name=account, resource_group_name=resource_group
)
azure = host_provider(
    "azure",
    host="azure",
    base_url=f"https://{account}.openai.azure.com/openai/v1",
    api_key=keys.apply(lambda k: k.key1 or ""),
)
on_azure = pulumi.ResourceOptions(provider=azure)

data = TrainingFile(
    "release-notes",
    path=str(here / "data" / "release_notes.jsonl"),
    model=MODEL,
    opts=on_azure,
)
job = FineTuningJob(
    "release-notes",
    model=MODEL,
    training_file=data.id,
    suffix="notes",  # no dots on Azure (checked in preview)
    training_type=training_type,  # sent as trainingType
    wait_for_completion=True,  # the deployment needs the trained model
    # A deployed model cannot be deleted: a replaced job's model is left to Azure's retention.
    on_destroy="keep",
    opts=on_azure,
)

deployment = cognitiveservices.Deployment(
    "release-notes",
    account_name=account,
    resource_group_name=resource_group,
    deployment_name="release-notes",
    sku=cognitiveservices.SkuArgs(name=deployment_sku, capacity=1),
    properties=cognitiveservices.DeploymentPropertiesArgs(
        model=cognitiveservices.DeploymentModelArgs(
            format="OpenAI",
            name=job.result_model,  # gpt-4.1-mini-2025-04-14.ft-...-notes
            version="1",
        ),
    ),
)

pulumi.export("job", job.id)
pulumi.export("model", job.result_model)
pulumi.export("deployment", deployment.name)
