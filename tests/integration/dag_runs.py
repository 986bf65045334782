"""DAGs written as data for ``run_dag_source``, and what their ``dag.test()`` run left behind.

A test lists its tasks (``Task``: operator class, task id, keyword arguments as plain values) and
``dag_source`` writes the DAG file. After the run, ``task_logs`` splits the run's one output
stream into each task's own log and ``xcom_values`` reads the XComs Airflow stored, so a test
asserts on what Airflow really recorded, task by task.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

OPERATORS = {
    "airflow_provider_runway.operators.runway": ("RunwayCreateTaskOperator", "RunwayImageToVideoOperator"),
    "airflow_provider_runway.operators.generate": (
        "RunwayTextToImageOperator",
        "RunwayTextToVideoOperator",
        "RunwayVideoToVideoOperator",
        "RunwayVideoUpscaleOperator",
    ),
    "airflow_provider_runway.sensors.runway": ("RunwayTaskSensor",),
}
# Airflow logs this line (with the try's id) each time a task instance starts or resumes.
_TASK_STARTED = re.compile(r"\[info\s*\] Task started .*?\bti_id=(?P<ti_id>[0-9a-f-]{36})")


@dataclass(frozen=True)
class Task:
    """One operator of a DAG; ``kwargs`` are plain values, written into the DAG file as their ``repr``."""

    operator: str
    task_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def source(self) -> str:
        return f"    {self.task_id} = {self.operator}(task_id={self.task_id!r}, **{self.kwargs!r})"


def dag_source(dag_id: str, *tasks: Task, dependencies: str = "") -> str:
    """A DAG file running ``tasks`` (in the order ``dependencies`` gives, e.g. ``"a >> b"``)."""
    imports = "\n".join(f"from {module} import {', '.join(names)}" for module, names in OPERATORS.items())
    body = "\n".join(task.source() for task in tasks)
    return (
        f"from datetime import datetime\nfrom airflow.sdk import DAG\n{imports}\n\n"
        f"with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:\n"
        f"{body}\n    {dependencies}\n"
    )


def _try_ids(dag_run: Any) -> dict[str, str]:
    """The id of every try of every task instance of the run -> its task id."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    ids = {str(ti.id): ti.task_id for ti in dag_run.get_task_instances()}
    with create_session() as session:
        rows = session.execute(
            select(TaskInstanceHistory.task_instance_id, TaskInstanceHistory.task_id).where(
                TaskInstanceHistory.dag_id == dag_run.dag_id, TaskInstanceHistory.run_id == dag_run.run_id
            )
        )
        ids.update({str(try_id): task_id for try_id, task_id in rows})
    return ids


def task_logs(ran: Any) -> dict[str, str]:
    """task id -> what was logged while it ran, every try and every resume (dag.test() runs one at a time)."""
    owners = _try_ids(ran.dag_run)
    logs: dict[str, list[str]] = {task_id: [] for task_id in owners.values()}
    current: list[str] | None = None
    for line in ran.output.splitlines():
        started = _TASK_STARTED.search(line)
        if started:
            current = logs[owners[started["ti_id"]]]
        if current is not None:
            current.append(line)
    return {task_id: "\n".join(lines) for task_id, lines in logs.items()}


def unsuccessful(ran: Any, tail: int = 3000) -> str:
    """The tasks that did not succeed, each with the end of its log: the message of a failed assertion."""
    logs = task_logs(ran)
    return "\n".join(
        f"--- {task_id} {state} (try {tries}):\n{logs.get(task_id, '')[-tail:]}"
        for task_id, (state, tries) in ran.tis().items()
        if state != "success"
    )


def _stored_xcoms(ran: Any, key: str | None) -> list[tuple[str, str, Any]]:
    """(task id, key, value) of the run's XComs, values as Airflow reads them back."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(XComModel).where(XComModel.dag_id == ran.dag_run.dag_id, XComModel.run_id == ran.dag_run.run_id)
    with create_session() as session:
        rows = session.scalars(query if key is None else query.where(XComModel.key == key)).all()
        return [(row.task_id, row.key, XComModel.deserialize_value(row)) for row in rows]


def xcom_values(ran: Any, key: str = "return_value") -> dict[str, Any]:
    """task id -> the XCom ``key`` its last try pushed in this run (unmapped tasks)."""
    return {task_id: value for task_id, _, value in _stored_xcoms(ran, key)}


def all_xcoms(ran: Any) -> dict[tuple[str, str], Any]:
    """(task id, key) -> value, for every XCom of the run."""
    return {(task_id, key): value for task_id, key, value in _stored_xcoms(ran, None)}


# -- acting on the emulator while a DAG runs ------------------------------------------------------


def polls_of(emulator: Any, runway_task_id: str) -> int:
    """How many GETs of this task the emulator has received (answered, faulted or not)."""
    return sum(1 for r in emulator.requests() if r["method"] == "GET" and r["path"].endswith(f"/{runway_task_id}"))


def created_ids(emulator: Any) -> list[str]:
    return [item["task_id"] for item in emulator.stats()["creates"]["items"]]


@contextmanager
def meanwhile(condition: Callable[[], bool], action: Callable[[], None], what: str) -> Iterator[None]:
    """Do ``action`` from another thread as soon as ``condition()`` holds, while the body (a DAG run) goes on.

    The run cannot be paused from the test, so what happens "in the middle" of it is tied to an
    event the emulator saw (a create, the n-th poll), never to a delay. Fails if it never happened.
    """
    done, stop, failures = threading.Event(), threading.Event(), []

    def watch() -> None:
        try:
            while not condition():
                if stop.wait(0.02):
                    return
            action()
            done.set()
        except Exception as err:  # reported by the test, not lost in the thread
            failures.append(err)

    watcher = threading.Thread(target=watch, name=f"meanwhile: {what}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(30)
    if failures:
        raise failures[0]
    assert done.is_set(), f"the DAG run ended before {what}"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Block until ``condition()`` holds; the timeout only bounds a broken run, it is no expectation."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout:g} s"
        time.sleep(0.02)
