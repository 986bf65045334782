"""The runwayml SDK's request types as written in its source, read with ``ast``.

Docstrings of TypedDict fields exist only in the source (the string after each annotation is
not kept at runtime), and that is where the API states its ranges and limits. Reading the
source also means the SDK is never imported: nothing of it runs while the catalog is built.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class SourceField:
    """One annotated name in a TypedDict body, with the docstring that follows it ("" if none)."""

    name: str
    annotation: ast.expr
    doc: str


@dataclass(frozen=True)
class SourceClass:
    name: str
    total: bool
    fields: tuple[SourceField, ...]
    doc: str
    module: Path


@dataclass(frozen=True)
class SourceModule:
    """A module's TypedDicts, type aliases (``X: TypeAlias = ...``) and where imported names come from."""

    path: Path
    classes: dict[str, SourceClass] = field(default_factory=dict)
    aliases: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, tuple[Path, str]] = field(default_factory=dict)  # local name -> (module file, name)


def _doc_after(body: list[ast.stmt], index: int) -> str:
    following = body[index + 1] if index + 1 < len(body) else None
    if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
        value = following.value.value
        if isinstance(value, str):
            return " ".join(value.split())
    return ""


def _class(node: ast.ClassDef, path: Path) -> SourceClass:
    total = True
    for keyword in node.keywords:
        if keyword.arg == "total" and isinstance(keyword.value, ast.Constant):
            total = bool(keyword.value.value)
    fields = tuple(
        SourceField(stmt.target.id, stmt.annotation, _doc_after(node.body, i))
        for i, stmt in enumerate(node.body)
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
    )
    return SourceClass(node.name, total, fields, ast.get_docstring(node) or "", path)


def module_file(package_dir: Path, dotted: str) -> Path:
    """``a.b`` under ``package_dir`` as a file: ``a/b.py``, or ``a/b/__init__.py`` for a package."""
    base = package_dir.joinpath(*dotted.split(".")) if dotted else package_dir
    return base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"


def relative_import(path: Path, node: ast.ImportFrom) -> Path:
    """The directory a relative ``from ..x import y`` starts from, plus ``x``."""
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    return base.joinpath(*node.module.split(".")) if node.module else base


@cache
def read_module(path: Path) -> SourceModule:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = SourceModule(path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            module.classes[node.name] = _class(node, path)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            module.aliases[node.target.id] = node.value
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            origin = relative_import(path, node)
            for alias in node.names:
                local = alias.asname or alias.name
                as_module = origin / f"{alias.name}.py"
                # ``from ..types import x_params`` names a module; ``from .x import Y`` a class in it
                if as_module.exists():
                    module.imports[local] = (as_module, "")
                else:
                    module.imports[local] = (origin.with_suffix(".py"), alias.name)
    return module


def lookup(module: SourceModule, name: str) -> SourceClass | ast.expr | None:
    """A class or alias by the name a module uses for it, following relative imports."""
    if name in module.classes:
        return module.classes[name]
    if name in module.aliases:
        return module.aliases[name]
    if name in module.imports:
        path, original = module.imports[name]
        if original and path.exists():
            return lookup(read_module(path), original)
    return None
