"""Remember a submitted Runway task across Airflow tries, so a retry never pays twice.

Airflow retries, kills and restarts tasks; XComs are wiped when a new try starts, so the task
id must live somewhere that survives a try:

* Airflow >= 3.3: ``context["task_state_store"]`` (made for exactly this). Airflow keeps its
  rows after success unless ``[state_store] clear_on_success`` is set, so the key is deleted
  here once the task has succeeded.
* Airflow 3.1/3.2, or ``reuse_after_clear=True``: an Airflow Variable keyed by
  dag/run/task/map index, written through the Task SDK and deleted once the task has succeeded.

Retries and clears are told apart by the try lineage stored with the id. Airflow sets a task
instance's ``max_tries`` to ``try_number + retries`` on every clear and never changes it between
automatic retries (``clear_task_instances`` in 3.1.8 and 3.3.2; the Task SDK's
``RuntimeTaskInstance.max_tries``, which ``get_first_reschedule_date`` uses the same way). So an
id stored under another ``max_tries`` was submitted before the task was cleared.

What a cleared task does is the operator's ``reuse_after_clear``, never Airflow's storage:

* False (default): a cleared task submits a new Runway task. Whether Airflow kept the earlier
  try's state (``dag.clear()``, 3.1/3.2 Variables) or discarded it on clear (apache/airflow
  PR #72100, open as of 2026-11), the outcome is the same.
* True: a cleared task reconnects to the Runway task its earlier run left behind (if that task
  is still usable). The id then lives in a Variable on every Airflow version, because no clear
  discards Variables: the choice keeps working when PR #72100 lands.

A clear while the task is running is, to Airflow, a kill and a retry of the same lineage
(``max_tries`` unchanged): the task reconnects like any retry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.execution.checkpoint import TASK_ID_RECORD, TaskStateRecord, variable_key
from airflow_provider_runway.runway.failures import classify_task
from airflow_provider_runway.runway.remote_task import FAILED, PENDING, RUNNING, SUCCEEDED, THROTTLED, RunwayTask

STATE_KEY = TASK_ID_RECORD
__all__ = ["STATE_KEY", "SubmittedTask", "SubmittedTaskStore", "decide_earlier_task", "variable_key"]
# An earlier try's task in one of these states is reused instead of paying again.
REUSABLE_STATUSES = frozenset({PENDING, THROTTLED, RUNNING, SUCCEEDED})
REUSE, SUBMIT, FAIL = "reuse", "submit", "fail"


@dataclass(frozen=True)
class SubmittedTask:
    """A Runway task id with the try that submitted it.

    :param max_tries: the task instance's ``max_tries`` then (its try lineage); None for ids
        stored before the lineage was recorded, which count as this lineage's (never pay twice).
    """

    runway_task_id: str
    max_tries: int | None = None
    try_number: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"runway_task_id": self.runway_task_id, "max_tries": self.max_tries, "try_number": self.try_number}

    @classmethod
    def from_stored(cls, value: Any) -> SubmittedTask | None:
        if isinstance(value, str) and value.strip().startswith("{"):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, Mapping):
            task_id = value.get("runway_task_id")
            max_tries, try_number = value.get("max_tries"), value.get("try_number")
            if not task_id:
                return None
            return cls(
                str(task_id),
                max_tries if isinstance(max_tries, int) else None,
                try_number if isinstance(try_number, int) else None,
            )
        return cls(str(value)) if value else None

    def cleared_since(self, current_max_tries: int | None) -> bool:
        """Whether the task instance was cleared after this task was submitted."""
        return self.max_tries is not None and current_max_tries is not None and self.max_tries != current_max_tries


@dataclass(frozen=True)
class EarlierTaskDecision:
    action: str  # REUSE, SUBMIT or FAIL
    message: str


def decide_earlier_task(
    runway_task_id: str, task: RunwayTask | None, *, resubmit_on_failure: bool
) -> EarlierTaskDecision:
    """Reuse the task an earlier try submitted, submit a new one, or fail without paying again.

    :param task: the earlier task as polled now; None when the API says it no longer exists.
    """
    if task is not None and task.status in REUSABLE_STATUSES:
        return EarlierTaskDecision(
            REUSE, f"Reconnecting to Runway task {runway_task_id} ({task.status}) created by an earlier try"
        )
    ended = "no longer exists" if task is None else f"ended {task.describe()}"
    verdict = classify_task(task) if task is not None else None
    if verdict is not None and not verdict.retry_allowed:
        return EarlierTaskDecision(
            FAIL, f"The earlier try's Runway task {runway_task_id} {ended}. {verdict.explain(False)}"
        )
    if not resubmit_on_failure:
        return EarlierTaskDecision(
            FAIL, f"The earlier try's Runway task {runway_task_id} {ended}; resubmit_on_failure=False, not paying again"
        )
    why = f" {verdict.explain(True)}" if task is not None and verdict is not None and task.status == FAILED else ""
    return EarlierTaskDecision(
        SUBMIT, f"The earlier try's Runway task {runway_task_id} {ended}; submitting a new one.{why}"
    )


class SubmittedTaskStore:
    """Read/write the Runway task of the current task instance, whichever mechanism exists.

    :param survive_clear: keep the record where no clear discards it (a Variable), for
        ``reuse_after_clear=True``.
    """

    def __init__(self, context: Mapping[str, Any], log: Any, *, survive_clear: bool = False) -> None:
        self._record = TaskStateRecord(context, log, STATE_KEY, survive_clear=survive_clear)
        ti = context["ti"]
        self.max_tries: int | None = getattr(ti, "max_tries", None)
        self.try_number: int | None = getattr(ti, "try_number", None)

    @property
    def mechanism(self) -> str:
        return self._record.mechanism

    def get(self) -> SubmittedTask | None:
        return SubmittedTask.from_stored(self._record.get("the Runway task id of an earlier try"))

    def set(self, runway_task_id: str) -> bool:
        """Record the task for retries; False when it could not be written."""
        record = SubmittedTask(runway_task_id, self.max_tries, self.try_number).to_json()
        return self._record.set(record, f"Runway task {runway_task_id} for retries: a retry would submit again")

    def supervisor_gone(self) -> bool:
        return self._record.supervisor_gone()

    def clear(self) -> None:
        """Forget the id once the task instance succeeded: a later re-run (a cleared task) submits anew."""
        self._record.clear()
