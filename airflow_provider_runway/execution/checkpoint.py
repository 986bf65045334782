"""One JSON record per task instance that survives Airflow tries: where a task keeps what it paid for.

* Airflow >= 3.3: ``context["task_state_store"]`` (made for exactly this). Airflow keeps its rows
  after success unless ``[state_store] clear_on_success`` is set, so callers clear the record
  once the task has succeeded.
* Airflow 3.1/3.2, or ``survive_clear=True``: an Airflow Variable keyed by dag/run/task/map
  index, written through the Task SDK. No clear discards a Variable.

Reading and writing never raise: a store that cannot be reached is logged, loudly when a write
fails (a retry would not know what was paid for), and the task goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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

    def set(self, value: Any, what: str) -> None:
        try:
            if self._state is not None:
                self._state.set(self._name, value)
            else:
                from airflow.sdk import Variable

                Variable.set(self._key, json.dumps(value), description="Runway tasks of an unfinished Airflow task")
        except Exception as err:  # the task exists and is paid for: keep going, loudly
            self._log.error("Could not remember %s: %s", what, err)

    def clear(self) -> None:
        try:
            if self._state is not None:
                self._state.delete(self._name)
            else:
                from airflow.sdk import Variable

                Variable.delete(self._key)
        except Exception as err:  # a leftover record only costs a row
            self._log.warning("Could not forget %s in the %s: %s", self._name, self.mechanism, err)
