"""The catalog as JSON text that diffs well: keys sorted, two-space indent, short lists on one line.

The same data always gives the same bytes, so a regenerated catalog differs from the committed
one exactly where the SDK or the overlay changed.
"""

from __future__ import annotations

import json
from typing import Any

INDENT = "  "


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_flat(value: list[Any]) -> bool:
    return all(not isinstance(item, (dict, list)) for item in value)


def _render(value: Any, depth: int) -> str:
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_scalar(key)}: {_render(value[key], depth + 1)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if _is_flat(value):
            return "[" + ", ".join(_scalar(item) for item in value) + "]"
        return "[\n" + ",\n".join(f"{inner}{_render(item, depth + 1)}" for item in value) + f"\n{pad}]"
    return _scalar(value)


def render_json(value: Any) -> str:
    return _render(value, 0) + "\n"
