"""RunwayTaskTrigger: polls a Runway task from the triggerer until it is finished.

Serialised as plain JSON (connection id, task id, poll interval, wall-clock deadline and grace
window) so any triggerer can rebuild and restart it at any time; it fires exactly one event.
A rebuilt trigger keeps the task's poll grid (``poll_schedule``), so it neither polls right
after its predecessor nor in step with the other triggers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_runway.execution.wait_tracker import (
    WaitTracker,
    connection_unusable,
)
from airflow_provider_runway.triggers.polling import RunwayPollingTrigger


class RunwayTaskTrigger(RunwayPollingTrigger):
    """Wait for a Runway task to reach SUCCEEDED, FAILED or CANCELLED.

    :param runway_task_id: the Runway task id returned by the create call.
    :param runway_conn_id: the ``runway`` connection (read with ``aget_connection``; the key
        never enters the trigger's kwargs).
    :param poll_interval: mean seconds between polls (never closer than 5 s unless shorter).
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

    async def run(self) -> AsyncIterator[TriggerEvent]:
        tracker = WaitTracker(
            task_id=self.runway_task_id,
            deadline=self.deadline,
            not_visible_until=self.not_visible_until,
            poll_interval=self.poll_interval,
            max_unreadable=self.max_unreadable,
        )
        try:
            hook = await self.runway_hook()
            await hook.aget_settings()
        except Exception as err:  # a missing or invalid connection cannot fix itself by waiting
            yield TriggerEvent(connection_unusable(self.runway_task_id, err))
            return
        while True:
            await asyncio.sleep(tracker.sleep_for(time.time()))
            event = await self.poll_once(hook, tracker) if tracker.poll_due(time.time()) else None
            event = event or tracker.timed_out(time.time())
            if event is not None:
                yield TriggerEvent(event)
                return

    async def on_kill(self) -> None:
        """A user marked the deferred task failed/success or cleared it: stop paying for it.

        Deliberately not in ``cleanup()``, which also runs on every triggerer restart.
        """
        if not self.cancel_on_kill:
            return
        try:
            await (await self.runway_hook()).acancel_task(self.runway_task_id)
        except Exception as err:  # best effort: the task may already be finished
            self.log.warning("Could not cancel Runway task %s: %s", self.runway_task_id, err)
