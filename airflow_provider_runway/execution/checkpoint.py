"""One JSON record per task instance that survives Airflow tries: where a task keeps what it paid for.

* Airflow >= 3.3: ``context["task_state_store"]`` (made for exactly this). Airflow keeps its rows
  after success unless ``[state_store] clear_on_success`` is set, so callers clear the record
  once the task has succeeded.
* Airflow 3.1/3.2, or ``survive_clear=True``: an Airflow Variable keyed by dag/run/task/map
  index, written through the Task SDK. No clear discards a Variable.

Reading and writing never raise: a store that cannot be reached is logged, loudly when a write
fails (a retry would not know what was paid for), and the task goes on. Both go through the
task's supervisor (the Airflow process that forked it); a task process that outlived it (its
worker killed, the task in a process group of its own) can record nothing and must not pay for
anything more: ``supervisor_gone`` tells, and ``set`` says whether the record was written.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

VARIABLE_PREFIX = "airflow_provider_runway"
TASK_ID_RECORD = "runway_task_id"  # the single create's record: its Variable key carries no record name


def variable_key(dag_id: str, run_id: str, task_id: str, map_index: int | None, record: str = TASK_ID_RECORD) -> str:
    index = -1 if map_index is None else map_index
    named = "" if record == TASK_ID_RECORD else f"{record}:"
    return f"{VARIABLE_PREFIX}:{named}{dag_id}:{run_id}:{task_id}:{index}"


class TaskStateRecord:
    """The record ``name`` of the current task instance, in the task state store or a Variable."""

    def __init__(self, context: Mapping[str, Any], log: Any, name: str, *, survive_clear: bool = False) -> None:
        self._log = log
        self._supervisor = os.getppid()  # Airflow's task runner is forked by its supervisor
        self._name = name
        self._state = None if survive_clear else context.get("task_state_store")
        ti = context["ti"]
        self._key = variable_key(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1), name)

    @property
    def mechanism(self) -> str:
        return "task_state_store" if self._state is not None else "Variable"

    def get(self, what: str) -> Any:
        """The stored value (JSON text from a Variable is decoded), or None; ``what`` names it in a warning."""
        try:
            if self._state is not None:
                return self._state.get(self._name)
            from airflow.sdk import Variable

            value = Variable.get(self._key, default=None)
        except Exception as err:  # no store reachable: behave like a first try, but say so
            self._log.warning("Could not read %s (%s)", what, err)
            return None
        if isinstance(value, str) and value.strip().startswith(("{", "[")):
            try:
                return json.loads(value)
            except ValueError:
                return None
        return value

    def supervisor_gone(self) -> bool:
        """True once the supervisor died: this process was re-parented and nothing it records is kept."""
        return os.getppid() != self._supervisor

    def set(self, value: Any, what: str) -> bool:
        """Write the record; False (and a log line, if logging still works) when it could not be written."""
        try:
            if self._state is not None:
                self._state.set(self._name, value)
            else:
                from airflow.sdk import Variable

                Variable.set(self._key, json.dumps(value), description="Runway tasks of an unfinished Airflow task")
        except Exception as err:  # the task exists and is paid for: keep going, loudly
            with contextlib.suppress(Exception):  # the log travels through the same supervisor
                self._log.error("Could not remember %s: %s", what, err)
            return False
        return True

    def clear(self) -> None:
        try:
            if self._state is not None:
                self._state.delete(self._name)
            else:
                from airflow.sdk import Variable

                Variable.delete(self._key)
        except Exception as err:  # a leftover record only costs a row
            self._log.warning("Could not forget %s in the %s: %s", self._name, self.mechanism, err)


class SupervisorGoneError(RuntimeError):
    """Airflow's supervisor of this task died: nothing this process records is kept, so it pays for nothing."""


class Supervised(Protocol):
    def supervisor_gone(self) -> bool: ...


def ensure_supervised(record: Supervised) -> None:
    """Before a paid call: a task process that outlived its supervisor stops (Airflow retries it elsewhere)."""
    if record.supervisor_gone():
        raise SupervisorGoneError("this task's Airflow supervisor is gone; no Runway task is created from here")


def keep_created(record: Supervised, saved: bool, runway_task_id: str, cancel: Callable[[str], bool]) -> None:
    """Right after a create, once its record was (or was not) written.

    Unwritten while the supervisor lives, the task goes on (logged; it likely finishes in this
    try). With the supervisor gone no retry will ever know this task, so it is cancelled at
    once (still PENDING: Runway refunds it) and this process stops: the retry creates it anew.
    """
    if saved or not record.supervisor_gone():
        return
    cancelled = cancel(runway_task_id)
    raise SupervisorGoneError(
        f"Runway task {runway_task_id} was created after this task's Airflow supervisor died, so no retry "
        f"could know it; {'cancelled at once' if cancelled else 'its cancel was not confirmed'}"
    )
