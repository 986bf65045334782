"""Reading the SDK's request TypedDicts into the oracle's nodes (``nodes.py``).

Types come from ``typing.get_type_hints(..., include_extras=True)``: ``Required[...]`` marks a
required key (the classes are ``total=False``, and with ``from __future__ import annotations``
their ``__required_keys__`` cannot be trusted, so requiredness is read from the hints
themselves), ``Annotated[..., PropertyInfo(alias=...)]`` gives the wire name. Limits come from
the field docstrings (``docstrings.py``).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import types
import typing
from typing import Any

import typing_extensions

from runway_emulator.oracle.check import fits_kind
from runway_emulator.oracle.docstrings import field_doc, limits_for
from runway_emulator.oracle.nodes import NO_LIMITS, AnyOf, Choice, Field, Items, Limits, Node, Scalar, Shape

_REQUIRED = {typing_extensions.Required, getattr(typing, "Required", typing_extensions.Required)}
_NOT_REQUIRED = {typing_extensions.NotRequired, getattr(typing, "NotRequired", typing_extensions.NotRequired)}
_ANNOTATED = {typing_extensions.Annotated, typing.Annotated}
_LITERAL = {typing_extensions.Literal, typing.Literal}
_SEQUENCES = {collections.abc.Iterable, collections.abc.Sequence, list, tuple, set, frozenset}
_SCALARS: dict[Any, str] = {str: "str", int: "int", float: "float", bool: "bool", object: "any", Any: "any"}


class SchemaError(TypeError):
    """An SDK type the oracle does not know how to read (a newer SDK using a new construct)."""


def _unwrap(hint: Any) -> tuple[Any, bool | None, str | None]:
    """(bare type, required marker if any, wire alias if any) of one field annotation."""
    required: bool | None = None
    alias: str | None = None
    while True:
        origin = typing_extensions.get_origin(hint)
        if origin in _REQUIRED or origin in _NOT_REQUIRED:
            required = origin in _REQUIRED
            hint = typing_extensions.get_args(hint)[0]
        elif origin in _ANNOTATED:
            for meta in hint.__metadata__:
                alias = getattr(meta, "alias", None) or alias
            hint = typing_extensions.get_args(hint)[0]
        else:
            return hint, required, alias


def node_of(hint: Any) -> Node:
    """The node for a bare type (no Required/Annotated around it)."""
    hint, _required, _alias = _unwrap(hint)
    if hint in _SCALARS:
        return Scalar(_SCALARS[hint])
    if typing_extensions.is_typeddict(hint):
        return shape_of(hint)
    origin = typing_extensions.get_origin(hint)
    args = typing_extensions.get_args(hint)
    if origin in _LITERAL:
        return Choice(tuple(args))
    if origin in (typing.Union, types.UnionType):  # Union[...] and X | Y
        options = tuple(node_of(arg) for arg in args if arg is not type(None))
        return options[0] if len(options) == 1 else AnyOf(options)
    if origin in _SEQUENCES and len(args) == 1:
        return Items(node_of(args[0]))
    if origin in (dict, collections.abc.Mapping):
        return Scalar("any")
    raise SchemaError(f"the oracle cannot read the SDK type {hint!r}")


def _kinds(node: Node) -> set[str]:
    """The JSON kinds a node accepts at its top level: scalar kinds, "array", "object"."""
    if isinstance(node, Scalar):
        return {"int", "float"} if node.kind == "float" else {node.kind}
    if isinstance(node, Choice):
        return {"choice"}
    if isinstance(node, Items):
        return {"array"} | {f"item-{kind}" for kind in _kinds(node.item)}
    if isinstance(node, AnyOf):
        return set().union(*(_kinds(option) for option in node.options))
    return {"object"}


def field_limits(doc: str, wire: str, node: Node) -> Limits:
    """The docstring's limits that fit this field's type."""
    if not doc:
        return NO_LIMITS
    kinds = _kinds(node)
    limits = limits_for(
        doc,
        wire,
        numeric=bool(kinds & {"int", "float"}),
        text="str" in kinds or "item-str" in kinds,
        array="array" in kinds,
    )
    if limits.default is not None and not fits_kind(node, limits.default):
        limits = dataclasses.replace(limits, default=None)  # a default the text names for something else
    return limits


@functools.cache
def shape_of(cls: type) -> Shape:
    """The Shape of one TypedDict class, cached (the SDK's classes never change at runtime)."""
    hints = typing_extensions.get_type_hints(cls, include_extras=True)
    total = getattr(cls, "__total__", True)
    fields: dict[str, Field] = {}
    for python, hint in hints.items():
        bare, required, alias = _unwrap(hint)
        node = node_of(bare)
        wire = alias or python
        doc = field_doc(cls, python)
        fields[wire] = Field(
            wire=wire,
            python=python,
            node=node,
            required=total if required is None else required,
            limits=field_limits(doc, wire, node),
            doc=doc,
        )
    return Shape(cls.__name__, fields)
