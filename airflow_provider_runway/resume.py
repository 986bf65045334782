"""Remember a submitted Runway task across Airflow tries, so a retry never pays twice.

Airflow retries, kills and restarts tasks; XComs are wiped when a new try starts, so the task
id must live somewhere that survives a try:

* Airflow >= 3.3: ``context["task_state_store"]`` (made for exactly this). Airflow keeps its
  rows after success unless ``[state_store] clear_on_success`` is set, so the key is deleted
  here once the task has succeeded.
* Airflow 3.1/3.2: an Airflow Variable keyed by dag/run/task/map index, written through the
  Task SDK like any other Variable and deleted once the task has succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATE_KEY = "runway_task_id"
VARIABLE_PREFIX = "airflow_provider_runway"


def variable_key(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
    return f"{VARIABLE_PREFIX}:{dag_id}:{run_id}:{task_id}:{-1 if map_index is None else map_index}"


class SubmittedTaskStore:
    """Read/write the Runway task id of the current task instance, whichever mechanism exists."""

    def __init__(self, context: Mapping[str, Any], log: Any) -> None:
        self._log = log
        self._state = context.get("task_state_store")
        ti = context["ti"]
        self._key = variable_key(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))

    @property
    def mechanism(self) -> str:
        return "task_state_store" if self._state is not None else "Variable"

    def get(self) -> str | None:
        try:
            if self._state is not None:
                value = self._state.get(STATE_KEY)
            else:
                from airflow.sdk import Variable

                value = Variable.get(self._key, default=None)
        except Exception as err:  # no store reachable: behave like a first try, but say so
            self._log.warning("Could not read the Runway task id of an earlier try (%s)", err)
            return None
        return str(value) if value else None

    def set(self, runway_task_id: str) -> None:
        try:
            if self._state is not None:
                self._state.set(STATE_KEY, runway_task_id)
            else:
                from airflow.sdk import Variable

                Variable.set(self._key, runway_task_id, description="Runway task of a running Airflow task")
        except Exception as err:  # the task exists and is paid for: keep going, loudly
            self._log.error(
                "Could not remember Runway task %s for retries (%s): a retry would submit again",
                runway_task_id,
                err,
            )

    def clear(self) -> None:
        """Forget the id once the task instance is done, so a later re-run (e.g. a cleared task) submits anew."""
        try:
            if self._state is not None:
                # Not cleared by Airflow on success by default ([state_store] clear_on_success=False).
                self._state.delete(STATE_KEY)
            else:
                from airflow.sdk import Variable

                Variable.delete(self._key)
        except Exception as err:  # a leftover id only costs a row
            self._log.warning("Could not forget the Runway task id in the %s: %s", self.mechanism, err)
