"""Checks of tool calls in assistant messages and of an example's tool definitions."""

from __future__ import annotations

from typing import Any

from .common import Part, short, type_name


class ToolChecks(Part):
    def tool_calls(self, tc: Any, tp: str, role: Any) -> None:
        if role != "assistant":
            self.err(tp, "tool_calls are only allowed on assistant messages")
            return
        if not isinstance(tc, list):
            self.err(tp, f"tool_calls must be a list, got {type_name(tc)}")
            return
        for cp, call in self.objects(tc, tp, "tool call"):
            cid = call.get("id")
            if not isinstance(cid, str) or not cid:
                self.err(
                    f"{cp}.id",
                    'tool call without id: add "id" (e.g. "call_1") and use '
                    "it as tool_call_id in the tool message that answers it",
                )
            if call.get("type") != "function":
                self.err(
                    f"{cp}.type",
                    f'tool call type must be "function", got {short(call.get("type"))}',
                )
            self.function(call.get("function"), f"{cp}.function")

    def function(self, fn: Any, fp: str) -> None:
        if not isinstance(fn, dict):
            self.err(fp, f"must be an object with name and arguments, got {type_name(fn)}")
            return
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            self.err(f"{fp}.name", 'missing function name: add "name" as a string')
        args = fn.get("arguments")
        if not isinstance(args, str):
            self.err(
                f"{fp}.arguments",
                f"arguments must be a JSON-encoded string, got {type_name(args)}: encode the "
                "arguments object with json.dumps",
            )

    def tools(self, obj: dict[str, Any]) -> None:
        tools = obj.get("tools")
        if tools is not None:
            if not isinstance(tools, list):
                self.err(
                    "tools", f"tools must be a list of tool definitions, got {type_name(tools)}"
                )
            else:
                for i, t in enumerate(tools):
                    fn = t.get("function") if isinstance(t, dict) else None
                    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                        self.err(
                            f"tools[{i}]",
                            'each tool needs {"type": "function", '
                            '"function": {"name": ..., "parameters": {...}}}',
                        )
        ptc = obj.get("parallel_tool_calls")
        if ptc is not None and not isinstance(ptc, bool):
            self.err("parallel_tool_calls", f"must be true or false, got {type_name(ptc)}")
