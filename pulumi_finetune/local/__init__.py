"""A local OpenAI-compatible fine-tuning endpoint: the default target of the quickstart and the tests."""
