"""What a wait for a Runway task has seen, and what each poll result means.

One tracker serves the trigger (deferrable), the sensor's poke/reschedule modes and the
operator's blocking wait, so all three log, time out and fail identically. Pure: the caller
passes the clock in and does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow_provider_runway.tasks import CANCELLED, FAILED, SUCCEEDED, RunwayTask

SUCCESS = "success"
TASK_FAILED = "failed"
TASK_CANCELLED = "cancelled"
TIMEOUT = "timeout"
ERROR = "error"

_FINAL_KINDS = {SUCCEEDED: SUCCESS, FAILED: TASK_FAILED, CANCELLED: TASK_CANCELLED}


def as_seconds(value: timedelta | float) -> float:
    """Airflow accepts timeouts and intervals as timedelta or seconds; the wait uses seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def wait_event(kind: str, task_id: str, message: str, task: RunwayTask | None = None) -> dict[str, Any]:
    """The plain-JSON payload a trigger event carries (and the blocking wait returns)."""
    return {
        "status": kind,
        "runway_task_id": task_id,
        "message": message,
        "task": task.to_dict() if task is not None else None,
    }


@dataclass
class WaitTracker:
    """State of one wait.

    :param deadline: wall-clock epoch seconds after which the wait times out (None: never).
    :param not_visible_until: epoch seconds until which ``task_not_exist`` means "not visible yet".
    :param max_unreadable: consecutive malformed answers or unknown statuses tolerated before
        giving up, so a broken upstream cannot keep a trigger spinning forever.
    """

    task_id: str
    deadline: float | None
    not_visible_until: float
    max_unreadable: int = 10
    last: RunwayTask | None = None
    unreadable_streak: int = 0
    polls: int = 0

    def saw(self, task: RunwayTask) -> tuple[str | None, dict[str, Any] | None]:
        """Record a successful poll: (log line if status or progress changed, final event or None)."""
        self.polls += 1
        previous, self.last = self.last, task
        changed = previous is None or (task.status, task.progress) != (previous.status, previous.progress)
        line = f"Runway task {self.task_id}: {task.describe()}" if changed else None
        if not task.is_known:
            return line, self._unreadable(f"unrecognised status {task.raw_status or task.status!r}")
        self.unreadable_streak = 0
        if not task.is_terminal:
            return line, None
        kind = _FINAL_KINDS[task.status]
        return line, wait_event(kind, self.task_id, f"Runway task {self.task_id} {task.describe()}", task)

    def not_visible(self, now: float) -> dict[str, Any] | None:
        """CometAPI's ``task_not_exist``: keep waiting inside the grace window, then give up."""
        self.polls += 1
        if self.last is not None:  # it was visible before: now a broken answer, tolerated a few times
            return self._unreadable("task_not_exist for a task seen before")
        if now >= self.not_visible_until:
            return wait_event(
                ERROR,
                self.task_id,
                f"Runway task {self.task_id} is unknown: the API still answers task_not_exist after the grace "
                "window. Check the task id and the connection's flavor/host.",
            )
        return None

    def unreadable(self, reason: str) -> dict[str, Any] | None:
        """A malformed answer: tolerated a bounded number of times in a row."""
        self.polls += 1
        return self._unreadable(reason)

    def _unreadable(self, reason: str) -> dict[str, Any] | None:
        self.unreadable_streak += 1
        if self.unreadable_streak < self.max_unreadable:
            return None
        return wait_event(
            ERROR,
            self.task_id,
            f"Gave up on Runway task {self.task_id} after {self.unreadable_streak} unreadable answers in a row; "
            f"last: {reason}",
            self.last,
        )

    def timed_out(self, now: float) -> dict[str, Any] | None:
        if self.deadline is None or now < self.deadline:
            return None
        seen = self.last.describe() if self.last is not None else "never seen"
        return wait_event(
            TIMEOUT,
            self.task_id,
            f"Timed out waiting for Runway task {self.task_id}; last status: {seen}",
            self.last,
        )

    def sleep_for(self, now: float, poll_interval: float) -> float:
        """Sleep until the next poll, but never past the deadline."""
        if self.deadline is None:
            return poll_interval
        return max(0.0, min(poll_interval, self.deadline - now))


def result_from_event(event: dict[str, Any], *, failure_retryable: bool = False) -> dict[str, Any]:
    """Turn a final event into the task's result, or the matching Airflow exception.

    Content refusals (``SAFETY.*``) and sensors never retry (AirflowFailException); an
    operator may let Airflow retry other failures (``failure_retryable``), which resubmits.
    """
    from airflow_provider_runway._compat import AirflowException, AirflowFailException, AirflowSensorTimeout

    kind = event.get("status")
    message = str(event.get("message") or f"Runway wait ended with {kind}")
    task = event.get("task") or {}
    if kind == SUCCESS:
        return dict(task)
    if kind == TIMEOUT:
        raise AirflowSensorTimeout(message)
    if kind in (TASK_FAILED, TASK_CANCELLED):
        safety = str(task.get("failureCode") or "").startswith("SAFETY")
        if failure_retryable and not safety:
            raise AirflowException(message)
        raise AirflowFailException(message)
    raise AirflowException(message)
