"""A stored create body as the output rules read it: its values, else what the SDK documents.

Rendering and pricing ask the same questions of a body: the ratio, the duration, the format,
how many outputs. The answer is the body's value, else the default the model's field docstring
states ("Defaults to `1280:720`"), read through the oracle; for the Model Router, the fields of
the model the router chose (``routing.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runway_emulator.oracle import body_shape
from runway_emulator.oracle.nodes import Choice, Shape
from runway_emulator.routing import route

MAX_OUTPUTS = 16  # more than any documented count (outputCount 1-10)
COUNT_FIELDS = ("outputCount", "numVariants")


@dataclass(frozen=True)
class BodyView:
    fields: Mapping[str, Any]
    shape: Shape | None

    def default(self, wire: str) -> Any:
        spec = self.shape.fields.get(wire) if self.shape is not None else None
        return spec.limits.default if spec is not None else None

    def value(self, wire: str) -> Any:
        """The body's value, else the documented default (None when there is neither)."""
        given = self.fields.get(wire)
        return given if given is not None else self.default(wire)

    def choices(self, wire: str) -> tuple[Any, ...]:
        """The literal values the field takes, if it is a ``Literal``."""
        spec = self.shape.fields.get(wire) if self.shape is not None else None
        return spec.node.values if spec is not None and isinstance(spec.node, Choice) else ()

    def bounds(self, wire: str) -> tuple[float | None, float | None]:
        spec = self.shape.fields.get(wire) if self.shape is not None else None
        return (spec.limits.minimum, spec.limits.maximum) if spec is not None else (None, None)

    def output_count(self) -> int:
        """How many output files: ``outputCount``/``numVariants`` (given or documented), else one."""
        for wire in COUNT_FIELDS:
            count = self.value(wire)
            if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
                return min(count, MAX_OUTPUTS)
        return 1


def view(endpoint: str, flavor: str, body: Mapping[str, Any]) -> BodyView:
    chosen = route(endpoint, body)
    if chosen is not None:
        return BodyView(chosen.fields, None)
    return BodyView(body, body_shape(endpoint, flavor, body))
