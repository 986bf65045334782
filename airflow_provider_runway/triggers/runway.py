"""RunwayTaskTrigger: polls a Runway task from the triggerer until it is finished.

Serialised as plain JSON (connection id, task id, poll interval, wall-clock deadline and grace
window) so any triggerer can rebuild and restart it at any time; it fires exactly one event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_runway.errors import (
    MalformedResponseError,
    RunwayAPIError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.retry import RetryPolicy
from airflow_provider_runway.waiting import ERROR, WaitTracker, wait_event

# Inside one poll the hook retries briefly; the trigger itself keeps polling after that.
POLL_RETRY_POLICY = RetryPolicy(max_retries=2, initial_delay=1.0, max_delay=8.0)


class RunwayTaskTrigger(BaseTrigger):
    """Wait for a Runway task to reach SUCCEEDED, FAILED or CANCELLED.

    :param runway_task_id: the Runway task id returned by the create call.
    :param runway_conn_id: the ``runway`` connection (read with ``aget_connection``; the key
        never enters the trigger's kwargs).
    :param poll_interval: seconds between polls (Runway updates a task at most every ~5 s).
    :param deadline: wall-clock epoch seconds when the wait times out; None waits forever.
    :param not_visible_until: epoch seconds until which ``task_not_exist`` means "not yet visible".
    :param cancel_on_kill: cancel the Runway task when a user kills the deferred task (Airflow >= 3.3).
    :param max_unreadable: consecutive malformed answers tolerated before a clear error.
    """

    def __init__(
        self,
        runway_task_id: str,
        runway_conn_id: str = "runway_default",
        poll_interval: float = 10.0,
        deadline: float | None = None,
        not_visible_until: float | None = None,
        cancel_on_kill: bool = True,
        max_unreadable: int = 10,
    ) -> None:
        super().__init__()
        self.runway_task_id = runway_task_id
        self.runway_conn_id = runway_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.not_visible_until = time.time() if not_visible_until is None else float(not_visible_until)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.max_unreadable = int(max_unreadable)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "runway_task_id": self.runway_task_id,
                "runway_conn_id": self.runway_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "not_visible_until": self.not_visible_until,
                "cancel_on_kill": self.cancel_on_kill,
                "max_unreadable": self.max_unreadable,
            },
        )

    def _hook(self) -> Any:
        from airflow_provider_runway.hooks.runway import RunwayHook

        return RunwayHook(self.runway_conn_id, retry_policy=POLL_RETRY_POLICY)

    async def _poll_once(self, hook: Any, tracker: WaitTracker) -> dict[str, Any] | None:
        """One poll; returns the final event or None to keep waiting."""
        try:
            task = await hook.aget_task(self.runway_task_id)
        except RunwayTaskNotVisibleError:
            self.log.info("Runway task %s is not visible yet (task_not_exist); still waiting", self.runway_task_id)
            return tracker.not_visible(time.time())
        except RunwayTransportError as err:
            self.log.warning("Polling Runway task %s failed (%s); will poll again", self.runway_task_id, err)
            return None
        except RunwayAPIError as err:
            if err.retryable:
                self.log.warning("Polling Runway task %s failed (%s); will poll again", self.runway_task_id, err)
                return None
            return wait_event(ERROR, self.runway_task_id, f"Polling Runway task {self.runway_task_id} failed: {err}")
        except MalformedResponseError as err:
            self.log.warning("Runway answered a poll of %s unreadably: %s", self.runway_task_id, err)
            return tracker.unreadable(str(err))
        line, event = tracker.saw(task)
        if line:
            self.log.info("%s", line)
        return event

    async def run(self) -> AsyncIterator[TriggerEvent]:
        tracker = WaitTracker(
            task_id=self.runway_task_id,
            deadline=self.deadline,
            not_visible_until=self.not_visible_until,
            max_unreadable=self.max_unreadable,
        )
        try:
            hook = self._hook()
            await hook.aget_settings()
        except Exception as err:  # a missing or invalid connection cannot fix itself by waiting
            yield TriggerEvent(wait_event(ERROR, self.runway_task_id, f"Cannot use connection: {err}"))
            return
        while True:
            event = await self._poll_once(hook, tracker) or tracker.timed_out(time.time())
            if event is not None:
                event["polls"] = tracker.polls
                yield TriggerEvent(event)
                return
            await asyncio.sleep(tracker.sleep_for(time.time(), self.poll_interval))

    async def on_kill(self) -> None:
        """A user marked the deferred task failed/success or cleared it: stop paying for it.

        Deliberately not in ``cleanup()``, which also runs on every triggerer restart.
        """
        if not self.cancel_on_kill:
            return
        try:
            await self._hook().acancel_task(self.runway_task_id)
        except Exception as err:  # best effort: the task may already be finished
            self.log.warning("Could not cancel Runway task %s: %s", self.runway_task_id, err)
