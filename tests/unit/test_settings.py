"""Where settings come from: resource argument > stack config > environment > default."""

from __future__ import annotations

import pytest

from pulumi_finetune.errors import SettingsError
from pulumi_finetune.settings import DEFAULT_BASE_URL, resolve


def test_resource_argument_beats_config_beats_environment():
    env = {"OPENAI_BASE_URL": "https://env.example/v1", "OPENAI_API_KEY": "sk-env"}
    config = {"finetune:baseUrl": "https://config.example/v1", "finetune:apiKey": "sk-config"}

    assert resolve({"base_url": "https://arg.example/v1"}, config, env).base_url == (
        "https://arg.example/v1"
    )
    assert resolve({}, config, env).base_url == "https://config.example/v1"
    assert resolve({}, {}, env).base_url == "https://env.example/v1"
    assert resolve({}, {}, {}).base_url == DEFAULT_BASE_URL
    assert resolve({}, config, env).api_key == "sk-config"
    assert resolve({}, {}, env).api_key == "sk-env"


def test_blank_values_count_as_unset_and_trailing_slash_is_dropped():
    settings = resolve({"base_url": "  "}, {"finetune:baseUrl": "http://127.0.0.1:1/v1/"}, {})
    assert settings.base_url == "http://127.0.0.1:1/v1"


def test_organization_and_project_follow_openai_sdk_variables():
    settings = resolve({}, {}, {"OPENAI_ORG_ID": "org-1", "OPENAI_PROJECT_ID": "proj_1"})
    assert (settings.organization, settings.project) == ("org-1", "proj_1")


def test_key_is_hidden_from_repr_and_missing_key_says_how_to_set_it():
    settings = resolve({}, {"finetune:apiKey": "sk-secret-value"}, {})
    assert "sk-secret-value" not in repr(settings)
    with pytest.raises(SettingsError, match="pulumi config set --secret finetune:apiKey"):
        resolve({}, {}, {}).require_key()


def test_base_url_must_be_http():
    with pytest.raises(SettingsError, match="base_url"):
        resolve({"base_url": "ftp://example"}, {}, {})
