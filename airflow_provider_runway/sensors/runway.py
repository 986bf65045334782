"""RunwayTaskSensor: wait for a Runway task to finish, in the triggerer when deferrable.

DAG files import this at every parse, so the hook and HTTP stack load only when a task runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator

from airflow_provider_runway._compat import AirflowSensorTimeout
from airflow_provider_runway.execution.lineage import RunwayLineageMixin
from airflow_provider_runway.execution.wait import (
    DEFAULT_NOT_VISIBLE_GRACE,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    RunwayWaitMixin,
    task_id_to_wait_on,
)
from airflow_provider_runway.execution.wait_tracker import as_seconds
from airflow_provider_runway.runway.poll_schedule import poll_interval_seconds

if TYPE_CHECKING:
    from airflow.sdk import Context

# A sensor only waits: an Airflow retry of it cannot submit a new Runway task.
SENSOR_CANNOT_RESUBMIT = "a sensor only waits; re-run the task that submits the request"


class RunwayTaskSensor(RunwayWaitMixin, RunwayLineageMixin, BaseSensorOperator):
    """Wait until a Runway task has finished; returns the final task as a JSON dict.

    :param runway_task_id: the Runway task id (templated), typically ``submit.output``.
    :param runway_conn_id: the ``runway`` connection.
    :param deferrable: free the worker while waiting (default: ``[operators] default_deferrable``,
        which Airflow ships as False; the option's fallback when absent is True).
    :param poll_interval: mean seconds between polls (``poke_interval`` in poke/reschedule
        modes). Polls are spread and jittered, and never closer than 5 s unless you ask for a
        shorter interval.
    :param timeout: seconds before ``AirflowSensorTimeout`` (default one hour).
    :param not_visible_grace: seconds during which ``task_not_exist`` means "not visible yet".
    :param cancel_on_timeout: cancel the Runway task when the wait times out or gives up.
    :param cancel_on_kill: cancel the Runway task when the waiting task is killed.
    :param output_path: store the output here after SUCCEEDED (a file, or a folder when it ends in
        ``/``; local or object storage) with a JSON sidecar; XCom ``runway_output`` (and
        ``runway_video`` for videos). Checked for write access before the wait starts.
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
        self.poll_interval = poll_interval_seconds(self.poke_interval)
        self.not_visible_grace = float(not_visible_grace)
        self.cancel_on_timeout = cancel_on_timeout
        self.cancel_on_kill = cancel_on_kill
        self.output_path = output_path
        self.output_conn_id = output_conn_id

    def execute(self, context: Context) -> Any:
        from airflow_provider_runway.execution.prepare import check_output_writable

        task_id = task_id_to_wait_on(self.runway_task_id)
        check_output_writable(self)  # before the wait: the Runway task keeps running if this fails
        timeout = as_seconds(self.timeout)
        if self.deferrable:
            self.defer(trigger=self._make_trigger(task_id, timeout), method_name="execute_complete")
        if context.get("task_reschedule_count", 0) == 0:  # once, not at every reschedule
            self._announce_wait(task_id, f"in this worker ({self.mode} mode)", time.time() + timeout)
        try:
            return super().execute(context)
        except AirflowSensorTimeout:
            # Airflow's own sensor timeout: end it like every other wait's timeout.
            tracker = self._tracker or self._new_tracker(task_id, time.time(), None)
            return self._finish(tracker.timeout_event(), no_resubmit_reason=SENSOR_CANNOT_RESUBMIT)

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        task_id = task_id_to_wait_on(self.runway_task_id)
        self._waiting_on = task_id
        tracker = self._tracker
        if tracker is None or tracker.task_id != task_id:
            # Airflow owns the deadline in these modes (and across reschedules).
            started = getattr(context.get("ti"), "start_date", None)
            tracker = self._new_tracker(task_id, started.timestamp() if started else time.time(), None)
        if not tracker.poll_due(time.time()):
            return False
        event = self._poll_once(tracker)
        if event is None:
            return False
        task = self._finish_and_store(context, event, no_resubmit_reason=SENSOR_CANNOT_RESUBMIT)
        return PokeReturnValue(is_done=True, xcom_value=task)

    def _get_next_poke_interval(
        self, started_at: datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        """Poke and reschedule modes follow the same poll grid as the trigger (unless exponential backoff is on)."""
        if self.exponential_backoff or self._tracker is None:
            return float(super()._get_next_poke_interval(started_at, run_duration, poke_count))
        return max(0.0, min(self._tracker.sleep_for(time.time()), as_seconds(self.timeout) - run_duration()))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: return the final task or raise."""
        return self._finish_and_store(context, event, no_resubmit_reason=SENSOR_CANNOT_RESUBMIT)
