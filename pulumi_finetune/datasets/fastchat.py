"""The typed decoding of the common chat example: ``{"messages": [...]}`` whose messages are
system, user and assistant messages with non-empty string content (and, on assistant messages,
``weight`` 0 or 1), nothing else. msgspec checks all of that while it parses, in C, several
times faster than parsing to dicts and walking them; any other line fails here and takes the
detailed path, which finds the same example valid or names what is wrong."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["NOT_PLAIN", "FastChat", "FastMessage", "NotFast", "decode_fast_chat", "weights_of"]


class FastMessage(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    role: Literal["system", "user", "assistant"]
    content: Annotated[str, msgspec.Meta(min_length=1)]
    #: UNSET when absent; an explicit null is not taken here (the detailed path refuses it).
    weight: Literal[0, 1] | msgspec.UnsetType = msgspec.UNSET


class FastChat(msgspec.Struct, forbid_unknown_fields=True):
    messages: Annotated[list[FastMessage], msgspec.Meta(min_length=1)]


decode_fast_chat = msgspec.json.Decoder(FastChat).decode
#: What ``decode_fast_chat`` raises for a line it does not take.
NotFast = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)
UNSET = msgspec.UNSET


#: ``weights_of`` for an example whose weights the fast path cannot take.
NOT_PLAIN = -1


def weights_of(messages: list[FastMessage]) -> int:
    """For an example with a ``weight``: NOT_PLAIN when one is on a message other than the
    assistant's (the detailed path names it), else how many assistant messages train."""
    trained = 0
    for m in messages:
        if m.weight is not UNSET:
            if m.role != "assistant":
                return NOT_PLAIN
            trained += m.weight
        elif m.role == "assistant":
            trained += 1
    return trained
