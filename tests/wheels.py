"""Build the repository's two distributions as users get them."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from tests.paths import ROOT

UV = ROOT / ".tools" / "bin" / "uv"


def uv() -> str:
    return str(UV) if UV.exists() else "uv"


def build(project: Path, out: Path) -> zipfile.ZipFile:
    subprocess.run([uv(), "build", "--wheel", "--out-dir", str(out), str(project)], check=True, capture_output=True)
    [wheel] = out.glob("*.whl")
    return zipfile.ZipFile(wheel)
