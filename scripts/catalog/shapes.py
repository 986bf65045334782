"""SDK annotations as plain shapes: scalars, literal choices, unions, lists and TypedDicts.

``Required[Annotated[Literal["a", "b"], PropertyInfo(alias="wireName")]]`` becomes a field
``wireName`` (required) of shape ``Choice(("a", "b"))``. Only the forms Stainless writes are
understood; anything else raises, so a new form in a future SDK is noticed, not guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from scripts.catalog.source import SourceClass, SourceModule, lookup, read_module

SCALARS = {"str": "str", "int": "int", "float": "float", "bool": "bool", "object": "object"}
LISTS = {"Iterable", "SequenceNotStr", "List", "Sequence", "list"}
WRAPPERS = {"Required", "NotRequired", "Annotated"}


@dataclass(frozen=True)
class Scalar:
    type: str  # str, int, float, bool, or object (the SDK leaves the value open)


@dataclass(frozen=True)
class Choice:
    values: tuple[str | int | bool, ...]


@dataclass(frozen=True)
class OneOf:
    options: tuple[Shape, ...]


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class SdkField:
    wire: str  # the name on the wire (the PropertyInfo alias, else the Python name)
    name: str
    required: bool
    shape: Shape
    doc: str


@dataclass(frozen=True)
class Struct:
    name: str
    fields: tuple[SdkField, ...]
    doc: str

    def field(self, wire: str) -> SdkField | None:
        return next((f for f in self.fields if f.wire == wire), None)


Shape = Scalar | Choice | OneOf | ListOf | Struct


class UnknownAnnotation(ValueError):
    """An annotation form this reader does not know (a new SDK may need a new rule here)."""


def _subscript_name(node: ast.Subscript) -> str:
    base = node.value
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):
        return base.attr
    raise UnknownAnnotation(ast.unparse(node))


def _elements(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _alias_of(meta: list[ast.expr]) -> str | None:
    for item in meta:
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name) and item.func.id == "PropertyInfo":
            for keyword in item.keywords:
                if keyword.arg == "alias" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


def unwrap(node: ast.expr) -> tuple[ast.expr, bool | None, str | None]:
    """Strip Required/NotRequired/Annotated: (the bare type, required if stated, wire alias)."""
    required: bool | None = None
    alias: str | None = None
    while isinstance(node, ast.Subscript) and _subscript_name(node) in WRAPPERS:
        name = _subscript_name(node)
        args = _elements(node.slice)
        if name == "Annotated":
            alias = alias or _alias_of(args[1:])
        elif required is None:
            required = name == "Required"
        node = args[0]
    return node, required, alias


def _literal(node: ast.expr) -> str | int | bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bool)):
        return node.value
    raise UnknownAnnotation(ast.unparse(node))


def _union(options: list[Shape]) -> Shape:
    flat: list[Shape] = []
    for option in options:
        flat.extend(option.options if isinstance(option, OneOf) else (option,))
    return flat[0] if len(flat) == 1 else OneOf(tuple(flat))


def read_shape(node: ast.expr, module: SourceModule) -> Shape:
    node, _, _ = unwrap(node)
    if isinstance(node, ast.Name):
        if node.id in SCALARS:
            return Scalar(SCALARS[node.id])
        found = lookup(module, node.id)
        if isinstance(found, SourceClass):
            return read_struct(found)
        if found is not None:
            return read_shape(found, module)
        raise UnknownAnnotation(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([read_shape(node.left, module), read_shape(node.right, module)])
    if isinstance(node, ast.Subscript):
        name = _subscript_name(node)
        args = _elements(node.slice)
        if name == "Literal":
            return Choice(tuple(_literal(arg) for arg in args))
        if name in ("Union", "Optional"):
            return _union([read_shape(arg, module) for arg in args if not _is_none(arg)])
        if name in LISTS:
            return ListOf(read_shape(args[0], module))
    raise UnknownAnnotation(ast.unparse(node))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def read_struct(cls: SourceClass) -> Struct:
    module = read_module(cls.module)
    fields = []
    for source in cls.fields:
        _, required, alias = unwrap(source.annotation)
        fields.append(
            SdkField(
                wire=alias or source.name,
                name=source.name,
                required=required if required is not None else cls.total,
                shape=read_shape(source.annotation, module),
                doc=source.doc,
            )
        )
    return Struct(cls.name, tuple(fields), cls.doc)


def request_variants(module: SourceModule, params_type: str) -> list[Struct]:
    """The request bodies a params type allows: each member of its union, or the one TypedDict."""
    shape = read_shape(ast.Name(id=params_type), module)
    options = shape.options if isinstance(shape, OneOf) else (shape,)
    structs = [option for option in options if isinstance(option, Struct)]
    if len(structs) != len(options):
        raise UnknownAnnotation(f"{params_type}: a request body that is not a TypedDict")
    return structs
