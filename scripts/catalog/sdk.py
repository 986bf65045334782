"""Which endpoints of the installed runwayml SDK create a task, and the request type of each.

A resource method that posts to ``/v1/<name>`` and casts the answer with
``create_waitable_resource`` starts a task the API then runs (the SDK can wait on it); other
posts (uploads, avatars, routers, realtime sessions) answer at once. That is read from
``resources/**.py``, so an endpoint the SDK adds is found without naming it here.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from scripts.catalog.source import SourceClass, lookup, read_module

API_PREFIX = "/v1/"
WAITABLE = "create_waitable_resource"


@dataclass(frozen=True)
class Route:
    """One POST endpoint of the SDK: ``name`` is its path without ``/v1/`` (``generate/video``)."""

    name: str
    path: str
    params_file: Path
    params_type: str
    creates_task: bool
    response_type: str


def sdk_root() -> Path:
    """The installed ``runwayml`` package directory (found, never imported)."""
    spec = importlib.util.find_spec("runwayml")
    if spec is None or spec.origin is None:
        raise RuntimeError("the runwayml SDK is not installed in this environment (make sync)")
    return Path(spec.origin).parent


def sdk_version(root: Path) -> str:
    tree = ast.parse((root / "_version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        named = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        )
        if named and isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            return str(node.value.value)
    raise RuntimeError(f"no __version__ in {root / '_version.py'}")


def _path_of(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None  # a templated path (/v1/workflows/{id}) names one object, not an endpoint


def _params_ref(call: ast.Call) -> ast.Attribute | None:
    """``module.ParamsType`` in ``body=maybe_transform({...}, module.ParamsType)``."""
    for keyword in call.keywords:
        if keyword.arg == "body" and isinstance(keyword.value, ast.Call) and len(keyword.value.args) == 2:
            ref = keyword.value.args[1]
            if isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name):
                return ref
    return None


def _response(call: ast.Call) -> tuple[bool, str]:
    """(creates a task, response type name) from ``cast_to=``."""
    for keyword in call.keywords:
        if keyword.arg != "cast_to":
            continue
        waitable = [
            node
            for node in ast.walk(keyword.value)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == WAITABLE
        ]
        target = waitable[0].args[0] if waitable and waitable[0].args else keyword.value
        return bool(waitable), ast.unparse(target)
    return False, ""


def _routes_in(resource: Path) -> list[Route]:
    module = read_module(resource)
    tree = ast.parse(resource.read_text(encoding="utf-8"))
    found: list[Route] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_post"):
            continue
        path, ref = _path_of(node), _params_ref(node)
        if path is None or ref is None or not path.startswith(API_PREFIX):
            continue
        assert isinstance(ref.value, ast.Name)
        params_file, _ = module.imports[ref.value.id]
        task, response = _response(node)
        found.append(Route(path.removeprefix(API_PREFIX), path, params_file, ref.attr, task, response))
    return found


def sdk_routes(root: Path) -> dict[str, Route]:
    """Every POST endpoint with a request type, by name (sync and async methods agree: one each)."""
    routes: dict[str, Route] = {}
    for resource in sorted((root / "resources").rglob("*.py")):
        for route in _routes_in(resource):
            routes.setdefault(route.name, route)
    return dict(sorted(routes.items()))


def task_routes(root: Path) -> dict[str, Route]:
    return {name: route for name, route in sdk_routes(root).items() if route.creates_task}


def names_a_model(route: Route) -> bool:
    """Whether any body the route takes has a ``model`` field (read without typing the rest)."""
    module = read_module(route.params_file)
    found = lookup(module, route.params_type)
    members = [found] if isinstance(found, SourceClass) else []
    if isinstance(found, ast.expr):
        names = [node.id for node in ast.walk(found) if isinstance(node, ast.Name)]
        members = [m for m in (lookup(module, name) for name in names) if isinstance(m, SourceClass)]
    return any(field.name == "model" for member in members for field in member.fields)
