"""The HTTP client for OpenAI-compatible fine-tuning endpoints.

The parts: ``transport`` (the session, auth headers, same-origin redirects, the deadline, the
body read in full), ``retries`` (what is retried and how long to wait), ``responses`` (JSON
answers and OpenAI's error body, the key masked), ``api`` (`Client`: the API's calls).
"""

from __future__ import annotations

from .api import Client
from .responses import JSON
from .retries import is_ambiguous

__all__ = ["JSON", "Client", "is_ambiguous"]
