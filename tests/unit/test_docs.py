"""The documentation cannot drift from the code: its Python blocks compile and their imports resolve,
its links lead somewhere, and it names no machine-local path. (The README's quick start also runs
against the emulator: tests/integration/test_dags.py.)"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from tests.paths import ROOT

PAGES = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "emulator" / "README.md", *ROOT.glob("docs/*.md")])
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def python_blocks() -> list[tuple[str, str]]:
    return [
        (f"{page.relative_to(ROOT)}#{n}", block)
        for page in PAGES
        for n, block in enumerate(PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")))
    ]


@pytest.mark.parametrize(("where", "block"), python_blocks(), ids=[w for w, _ in python_blocks()])
def test_each_python_block_compiles_and_its_imports_resolve(where: str, block: str) -> None:
    tree = ast.parse(block, filename=where)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    exec(compile(ast.Module(body=imports, type_ignores=[]), where, "exec"), {})


def test_there_are_python_blocks_to_check() -> None:
    assert len(python_blocks()) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [
        target
        for target in LINK.findall(text)
        if not target.startswith(("http://", "https://", "#", "mailto:"))
        and not (page.parent / target.split("#", 1)[0]).exists()
    ]
    assert broken == []


def test_no_tracked_file_names_a_machine_local_path() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    local = re.compile(r"/work/|/home/\w+/|/root/|\.\./shared/")
    found = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in (".md", ".py", ".toml", ".json", ".cfg", ".txt", ".yaml", ".yml") or not path.is_file():
            continue
        if name == "tests/unit/test_docs.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if local.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert found == []
