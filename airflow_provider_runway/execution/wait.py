"""The wait for a Runway task as Airflow tasks run it, shared by the sensor and the operator.

``RunwayTaskSensor`` and ``RunwayImageToVideoOperator(wait_for_completion=True)`` wait the
same way: deferred to ``RunwayTaskTrigger``, or polling from the worker. Both poll loops only do
I/O around ``waiting.WaitTracker`` (what a poll means, when the next one is due), so every mode
ends the same way on the same answers. DAG files import this at every parse: the hook, the
trigger and the HTTP stack load only when a task runs.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.execution.extra_links import RunwayVideoLinkMixin
from airflow_provider_runway.execution.wait_metrics import count_wait_end
from airflow_provider_runway.execution.wait_tracker import (
    ERROR,
    POLL_RETRY_POLICY,
    SUCCESS,
    TIMEOUT,
    WaitTracker,
    connection_unusable,
    result_from_event,
)
from airflow_provider_runway.runway.errors import RunwayError
from airflow_provider_runway.runway.remote_task import read_credits

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.runway.retry_policy import RetryPolicy
    from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

DEFAULT_TIMEOUT = 60 * 60.0
DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_NOT_VISIBLE_GRACE = 120.0


def describe_deadline(deadline: float | None, now: float) -> str:
    if deadline is None:
        return "no deadline"
    when = datetime.fromtimestamp(deadline, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"deadline {when} (in {max(0.0, deadline - now):.0f} s)"


def task_id_to_wait_on(value: Any) -> str:
    """The rendered ``runway_task_id``, refused before any wait starts when it cannot be one."""
    text = str(value).strip() if value is not None else ""
    if not text or text == "None":
        raise ValueError(f"runway_task_id: expected the id of a Runway task, got {value!r}")
    return text


class RunwayWaitMixin(RunwayVideoLinkMixin):
    """The waiting half shared by the sensor and the operator's ``wait_for_completion`` (and their "Runway video"
    button)."""

    runway_conn_id: str
    poll_interval: float
    not_visible_grace: float
    cancel_on_timeout: bool
    cancel_on_kill: bool
    output_path: str | None = None
    output_conn_id: str | None = None
    log: Any
    _tracker: WaitTracker | None = None
    _poll_hook: RunwayHook | None = None
    _waiting_on: str | None = None

    def _runway_hook(self, retry_policy: RetryPolicy | None = None) -> RunwayHook:
        from airflow_provider_runway.hooks.runway import RunwayHook

        return RunwayHook(self.runway_conn_id, retry_policy=retry_policy)

    def _announce_wait(self, runway_task_id: str, where: str, deadline: float | None) -> None:
        self.log.info(
            "Waiting for Runway task %s %s: polling about every %g s, %s",
            runway_task_id,
            where,
            self.poll_interval,
            describe_deadline(deadline, time.time()),
        )

    def _new_tracker(self, runway_task_id: str, started: float, deadline: float | None) -> WaitTracker:
        self._tracker = WaitTracker(
            task_id=runway_task_id,
            deadline=deadline,
            not_visible_until=started + self.not_visible_grace,
            poll_interval=self.poll_interval,
        )
        return self._tracker

    def _make_trigger(self, runway_task_id: str, timeout: float | None) -> RunwayTaskTrigger:
        from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

        now = time.time()
        deadline = None if timeout is None else now + timeout
        self._announce_wait(runway_task_id, "in the triggerer (deferred)", deadline)
        return RunwayTaskTrigger(
            runway_task_id=runway_task_id,
            runway_conn_id=self.runway_conn_id,
            poll_interval=self.poll_interval,
            deadline=deadline,
            not_visible_until=now + self.not_visible_grace,
            cancel_on_kill=self.cancel_on_kill,
        )

    def _poll_once(self, tracker: WaitTracker) -> dict[str, Any] | None:
        """One blocking poll; the final event or None. The I/O half of ``WaitTracker.decide``."""
        if self._poll_hook is None:
            try:
                hook = self._runway_hook(POLL_RETRY_POLICY)
                hook.settings  # noqa: B018 -- read the connection now: a broken one ends the wait
            except Exception as err:  # a missing or invalid connection cannot fix itself by waiting
                return connection_unusable(tracker.task_id, err)
            self._poll_hook = hook
        at = time.time()
        try:
            outcome: Any = self._poll_hook.get_task(tracker.task_id)
        except RunwayError as err:
            outcome = err
        return tracker.decide(outcome, at).log_to(self.log)

    def wait_blocking(self, runway_task_id: str, timeout: float | None) -> dict[str, Any]:
        """Poll from this worker until the final event (the trigger's loop, with sync I/O)."""
        now = time.time()
        tracker = self._new_tracker(runway_task_id, now, None if timeout is None else now + timeout)
        self._waiting_on = runway_task_id
        self._announce_wait(runway_task_id, "in this worker", tracker.deadline)
        while True:
            time.sleep(tracker.sleep_for(time.time()))
            event = self._poll_once(tracker) if tracker.poll_due(time.time()) else None
            event = event or tracker.timed_out(time.time())
            if event is not None:
                return event

    def _finish(self, event: dict[str, Any], *, no_resubmit_reason: str | None) -> dict[str, Any]:
        """Log, cancel on timeout or give-up if asked, then return the task dict or raise."""
        self._waiting_on = None
        kind = event.get("status")
        self.log.info(
            "Runway wait finished after %s polls (%s): %s", event.get("polls", "?"), kind, event.get("message")
        )
        # A wait that gives up (timeout, or an answer it cannot use) stops the task it leaves behind.
        if kind in (TIMEOUT, ERROR) and self.cancel_on_timeout:
            self._cancel_quietly(str(event.get("runway_task_id")))
        task = event.get("task") or {}
        if kind == SUCCESS:
            self.log.info("Runway task %s succeeded; output: %s", task.get("id"), task.get("output"))
        charged = read_credits(task.get("cost"))
        if charged is not None:
            self.log.info("Runway task %s charged %s credits (the API's final cost)", task.get("id"), f"{charged:.10g}")
        count_wait_end(event, endpoint=getattr(self, "endpoint", None))
        return result_from_event(event, no_resubmit_reason=no_resubmit_reason)

    def _finish_and_store(
        self, context: Context, event: dict[str, Any], *, no_resubmit_reason: str | None
    ) -> dict[str, Any]:
        """``_finish``, then (with ``output_path``) store the output; a failed wait's outcome is recorded."""
        from airflow_provider_runway.execution.outcomes import record_wait_failure
        from airflow_provider_runway.execution.store import store_output

        record_wait_failure(self, context, event)
        task = self._finish(event, no_resubmit_reason=no_resubmit_reason)
        store_output(self, context, task)
        return task

    def _cancel_quietly(self, runway_task_id: str) -> None:
        try:
            self._runway_hook().cancel_task(runway_task_id)
        except Exception as err:  # best effort: never hide the original outcome
            self.log.warning("Could not cancel Runway task %s: %s", runway_task_id, err)

    def on_kill(self) -> None:
        """The worker is being killed mid-wait: cancel the Runway task so it stops costing credits."""
        if self.cancel_on_kill and self._waiting_on:
            self._cancel_quietly(self._waiting_on)
