"""What a wait for a Runway task has seen, and what each poll's outcome means.

One tracker serves the trigger (deferrable), the sensor's poke/reschedule modes and the
operator's blocking wait: they only do the I/O (one GET, a sleep) and hand the outcome to
``WaitTracker.decide``, so all of them log, keep waiting, time out and fail identically. Pure:
the caller passes the clock in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow_provider_runway.runway.errors import (
    MalformedResponseError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.runway.failures import classify_task
from airflow_provider_runway.runway.poll_schedule import PollSchedule
from airflow_provider_runway.runway.remote_task import CANCELLED, FAILED, SUCCEEDED, RunwayTask
from airflow_provider_runway.runway.retry_policy import RetryPolicy

SUCCESS = "success"
TASK_FAILED = "failed"
TASK_CANCELLED = "cancelled"
TIMEOUT = "timeout"
ERROR = "error"

_FINAL_KINDS = {SUCCEEDED: SUCCESS, FAILED: TASK_FAILED, CANCELLED: TASK_CANCELLED}

# Inside one poll the hook retries briefly; the wait itself keeps polling after that. Every
# mode polls with this policy, so one fault costs the same number of requests everywhere.
POLL_RETRY_POLICY = RetryPolicy(max_retries=2, initial_delay=1.0, max_delay=8.0)

PollOutcome = RunwayTask | RunwayError


def as_seconds(value: timedelta | float) -> float:
    """Airflow accepts timeouts and intervals as timedelta or seconds; the wait uses seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def wait_event(
    kind: str, task_id: str, message: str, task: RunwayTask | None = None, *, polls: int = 0
) -> dict[str, Any]:
    """The plain-JSON payload a trigger event carries (and the blocking wait returns)."""
    return {
        "status": kind,
        "runway_task_id": task_id,
        "message": message,
        "task": task.to_dict() if task is not None else None,
        "polls": polls,
    }


def connection_unusable(task_id: str, err: BaseException) -> dict[str, Any]:
    """A missing or invalid connection cannot fix itself by waiting: the same end in every mode."""
    return wait_event(ERROR, task_id, f"Cannot use the Runway connection to poll task {task_id}: {err}")


@dataclass(frozen=True)
class PollDecision:
    """What one poll means: a line to log (at ``level``) and the final event, or None to keep waiting."""

    event: dict[str, Any] | None
    line: str | None = None
    level: int = logging.INFO

    def log_to(self, log: Any) -> dict[str, Any] | None:
        if self.line:
            log.log(self.level, "%s", self.line)
        return self.event


@dataclass
class WaitTracker:
    """State of one wait.

    :param deadline: wall-clock epoch seconds after which the wait times out (None: never).
    :param not_visible_until: epoch seconds until which ``task_not_exist`` means "not visible yet".
    :param poll_interval: mean seconds between polls (see ``poll_schedule``).
    :param max_unreadable: consecutive malformed answers or unknown statuses tolerated before
        giving up, so a broken upstream cannot keep a trigger spinning forever.
    """

    task_id: str
    deadline: float | None
    not_visible_until: float
    poll_interval: float = 10.0
    max_unreadable: int = 10
    last: RunwayTask | None = None
    unreadable_streak: int = 0
    polls: int = 0
    last_poll_at: float | None = None
    schedule: PollSchedule = field(init=False)

    def __post_init__(self) -> None:
        self.schedule = PollSchedule(self.task_id, self.poll_interval)

    # -- when to poll ---------------------------------------------------------------------------

    def sleep_for(self, now: float) -> float:
        """Seconds until the next poll slot, but never past the deadline."""
        wake = self.schedule.next_poll_at(now, self.last_poll_at)
        if self.deadline is not None:
            wake = min(wake, self.deadline)
        return max(0.0, wake - now)

    def poll_due(self, now: float) -> bool:
        return self.schedule.due(now, self.last_poll_at)

    # -- what a poll means ----------------------------------------------------------------------

    def decide(self, outcome: PollOutcome, at: float) -> PollDecision:
        """The one mapping from a poll's outcome (a task or the error the hook raised) to what happens next.

        Keeps waiting on what time can fix (transport errors, 408/429/5xx after the hook's own
        retries, a task not visible yet inside the grace window, a few unreadable answers) and
        ends the wait on what it cannot (a finished task, a rejected key, a task that does not
        exist, any other refused request).
        """
        self.polls += 1
        self.last_poll_at = at
        name = self.task_id
        if isinstance(outcome, RunwayTask):
            return self._saw(outcome)
        if isinstance(outcome, RunwayTaskNotVisibleError):
            return self._not_visible(at)
        if isinstance(outcome, MalformedResponseError):
            return PollDecision(
                self._unreadable(str(outcome)),
                f"Runway answered a poll of {name} unreadably: {outcome}",
                logging.WARNING,
            )
        if isinstance(outcome, RunwayTransportError) or (isinstance(outcome, RunwayAPIError) and outcome.retryable):
            return PollDecision(
                None, f"Polling Runway task {name} failed ({outcome}); will poll again", logging.WARNING
            )
        if isinstance(outcome, RunwayAuthError):
            message = (
                f"The API key was rejected while polling Runway task {name} ({outcome.status_code}: "
                f"{outcome.api_message}); waiting cannot fix that. Fix the connection: task {name} may still be "
                "running at Runway."
            )
        elif isinstance(outcome, RunwayTaskNotFoundError):
            message = (
                f"Runway task {name} does not exist ({outcome.status_code}: {outcome.api_message}): it was deleted, "
                "or the id or the connection's flavor/host is wrong."
            )
        else:
            message = f"Polling Runway task {name} failed and waiting cannot fix it: {outcome}"
        return PollDecision(self._final(ERROR, message, self.last))

    def _saw(self, task: RunwayTask) -> PollDecision:
        previous, self.last = self.last, task
        # A line when what a reader sees changes (status, whole percent), not on every poll: Runway's
        # progress moves a little each time, and thousands of waits would log one line per poll.
        described = task.describe()
        changed = previous is None or described != previous.describe()
        line = f"Runway task {self.task_id}: {described}" if changed else None
        if not task.is_known:
            return PollDecision(self._unreadable(f"unrecognised status {task.raw_status or task.status!r}"), line)
        self.unreadable_streak = 0
        if not task.is_terminal:
            return PollDecision(None, line)
        message = f"Runway task {self.task_id} {task.describe()}"
        return PollDecision(self._final(_FINAL_KINDS[task.status], message, task), line)

    def _not_visible(self, at: float) -> PollDecision:
        """CometAPI's ``task_not_exist``: keep waiting inside the grace window, then give up."""
        if self.last is not None:  # it was visible before: now a broken answer, tolerated a few times
            return PollDecision(self._unreadable("task_not_exist for a task seen before"))
        if at < self.not_visible_until:
            line = f"Runway task {self.task_id} is not visible yet (task_not_exist); still waiting"
            return PollDecision(None, line)
        message = (
            f"Runway task {self.task_id} is unknown: the API still answers task_not_exist after the grace "
            "window. Check the task id and the connection's flavor/host."
        )
        return PollDecision(self._final(ERROR, message))

    def _unreadable(self, reason: str) -> dict[str, Any] | None:
        """A malformed answer: tolerated a bounded number of times in a row."""
        self.unreadable_streak += 1
        if self.unreadable_streak < self.max_unreadable:
            return None
        message = (
            f"Gave up on Runway task {self.task_id} after {self.unreadable_streak} unreadable answers in a row; "
            f"last: {reason}"
        )
        return self._final(ERROR, message, self.last)

    def _final(self, kind: str, message: str, task: RunwayTask | None = None) -> dict[str, Any]:
        return wait_event(kind, self.task_id, message, task, polls=self.polls)

    # -- the deadline ---------------------------------------------------------------------------

    def timeout_event(self) -> dict[str, Any]:
        seen = self.last.describe() if self.last is not None else "never seen"
        return self._final(TIMEOUT, f"Timed out waiting for Runway task {self.task_id}; last status: {seen}", self.last)

    def timed_out(self, now: float) -> dict[str, Any] | None:
        if self.deadline is None or now < self.deadline:
            return None
        return self.timeout_event()


def result_from_event(event: dict[str, Any], *, no_resubmit_reason: str | None = None) -> dict[str, Any]:
    """Turn a final event into the task's result, or the matching Airflow exception.

    A FAILED or CANCELLED task raises AirflowException (so an Airflow retry may submit a new
    one) only when Runway allows a retry of its failure code and the raising task can
    resubmit (``no_resubmit_reason`` is None); otherwise AirflowFailException. The message
    names the code, what it means and whether it will be retried.
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
        try:
            verdict = classify_task(RunwayTask.from_dict(task))
        except MalformedResponseError:
            verdict = None
        if verdict is None:  # an event without a readable finished task: never pay again for it
            raise AirflowFailException(message)
        will_resubmit = verdict.retry_allowed and no_resubmit_reason is None
        explained = f"{message}. {verdict.explain(will_resubmit, no_resubmit_reason)}"
        raise AirflowException(explained) if will_resubmit else AirflowFailException(explained)
    raise AirflowException(message)
