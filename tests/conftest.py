"""Test-wide Airflow set-up: a throw-away AIRFLOW_HOME, set before anything imports airflow.

Also the in-process DAG runner: ``run_dag_source`` writes a DAG file into a folder the
dags-folder bundle points at and runs ``dag.test()`` in this process (~2 s against ~20 s for
an ``airflow dags test`` subprocess, through the same code paths).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT

# The emulator's fixtures are opt-in for every project; this suite opts in.
pytest_plugins = ["runway_emulator.pytest_plugin"]

AIRFLOW_HOME = tempfile.mkdtemp(prefix="runway-tests-airflow-")
os.environ["AIRFLOW_HOME"] = AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated sqlite metadata DB in the temporary AIRFLOW_HOME (needed by dag.test()).

    One ``airflow db migrate`` per pytest run (5-10 s on two cores): the first worker migrates,
    the others copy its file (the xdist workers share the parent of their base temp).
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    template, mine = shared / "migrated-airflow.db", Path(AIRFLOW_HOME) / "airflow.db"
    with open(shared / "migrated-airflow.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if template.exists():
            shutil.copyfile(template, mine)
        else:
            subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                check=True,
                capture_output=True,
                env=dict(os.environ),
            )
            shutil.copyfile(mine, template)
    return AIRFLOW_HOME


@dataclass
class DagTestRun:
    dag_run: Any
    output: str
    seconds: float

    @property
    def state(self) -> str:
        return str(self.dag_run.state)

    def tis(self) -> dict[str, tuple[str, int]]:
        """task_id -> (state, try_number)."""
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in self.dag_run.get_task_instances()}


@pytest.fixture(scope="module")
def dags_folder(airflow_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the dags-folder bundle at a folder of this module's own."""
    from airflow import settings

    folder = tmp_path_factory.mktemp("fault_dags")
    previous = settings.DAGS_FOLDER
    settings.DAGS_FOLDER = str(folder)
    try:
        yield folder
    finally:
        settings.DAGS_FOLDER = previous


def _test_dag_file(dag_file: Path, capfd: pytest.CaptureFixture[str], test_kwargs: dict[str, Any]) -> DagTestRun:
    """Import ``dag_file`` (its folder is the dags-folder bundle) and run its ``dag`` in this process."""
    spec = importlib.util.spec_from_file_location(dag_file.stem, dag_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    capfd.readouterr()
    started = time.monotonic()
    dag_run = module.dag.test(**test_kwargs)
    seconds = time.monotonic() - started
    out, err = capfd.readouterr()
    return DagTestRun(dag_run, out + err, seconds)


@pytest.fixture
def run_dag_source(dags_folder: Path, capfd: pytest.CaptureFixture[str]) -> Any:
    """``run_dag_source(dag_id, source, **test_kwargs)``: write the DAG, run ``dag.test()``, return a DagTestRun."""

    def run(dag_id: str, source: str, **test_kwargs: Any) -> DagTestRun:
        dag_file = dags_folder / f"{dag_id}.py"
        dag_file.write_text(source)
        try:
            return _test_dag_file(dag_file, capfd, test_kwargs)
        finally:
            dag_file.unlink()  # keep the bundle small for the next test's parse

    return run


@pytest.fixture
def run_dag_in_place(airflow_db: str, capfd: pytest.CaptureFixture[str]) -> Any:
    """``run_dag_in_place(path, **test_kwargs)``: ``dag.test()`` of a DAG file where it lives (e.g. ``dags/``),
    so what it finds beside itself (bundled pictures) is found as in a user's deployment."""
    from airflow import settings

    def run(dag_file: Path, **test_kwargs: Any) -> DagTestRun:
        previous = settings.DAGS_FOLDER
        settings.DAGS_FOLDER = str(dag_file.parent)
        try:
            return _test_dag_file(dag_file, capfd, test_kwargs)
        finally:
            settings.DAGS_FOLDER = previous

    return run
