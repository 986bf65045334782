"""RunwayTaskSensor: wait for a Runway task to finish, in the triggerer when deferrable.

DAG files import this at every parse, so the hook and HTTP stack load only when a task runs.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator

from airflow_provider_runway._compat import AirflowSensorTimeout
from airflow_provider_runway.waiting import ERROR, SUCCESS, TIMEOUT, WaitTracker, as_seconds, result_from_event

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink, Context

    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

DEFAULT_TIMEOUT = 60 * 60.0
DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_NOT_VISIBLE_GRACE = 120.0


class RunwayWaitMixin:
    """The waiting half shared by the sensor and the operator's ``wait_for_completion``."""

    runway_conn_id: str
    poll_interval: float
    not_visible_grace: float
    cancel_on_timeout: bool
    cancel_on_kill: bool
    output_path: str | None
    output_conn_id: str | None
    log: Any
    _tracker: WaitTracker | None = None
    _waiting_on: str | None = None

    if TYPE_CHECKING:
        operator_extra_links: Collection[BaseOperatorLink]
    else:

        @property
        def operator_extra_links(self):
            """The "Runway video" button; a property, so that parsing a DAG does not import the link machinery."""
            from airflow_provider_runway.links import RunwayVideoLink

            return (RunwayVideoLink(),)

    def _runway_hook(self) -> RunwayHook:
        from airflow_provider_runway.hooks.runway import RunwayHook

        return RunwayHook(self.runway_conn_id)

    def _make_trigger(self, runway_task_id: str, timeout: float | None) -> RunwayTaskTrigger:
        from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

        now = time.time()
        return RunwayTaskTrigger(
            runway_task_id=runway_task_id,
            runway_conn_id=self.runway_conn_id,
            poll_interval=self.poll_interval,
            deadline=None if timeout is None else now + timeout,
            not_visible_until=now + self.not_visible_grace,
            cancel_on_kill=self.cancel_on_kill,
        )

    def _tracker_for(self, runway_task_id: str, started: float, timeout: float | None) -> WaitTracker:
        if self._tracker is None or self._tracker.task_id != runway_task_id:
            self._tracker = WaitTracker(
                task_id=runway_task_id,
                deadline=None if timeout is None else started + timeout,
                not_visible_until=started + self.not_visible_grace,
            )
        return self._tracker

    def _poll_sync(self, hook: RunwayHook, tracker: WaitTracker) -> dict[str, Any] | None:
        """One blocking poll with the trigger's semantics; the final event or None."""
        from airflow_provider_runway.errors import (
            MalformedResponseError,
            RunwayAPIError,
            RunwayTaskNotVisibleError,
            RunwayTransportError,
        )

        try:
            task = hook.get_task(tracker.task_id)
        except RunwayTaskNotVisibleError:
            self.log.info("Runway task %s is not visible yet (task_not_exist); still waiting", tracker.task_id)
            return tracker.not_visible(time.time())
        except (RunwayTransportError, RunwayAPIError) as err:
            if isinstance(err, RunwayAPIError) and not err.retryable:
                raise
            self.log.warning("Polling Runway task %s failed (%s); will poll again", tracker.task_id, err)
            return None
        except MalformedResponseError as err:
            return tracker.unreadable(str(err))
        line, event = tracker.saw(task)
        if line:
            self.log.info("%s", line)
        return event

    def _wait_blocking(self, runway_task_id: str, timeout: float | None) -> dict[str, Any]:
        """Poll from the worker until a final event (used when not deferring)."""
        hook = self._runway_hook()
        tracker = self._tracker_for(runway_task_id, time.time(), timeout)
        self._waiting_on = runway_task_id
        while True:
            event = self._poll_sync(hook, tracker) or tracker.timed_out(time.time())
            if event is not None:
                return event
            time.sleep(tracker.sleep_for(time.time(), self.poll_interval))

    def _finish(self, event: dict[str, Any], *, failure_retryable: bool) -> dict[str, Any]:
        """Log, cancel on timeout or give-up if asked, then return the task dict or raise."""
        self._waiting_on = None
        # A wait that gives up (timeout, or an answer it cannot use) stops the task it leaves behind.
        if event.get("status") in (TIMEOUT, ERROR) and self.cancel_on_timeout:
            self._cancel_quietly(str(event.get("runway_task_id")))
        if event.get("status") == SUCCESS:
            task = event.get("task") or {}
            self.log.info("Runway task %s succeeded; output: %s", task.get("id"), task.get("output"))
        return result_from_event(event, failure_retryable=failure_retryable)

    def _finish_and_store(self, context: Context, event: dict[str, Any], *, failure_retryable: bool) -> dict[str, Any]:
        """``_finish``, then (with ``output_path``) store the video; a failed wait's outcome is recorded."""
        from airflow_provider_runway.storage import record_wait_failure, store_video

        record_wait_failure(self, context, event)
        task = self._finish(event, failure_retryable=failure_retryable)
        store_video(self, context, task)
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


class RunwayTaskSensor(RunwayWaitMixin, BaseSensorOperator):
    """Wait until a Runway task has finished; returns the final task as a JSON dict.

    :param runway_task_id: the Runway task id (templated), typically ``submit.output``.
    :param runway_conn_id: the ``runway`` connection.
    :param deferrable: free the worker while waiting (default: ``[operators] default_deferrable``,
        which Airflow ships as False; the option's fallback when absent is True).
    :param poll_interval: seconds between polls (``poke_interval`` in poke/reschedule modes).
    :param timeout: seconds before ``AirflowSensorTimeout`` (default one hour).
    :param not_visible_grace: seconds during which ``task_not_exist`` means "not visible yet".
    :param cancel_on_timeout: cancel the Runway task when the wait times out or gives up.
    :param cancel_on_kill: cancel the Runway task when the waiting task is killed.
    :param output_path: store the video here after SUCCEEDED (a file, or a folder when it ends in
        ``/``; local or object storage) with a JSON sidecar; XCom ``runway_video``. Checked for
        write access before the wait starts.
    :param output_conn_id: Airflow connection for writing to ``output_path``.
    """

    template_fields: Sequence[str] = ("runway_task_id", "runway_conn_id", "output_path", "output_conn_id")
    ui_color = "#e8d3f5"

    def __init__(
        self,
        *,
        runway_task_id: str,
        runway_conn_id: str = "runway_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=True),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: timedelta | float = DEFAULT_TIMEOUT,
        not_visible_grace: float = DEFAULT_NOT_VISIBLE_GRACE,
        cancel_on_timeout: bool = True,
        cancel_on_kill: bool = True,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(timeout=timeout, **kwargs)
        self.runway_task_id = runway_task_id
        self.runway_conn_id = runway_conn_id
        self.deferrable = deferrable
        self.poll_interval = as_seconds(self.poke_interval)
        self.not_visible_grace = float(not_visible_grace)
        self.cancel_on_timeout = cancel_on_timeout
        self.cancel_on_kill = cancel_on_kill
        self.output_path = output_path
        self.output_conn_id = output_conn_id

    def execute(self, context: Context) -> Any:
        from airflow_provider_runway.storage import check_output_writable

        check_output_writable(self)  # before the wait: the Runway task keeps running if this fails
        if self.deferrable:
            self.defer(
                trigger=self._make_trigger(str(self.runway_task_id), as_seconds(self.timeout)),
                method_name="execute_complete",
            )
        try:
            return super().execute(context)
        except AirflowSensorTimeout as err:
            last = self._tracker.last.describe() if self._tracker and self._tracker.last else "never seen"
            if self.cancel_on_timeout:
                self._cancel_quietly(str(self.runway_task_id))
            raise AirflowSensorTimeout(f"{err} Last Runway status of {self.runway_task_id}: {last}") from None

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        task_id = str(self.runway_task_id)
        self._waiting_on = task_id
        ti = context.get("ti")
        started = getattr(ti, "start_date", None)
        tracker = self._tracker_for(task_id, started.timestamp() if started else time.time(), None)
        event = self._poll_sync(self._runway_hook(), tracker)
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish_and_store(context, event, failure_retryable=False))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: return the final task or raise."""
        self.log.info("Runway wait finished after %s polls: %s", event.get("polls", "?"), event.get("message"))
        return self._finish_and_store(context, event, failure_retryable=False)
