"""JSON serialisation that never recurses: deep values must not crash a tool call."""

from __future__ import annotations

import json
from typing import Any


def to_json_text(value: Any) -> str:
    """``value`` as pretty JSON (indent 2, as most tools return it); any depth.

    Values json cannot encode become their ``str()``; nesting deeper than the interpreter's
    recursion limit is serialised by an explicit stack instead.
    """
    try:
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    except RecursionError:
        return _dumps_iterative(value)
    except (TypeError, ValueError):
        return _safe_str(value)


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a __str__ that raises or recurses forever
        return f"<unprintable {type(value).__name__}>"


def _dumps_iterative(value: Any) -> str:
    """Compact JSON of arbitrarily deep lists/dicts without recursion."""
    out: list[str] = []
    # the stack holds values to emit, or literal strings (closing brackets, separators)
    stack: list[tuple[bool, Any]] = [(False, value)]
    while stack:
        literal, item = stack.pop()
        if literal:
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            stack.append((True, "}"))
            entries = list(item.items())
            for i in range(len(entries) - 1, -1, -1):
                key, val = entries[i]
                stack.append((False, val))
                stack.append((True, json.dumps(str(key), ensure_ascii=False) + ":"))
                if i:
                    stack.append((True, ","))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            stack.append((True, "]"))
            for i in range(len(item) - 1, -1, -1):
                stack.append((False, item[i]))
                if i:
                    stack.append((True, ","))
        else:
            try:
                out.append(json.dumps(item, ensure_ascii=False, default=str))
            except (TypeError, ValueError):
                out.append(json.dumps(_safe_str(item), ensure_ascii=False))
    return "".join(out)
