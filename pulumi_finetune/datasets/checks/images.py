"""Checks of image content parts, as OpenAI's vision fine-tuning guide sets them: in user
messages only, at most 10 per example, each an https or base64 data URL of a JPEG, PNG or WEBP
image of at most 10 MB, with ``detail`` auto, low or high. A data URL is measured from its
length and its first bytes; it is never decoded whole."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...rules import IMAGE_DETAILS, IMAGE_MEDIA_TYPES, MAX_IMAGE_BYTES, MAX_IMAGES_PER_EXAMPLE
from .common import Part, short

#: First bytes of each image format OpenAI takes, and of a few it does not (to name them).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_FORMATS_HINT = "JPEG, PNG or WEBP"


def sniff(head: bytes) -> str | None:
    """The media type of an image from its first 12 bytes, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    return None


def data_url_size(payload: str) -> int:
    """Decoded bytes of a base64 payload, from its length."""
    n = len(payload)
    pad = 2 if payload.endswith("==") else 1 if payload.endswith("=") else 0
    return n * 3 // 4 - pad


class ImageChecks(Part):
    def start(self, refused: str | None) -> None:
        self.count = 0
        self.refused = refused

    def image(self, part: dict[str, Any], pp: str, role: Any) -> None:
        self.count += 1
        if self.refused:
            self.err(pp, self.refused)
            return
        if role != "user":
            self.err(pp, f"images are allowed only in user messages, not {role}: move it")
        if self.count == MAX_IMAGES_PER_EXAMPLE + 1:
            self.err(
                pp,
                f"more than {MAX_IMAGES_PER_EXAMPLE} images in one example: split it or "
                "remove some",
            )
        iu = part.get("image_url")
        url = iu.get("url") if isinstance(iu, dict) else None
        if not isinstance(url, str):
            self.err(
                f"{pp}.image_url",
                'image part needs "image_url": {"url": "https://... or data:image/..."}',
            )
            return
        assert isinstance(iu, dict)
        if "detail" in iu and iu["detail"] not in IMAGE_DETAILS:
            self.err(
                f"{pp}.image_url.detail",
                f"detail must be {', '.join(IMAGE_DETAILS[:-1])} or {IMAGE_DETAILS[-1]}, "
                f"got {short(iu['detail'])}",
            )
        for key in iu:
            if key not in ("url", "detail"):
                self.err(f"{pp}.image_url.{key}", f"unknown key '{key}': allowed are url, detail")
        if url.startswith("data:"):
            self.data_url(url, f"{pp}.image_url.url")
        elif not url.startswith(("https://", "http://")):
            self.err(
                f"{pp}.image_url.url",
                f"image URL {short(url)} is neither an http(s) URL nor a data URL: OpenAI "
                "fetches https:// URLs or reads data:image/...;base64,... inline",
            )

    def data_url(self, url: str, up: str) -> None:
        header, comma, payload = url.partition(",")
        media_type = header[5:].split(";", 1)[0].lower()
        if not comma or not header.endswith(";base64"):
            self.err(up, "data URL must be base64: data:image/png;base64,<data>")
            return
        if media_type not in IMAGE_MEDIA_TYPES:
            self.err(
                up,
                f"image type {media_type or '(none)'} is not taken: OpenAI takes "
                f"{_FORMATS_HINT}; convert the image",
            )
            return
        size = data_url_size(payload)
        if size > MAX_IMAGE_BYTES:
            self.err(
                up,
                f"image is {size:,} bytes, over the {MAX_IMAGE_BYTES:,}-byte (10 MB) limit "
                "of an image: shrink or recompress it",
            )
        try:
            head = base64.b64decode(payload[:16], validate=True)
        except (binascii.Error, ValueError):
            self.err(up, "the data URL's payload is not valid base64")
            return
        actual = sniff(head)
        if actual is None:
            self.err(up, f"the data is not a {_FORMATS_HINT} image (unrecognised first bytes)")
        elif actual not in IMAGE_MEDIA_TYPES:
            self.err(up, f"the data is a {actual} image: OpenAI takes {_FORMATS_HINT}")
        elif actual != media_type:
            self.add(
                up,
                f"the data is a {actual} image, but the URL says {media_type}: fix one",
                "warning",
            )
