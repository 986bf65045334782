"""Fixtures of the ``processes`` tests: the emulator in its own process and real Airflow stacks.

The stack itself lives in ``stack.py``; tests import helpers from there, never from here.
Tests marked ``scale`` (hundreds of deferred waits in one triggerer), ``ha`` (two triggerers
on PostgreSQL) or ``celery`` (a batch on the CeleryExecutor) run only when the ``-m`` expression
names that marker (``make test-scale``, ``make test-ha``, ``make test-celery``): they take minutes.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runway_emulator import EmulatorHandle, run_emulator

from tests.processes.launch import running_stack
from tests.processes.stack import PROCESS_API_KEY, AirflowStack

# Minutes each, on every Airflow version: kept out of `make test` (8 minutes for both versions).
OPT_IN_MARKERS = {"scale": "make test-scale", "ha": "make test-ha", "celery": "make test-celery"}
SHARED_STACK_DAGS = (
    "runway_proc_mapped",
    "runway_proc_blocking",
    "runway_proc_resubmit",
    "runway_proc_user_kill",
    "runway_proc_mark_after_success",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scale: hundreds of deferred waits in one real triggerer (minutes)")
    config.addinivalue_line("markers", "ha: two real triggerers on PostgreSQL, one killed mid-wait")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = str(config.getoption("markexpr") or "")
    for item in items:
        for marker, target in OPT_IN_MARKERS.items():
            if item.get_closest_marker(marker) and marker not in selected:
                item.add_marker(pytest.mark.skip(reason=f"slow: runs with -m {marker} ({target})"))


@pytest.fixture(scope="session")
def processes_emulator() -> Iterator[EmulatorHandle]:
    """The emulator in its own process, pinned to PROCESS_API_KEY; each test configures its timings."""
    with run_emulator(
        subprocess=True,
        api_key=PROCESS_API_KEY,
        generation_seconds=25.0,
        pending_seconds=0.5,
        not_visible_seconds=0.5,
        max_concurrency=32,
        request_log_size=5000,
    ) as handle:
        yield handle


@pytest.fixture(scope="session")
def airflow_stack(processes_emulator: EmulatorHandle) -> Iterator[AirflowStack]:
    """One SQLite-backed stack shared by the tests of the ``processes`` marker (see stack.py)."""
    with running_stack(processes_emulator, dag_ids=SHARED_STACK_DAGS) as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of our own (``pgserver`` ships the binaries), on a Unix socket only."""
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="runway-processes-pg-"))
    server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE airflow;")
        # The socket directory goes in the query string: libpq and SQLAlchemy both read it there.
        yield f"postgresql+psycopg2://postgres:@/airflow?host={folder}"
    finally:
        try:
            server.cleanup()
        except subprocess.SubprocessError as err:  # the test result stands; say what was left
            print(f"\nPostgreSQL at {folder} did not stop cleanly: {err}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failed processes test, attach the tails of every Airflow process log."""
    report = yield
    for value in getattr(item, "funcargs", {}).values():
        if report.failed and isinstance(value, AirflowStack):
            value.failed = True
            report.sections.append(("Airflow process logs (tails)", value.tails()))
    return report
