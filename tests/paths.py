"""Where the repository's files are, for tests that read DAGs, pictures or the README."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
