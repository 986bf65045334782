"""Test-wide Airflow set-up: a throw-away AIRFLOW_HOME, set before anything imports airflow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The emulator's fixtures are opt-in for every project; this suite opts in.
pytest_plugins = ["airflow_provider_runway.emulator.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = tempfile.mkdtemp(prefix="runway-tests-airflow-")
os.environ["AIRFLOW_HOME"] = AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
TEST_API_KEY = "test-key-7d0c1f3e9b2a4c6d8e0f1a2b3c4d5e6f"


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated sqlite metadata DB in the temporary AIRFLOW_HOME (needed by dag.test())."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=dict(os.environ)
    )
    return AIRFLOW_HOME


@pytest.fixture
def runway_conn(runway_emulator: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point ``runway_default`` (CometAPI flavor) at the emulator with a known key."""
    base_url = runway_emulator.base_url  # type: ignore[attr-defined]
    conn = f'{{"conn_type": "runway", "host": "{base_url}", "password": "{TEST_API_KEY}"}}'
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_DEFAULT", conn)
    yield base_url
