"""The emulator is an oracle of its own: it never imports the provider it tests, nor Airflow.

Checked twice: at runtime (a fresh interpreter imports the emulator and its pytest plugin, serves
a create of every output medium through both flavors, and has not loaded either package) and in
the sources (no import of them, no path into the provider's files, in any module).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import runway_emulator

FORBIDDEN = ("airflow", "airflow_provider_runway")
PACKAGE = Path(runway_emulator.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))

_RUNTIME_CHECK = """
import json, sys, urllib.request
import runway_emulator.pytest_plugin
from runway_emulator import run_emulator

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
headers = {"Authorization": "Bearer k", "X-Runway-Version": "2024-11-06", "Content-Type": "application/json"}
creates = [
    ("/v1/image_to_video", {"model": "gen4_turbo", "promptImage": "https://e.com/a.png", "ratio": "1280:720"}),
    ("/v1/text_to_image", {"model": "gen4_image", "promptText": "a fox", "ratio": "1920:1080"}),
    ("/v1/sound_effect", {"model": "eleven_text_to_sound_v2", "promptText": "rain"}),
    ("/v1/generate/video", {"configId": "r", "input": {"promptText": "waves"}}),
    ("/v1/recipes/product_ad", {"productImages": [{"uri": "https://e.com/a.png"}], "version": "2026-07"}),
    ("/runwayml/v1/image_to_video", {"model": "gen3a_turbo", "promptImage": "https://e.com/a.png"}),
]
with run_emulator() as emu:
    for path, body in creates:
        request = urllib.request.Request(emu.url(path), json.dumps(body).encode(), headers, method="POST")
        with opener.open(request, timeout=30) as answer:
            assert answer.status == 200, path
    assert emu.stats()["creates"]["count"] == len(creates)
    emu.set_prices({"fallback": {"video": {"per": "call", "credits": 1}}})
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN})
print("LOADED", loaded)
"""


def test_serving_every_kind_of_create_loads_neither_the_provider_nor_airflow() -> None:
    code = _RUNTIME_CHECK.replace("{FORBIDDEN}", repr(set(FORBIDDEN)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def _imports(tree: ast.AST) -> list[str]:
    """Modules a source imports: import statements and ``importlib.import_module("...")`` calls."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def test_no_source_imports_or_reads_the_provider() -> None:
    assert len(SOURCES) > 30 and PACKAGE / "oracle" / "check.py" in SOURCES
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        bad = [name for name in _imports(tree) if name.split(".")[0] in FORBIDDEN]
        # A path or module name in a string would let a source read the provider's files (catalog.json).
        strings = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "airflow_provider_runway" in node.value
        ]
        if bad or strings:
            offenders.append((str(path.relative_to(PACKAGE)), bad, strings))
    assert offenders == []


def test_the_scan_finds_an_offending_import(tmp_path: Path) -> None:
    # The scan itself can fail: a source importing the provider is caught.
    sample = (
        "import json\nfrom airflow_provider_runway.runway import catalog\nimportlib.import_module('airflow.models')\n"
    )
    assert [n for n in _imports(ast.parse(sample)) if n.split(".")[0] in FORBIDDEN] == [
        "airflow_provider_runway.runway",
        "airflow.models",
    ]
