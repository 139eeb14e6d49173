"""A local OpenAI-compatible fine-tuning endpoint, the default target of quickstart and tests."""
