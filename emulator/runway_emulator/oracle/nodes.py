"""The request schema as the oracle holds it: plain frozen data read from the SDK's TypedDicts.

One node per type construct the SDK's request types use (``str``/``int``/``float``/``bool``,
``object``, ``Literal``, ``Iterable``/``Sequence``, ``Union`` and nested ``TypedDict``), with the
limits a field's docstring states kept beside it (``Limits``): the TypedDicts carry types only,
the docstrings carry the ranges, lengths and sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# A JSON scalar kind: "str", "int", "float", "bool", or "any" (the SDK's ``object``).
SCALAR_KINDS = ("str", "int", "float", "bool", "any")


@dataclass(frozen=True)
class Limits:
    """What a field's docstring says beyond its type; every part optional."""

    minimum: float | None = None  # numbers: inclusive range
    maximum: float | None = None
    min_length: int | None = None  # strings
    max_length: int | None = None
    utf16: bool = False  # lengths counted in UTF-16 code units (else characters)
    pattern: re.Pattern[str] | None = None
    min_items: int | None = None  # arrays
    max_items: int | None = None
    media: str | None = None  # "image", "video" or "audio": the string is a media URI
    data_uri_max: int | None = None  # characters of a data URI ("up to 5MB")
    default: Any = None  # what the API uses when the field is omitted, when documented

    def for_items(self) -> Limits:
        """The limits that hold for each item of an array (its count limits stay with the array)."""
        return Limits(
            min_length=self.min_length,
            max_length=self.max_length,
            utf16=self.utf16,
            pattern=self.pattern,
            media=self.media,
            data_uri_max=self.data_uri_max,
        )


NO_LIMITS = Limits()


@dataclass(frozen=True)
class Scalar:
    kind: str


@dataclass(frozen=True)
class Choice:
    """A ``Literal[...]``: the value must equal one of these (and be of the same JSON type)."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Items:
    """An ``Iterable[...]``/``Sequence[...]``: a JSON array."""

    item: Node


@dataclass(frozen=True)
class AnyOf:
    """A ``Union[...]`` of other nodes."""

    options: tuple[Node, ...]


@dataclass(frozen=True)
class Field:
    """One key of a TypedDict: its wire name (the alias), Python name, type, limits and docstring."""

    wire: str
    python: str
    node: Node
    required: bool
    limits: Limits = NO_LIMITS
    doc: str = ""


@dataclass(frozen=True, eq=False)  # one per TypedDict class: identity is equality
class Shape:
    """A ``TypedDict``: a JSON object with known keys, by wire name, in the SDK's order."""

    name: str
    fields: dict[str, Field] = field(hash=False, compare=False)

    @property
    def required(self) -> list[str]:
        return [wire for wire, spec in self.fields.items() if spec.required]

    def literal(self, wire: str) -> tuple[Any, ...] | None:
        """The values of a required ``Literal`` key (what tells union members apart), else None."""
        spec = self.fields.get(wire)
        if spec is None or not spec.required or not isinstance(spec.node, Choice):
            return None
        return spec.node.values


Node = Scalar | Choice | Items | AnyOf | Shape


def shapes_of(node: Node) -> list[Shape]:
    """The TypedDicts a node may be: itself, or the members of a union of them."""
    if isinstance(node, Shape):
        return [node]
    if isinstance(node, AnyOf):
        return [shape for option in node.options for shape in shapes_of(option)]
    return []
