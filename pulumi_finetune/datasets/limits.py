"""How much one line may hold before the validator refuses it unread or unparsed, derived from
OpenAI's per-example limits so that no example OpenAI could train is refused.

An example holds at most ``MAX_IMAGES_PER_EXAMPLE`` images of ``MAX_IMAGE_BYTES`` (as base64
data URLs, 4/3 of that) and text that, past the model's token limit (65,536 at most), is cut
off. ``MAX_TEXT_BYTES`` is 128 bytes per token of that limit: no text that long fits in it,
whatever its language or JSON escaping. Lines past these bounds are errors, found before the
line is parsed (or, past ``MAX_LINE_BYTES``, before it is held at all).
"""

from __future__ import annotations

from ..rules import MAX_IMAGE_BYTES, MAX_IMAGES_PER_EXAMPLE

#: Bytes of a line outside image data URLs.
MAX_TEXT_BYTES = 8 * 1024 * 1024
#: Length of the longest image data URL: ``data:image/webp;base64,`` and 4/3 of the image.
MAX_DATA_URL_BYTES = len("data:image/jpeg;base64,") + 4 * -(-MAX_IMAGE_BYTES // 3)
#: The longest line that can be an example for a model with vision fine-tuning (or none named).
MAX_LINE_BYTES = MAX_TEXT_BYTES + MAX_IMAGES_PER_EXAMPLE * MAX_DATA_URL_BYTES
#: The longest line that can be an example for a model without vision fine-tuning.
MAX_TEXT_LINE_BYTES = MAX_TEXT_BYTES
#: Lines longer than this are measured (text vs. image bytes, JSON structure) before parsing.
LARGE_LINE_BYTES = 1 << 20
#: At most this many ``{``, ``[`` and ``,`` in a large line: each stands for a value that costs at
#: least a token, so a line with more is 16 times past the largest token limit; parsing it could
#: build millions of objects.
MAX_STRUCTURE = 16 * 65_536
