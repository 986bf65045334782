"""Checking a JSON value against the oracle's nodes, the way the API answers a bad request.

The first problem found refuses the request, with a message that starts with the field's wire
path (``promptImage[0].uri``, ``contentModeration.publicFigureThreshold``). Rules:

- types as JSON has them: a whole float counts as an integer, ``true`` is never a number;
- a ``Literal`` takes only its own values, of their own JSON type;
- an object refuses a missing required key and any key its TypedDict does not list;
- a union of objects is told apart by a key every member requires with distinct literal values
  (``model``, ``type``, ``mode``); without one, the value must fit at least one member;
- limits from the docstrings: number ranges, string lengths (UTF-16 where the docstring says
  so), patterns, array sizes, and media URIs (checked by the ``uri`` callback).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from runway_emulator.oracle.nodes import NO_LIMITS, AnyOf, Choice, Items, Limits, Node, Scalar, Shape

UriCheck = Callable[[str, str, Limits], None]  # (value, path, limits) -> raises Refusal


class Refusal(ValueError):
    """A request the API refuses (HTTP 400); ``field`` is the wire path of the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def shown(value: Any) -> str:
    """A value as an error message quotes it: JSON arrays and objects by kind, the rest shortened."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    text = "null" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _scalar_fits(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return kind == "float" or isinstance(value, int) or value.is_integer()


def _literal_fits(literal: Any, value: Any) -> bool:
    if isinstance(literal, bool) or isinstance(value, bool):
        return isinstance(literal, bool) and isinstance(value, bool) and literal == value
    if isinstance(literal, str) != isinstance(value, str):
        return False
    return bool(literal == value)


def describe(node: Node) -> str:
    if isinstance(node, Scalar):
        return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
            node.kind, "any JSON value"
        )
    if isinstance(node, Choice):
        return "one of " + ", ".join(repr(v) for v in node.values)
    if isinstance(node, Items):
        return "an array"
    if isinstance(node, Shape):
        return "an object"
    return " or ".join(dict.fromkeys(describe(option) for option in node.options))


def fits_kind(node: Node, value: Any) -> bool:
    """Whether a value is of a JSON kind the node accepts (its contents unchecked)."""
    if isinstance(node, Scalar):
        return _scalar_fits(node.kind, value)
    if isinstance(node, Choice):
        return any(_literal_fits(literal, value) for literal in node.values)
    if isinstance(node, Items):
        return isinstance(value, list)
    if isinstance(node, Shape):
        return isinstance(value, dict)
    return any(fits_kind(option, value) for option in node.options)


def _length(text: str, utf16: bool) -> int:
    return len(text.encode("utf-16-le")) // 2 if utf16 else len(text)


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_number_text(low)} and {_number_text(high)}"
    return f"at least {_number_text(low)}" if low is not None else f"at most {_number_text(high or 0)}"


def discriminator(shapes: list[Shape]) -> str | None:
    """A key every member requires as a literal, with no value shared between members."""
    return _discriminator(tuple(shapes))


@functools.lru_cache(maxsize=256)
def _discriminator(shapes: tuple[Shape, ...]) -> str | None:
    if len(shapes) < 2:
        return None
    for wire in shapes[0].required:
        values = [shape.literal(wire) for shape in shapes]
        if all(v is not None for v in values):
            flat = [value for group in values if group is not None for value in group]
            if len(flat) == len(set(map(repr, flat))):
                return wire
    return None


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checker:
    """Checks values against nodes; ``uri`` checks the strings that are media URIs."""

    def __init__(self, uri: UriCheck) -> None:
        self._uri = uri

    def check(self, node: Node, value: Any, path: str, limits: Limits = NO_LIMITS) -> None:
        if isinstance(node, Shape):
            self._shape(node, value, path)
        elif isinstance(node, AnyOf):
            self._any_of(node, value, path, limits)
        elif isinstance(node, Items):
            self._items(node, value, path, limits)
        elif isinstance(node, Choice):
            if not fits_kind(node, value):
                raise Refusal(path, f"{path} must be {describe(node)}; got {shown(value)}")
        else:
            self._scalar(node, value, path, limits)

    def _scalar(self, node: Scalar, value: Any, path: str, limits: Limits) -> None:
        if not _scalar_fits(node.kind, value):
            raise Refusal(path, f"{path} must be {describe(node)}; got {shown(value)}")
        if node.kind in ("int", "float"):
            low, high = limits.minimum, limits.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                raise Refusal(path, f"{path} must be {_bounds(low, high)}; got {shown(value)}")
        elif node.kind == "str":
            self._text(value, path, limits)

    def _text(self, value: str, path: str, limits: Limits) -> None:
        size = _length(value, limits.utf16)
        unit = "UTF-16 code units" if limits.utf16 else "characters"
        if limits.min_length is not None and size < limits.min_length:
            what = "must not be empty" if limits.min_length == 1 else f"must be at least {limits.min_length} {unit}"
            raise Refusal(path, f"{path} {what}")
        if limits.max_length is not None and size > limits.max_length:
            raise Refusal(path, f"{path} must be at most {limits.max_length} {unit}; got {size}")
        if limits.pattern is not None and not limits.pattern.fullmatch(value):
            raise Refusal(
                path, f"{path} does not have the required form ({limits.pattern.pattern}); got {shown(value)}"
            )
        if limits.media is not None:
            self._uri(value, path, limits)

    def _items(self, node: Items, value: Any, path: str, limits: Limits) -> None:
        if not isinstance(value, list):
            raise Refusal(path, f"{path} must be an array; got {shown(value)}")
        if limits.min_items is not None and len(value) < limits.min_items:
            raise Refusal(path, f"{path} must have at least {limits.min_items} item(s); got {len(value)}")
        if limits.max_items is not None and len(value) > limits.max_items:
            raise Refusal(path, f"{path} must have at most {limits.max_items} item(s); got {len(value)}")
        inner = limits.for_items()
        for index, item in enumerate(value):
            self.check(node.item, item, f"{path}[{index}]", inner)

    def _shape(self, shape: Shape, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise Refusal(path, f"{path or 'the body'} must be a JSON object; got {shown(value)}")
        unknown = [key for key in value if key not in shape.fields]
        if unknown:
            names = ", ".join(_at(path, key) for key in unknown)
            allowed = ", ".join(shape.fields)
            raise Refusal(_at(path, unknown[0]), f"{names}: unknown field; allowed here: {allowed}")
        for wire, spec in shape.fields.items():
            if wire not in value:
                if spec.required:
                    raise Refusal(_at(path, wire), f"{_at(path, wire)} is required")
                continue
            self.check(spec.node, value[wire], _at(path, wire), spec.limits)

    def _any_of(self, node: AnyOf, value: Any, path: str, limits: Limits) -> None:
        fitting = [option for option in node.options if fits_kind(option, value)]
        if not fitting:
            raise Refusal(path, f"{path} must be {describe(node)}; got {shown(value)}")
        shapes = [option for option in fitting if isinstance(option, Shape)]
        if len(shapes) > 1 and isinstance(value, dict):
            self.check(self.select(shapes, value, path), value, path)
            return
        problems: list[Refusal] = []
        for option in fitting:
            try:
                self.check(option, value, path, limits)
                return
            except Refusal as problem:
                problems.append(problem)
        raise problems[0]

    def select(self, shapes: list[Shape], value: Mapping[str, Any], path: str) -> Shape:
        """The member of a union of objects this value means (by its discriminator), else the
        member that fits it, else the closest one (so its complaint is the useful one)."""
        key = discriminator(shapes)
        if key is not None:
            given = value.get(key)
            for shape in shapes:
                if any(_literal_fits(literal, given) for literal in shape.literal(key) or ()):
                    return shape
            where = _at(path, key)
            if key not in value:
                raise Refusal(where, f"{where} is required")
            choices = ", ".join(repr(v) for shape in shapes for v in shape.literal(key) or ())
            raise Refusal(where, f"{where} must be one of {choices}; got {shown(given)}")
        best, best_score = shapes[0], float("-inf")
        for shape in shapes:
            try:
                self._shape(shape, dict(value), path)
                return shape
            except Refusal:
                score = sum(1 for k in value if k in shape.fields) - sum(1 for k in value if k not in shape.fields)
                if score > best_score:
                    best, best_score = shape, score
        return best
