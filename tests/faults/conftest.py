"""Run a DAG written by the test with ``dag.test()`` in this process, and collect what it printed.

dag.test() serialises the DAG from the dags-folder bundle, so the DAG file is written into a
folder that the bundle points at for the module. In-process runs take ~2 s against ~20 s for
an ``airflow dags test`` subprocess, through the same code paths (``dag.test()``).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


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


@pytest.fixture
def run_dag_source(dags_folder: Path, capfd: pytest.CaptureFixture[str]) -> Any:
    """``run_dag_source(dag_id, source, **test_kwargs)``: write the DAG, run ``dag.test()``, return a DagTestRun."""

    def run(dag_id: str, source: str, **test_kwargs: Any) -> DagTestRun:
        dag_file = dags_folder / f"{dag_id}.py"
        dag_file.write_text(source)
        spec = importlib.util.spec_from_file_location(dag_id, dag_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        capfd.readouterr()
        started = time.monotonic()
        try:
            dag_run = module.dag.test(**test_kwargs)
        finally:
            dag_file.unlink()  # keep the bundle small for the next test's parse
        seconds = time.monotonic() - started
        out, err = capfd.readouterr()
        return DagTestRun(dag_run, out + err, seconds)

    return run
