"""The typed decoding of the common chat example: ``{"messages": [...]}`` whose messages are
system, user and assistant messages with non-empty string content (and, on assistant messages,
``weight`` 0 or 1), nothing else. msgspec checks all of that while it parses, in C, several
times faster than parsing to dicts and walking them; any other line fails here and takes the
detailed path, which finds the same example valid or names what is wrong."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "NOT_PLAIN",
    "FastChat",
    "FastMessage",
    "NotFast",
    "decode_fast_chat",
    "tool_chat_trained",
    "weights_of",
]


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


# -- tool-calling examples -------------------------------------------------------------------
# The same idea for a chat example with tool calls: system, user, assistant and tool messages
# (tagged by role), assistant tool calls and the example's tool definitions, each shaped as the
# detailed path accepts them without a word. Narrower than that path wherever it is simpler to
# be (no `name`, `refusal`, content parts, `functions`, null `tools`): such lines take it.
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _System(msgspec.Struct, tag_field="role", tag="system", forbid_unknown_fields=True):
    content: NonEmpty


class _User(msgspec.Struct, tag_field="role", tag="user", forbid_unknown_fields=True):
    content: NonEmpty


class _CalledFunction(msgspec.Struct, forbid_unknown_fields=True):
    name: NonEmpty
    arguments: str


class _ToolCall(msgspec.Struct, forbid_unknown_fields=True):
    id: NonEmpty
    type: Literal["function"]
    function: _CalledFunction


class _Assistant(msgspec.Struct, tag_field="role", tag="assistant", forbid_unknown_fields=True):
    content: str | msgspec.UnsetType | None = msgspec.UNSET
    tool_calls: Annotated[list[_ToolCall], msgspec.Meta(min_length=1)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    weight: Literal[0, 1] | msgspec.UnsetType = msgspec.UNSET


class _Tool(msgspec.Struct, tag_field="role", tag="tool", forbid_unknown_fields=True):
    content: str
    tool_call_id: str


class _FunctionDefinition(msgspec.Struct):  # other keys are the caller's (the detailed path)
    name: str


class _ToolDefinition(msgspec.Struct):
    function: _FunctionDefinition


class _ToolChat(msgspec.Struct, forbid_unknown_fields=True):
    messages: Annotated[list[_System | _User | _Assistant | _Tool], msgspec.Meta(min_length=1)]
    tools: list[_ToolDefinition] | msgspec.UnsetType = msgspec.UNSET
    parallel_tool_calls: bool | msgspec.UnsetType = msgspec.UNSET


_decode_tool_chat = msgspec.json.Decoder(_ToolChat).decode


def tool_chat_trained(raw: bytes | bytearray) -> int:
    """For a tool-calling chat example the detailed path would accept without an issue, how
    many assistant messages train (0: a warning); NOT_PLAIN for anything else."""
    try:
        messages = _decode_tool_chat(raw).messages
    except NotFast:
        return NOT_PLAIN
    if type(messages[-1]) is not _Assistant:
        return NOT_PLAIN
    trained = 0
    for m in messages:
        if type(m) is _Assistant:
            if m.tool_calls is UNSET and (type(m.content) is not str or not m.content):
                return NOT_PLAIN  # a reply with neither text nor calls: the detailed path says so
            trained += 1 if m.weight is UNSET else m.weight
    return trained
