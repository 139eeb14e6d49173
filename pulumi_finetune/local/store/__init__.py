"""The endpoint's state: SQLite in the data directory, file bytes beside it, a method per operation.

One module per concern, stacked into :class:`Store`: ``db`` (the directory, its lock, connections,
transactions), ``clock``, ``files``, ``uploads``, ``models``, ``progress`` (a job catching up with
the clock) and ``jobs``. See ``db`` for the layout on disk and the concurrency rules.
"""

from __future__ import annotations

from .db import Page
from .files import FILE_PURPOSES
from .jobs import Jobs
from .uploads import UPLOAD_MAX_BYTES, UPLOAD_PART_MAX_BYTES, Uploads

__all__ = ["FILE_PURPOSES", "UPLOAD_MAX_BYTES", "UPLOAD_PART_MAX_BYTES", "Page", "Store"]


class Store(Jobs, Uploads):
    """All state of one endpoint. Thread-safe; methods are named after the API operations."""
