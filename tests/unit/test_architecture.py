"""The package's rooms and what each may import (docs/architecture.md), checked on the source.

A rule a newcomer can apply is only worth it if it holds: each room imports only the rooms listed
here, ``runway/`` imports nothing but the standard library, and no module imports another's
private names.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGE = ROOT / "airflow_provider_runway"
# room -> the rooms of this package it may import (besides itself)
MAY_IMPORT: dict[str, set[str]] = {
    "runway": set(),
    "media": {"runway"},
    "hooks": {"runway", "__init__", "observability"},
    "batch": {"runway", "media", "_compat"},
    "execution": {"runway", "media", "batch", "hooks", "triggers", "links", "_compat", "observability"},
    "triggers": {"runway", "hooks", "execution"},
    "operators": {"runway", "execution", "batch", "hooks", "triggers", "_compat"},
    "sensors": {"runway", "execution", "hooks", "_compat"},
    "ui": {"runway", "media", "execution", "operators"},
    "links": {"ui"},
    "observability": set(),
    "_compat": set(),
    "__init__": {"hooks"},
    "examples": set(),
}
TOP_LEVEL = {"__init__.py", "_compat.py", "links.py", "examples.py", "py.typed"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_the_top_of_the_package_holds_only_init_compat_links_examples_and_rooms() -> None:
    files = {p.name for p in PACKAGE.iterdir() if p.is_file()}
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert files <= TOP_LEVEL
    assert rooms == {room for room in MAY_IMPORT if room not in ("links", "_compat", "__init__", "examples")}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_room_imports_only_the_rooms_it_may(path: Path) -> None:
    room = _room(path)
    for module, _ in _imports(path):
        if not module.startswith("airflow_provider_runway"):
            continue
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else "__init__"
        assert target == room or target in MAY_IMPORT[room], f"{path.name} ({room}/) imports {module}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "runway").rglob("*.py")), ids=lambda p: p.name)
def test_the_runway_core_imports_only_the_standard_library(path: Path) -> None:
    for module, _ in _imports(path):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or top == "airflow_provider_runway", f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    for module, names in _imports(path):
        if module.startswith("airflow_provider_runway"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{path.name} imports {private} from {module}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_about_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, path.name


def test_the_provider_never_imports_the_emulator() -> None:
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for module, _ in _imports(path):
            assert not module.startswith("runway_emulator"), f"{path.name} imports {module}"
        assert "import runway_emulator" not in text or path.name == "__init__.py"
