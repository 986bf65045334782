"""RunwayBatchTrigger: one trigger waits for every running Runway task of a batch task.

Serialised as plain JSON (the chunk's task ids with their deadlines, never a payload), so any
triggerer can rebuild and restart it at any time. Each task keeps its own poll grid and its own
``WaitTracker`` — the decision every Runway wait shares — and all polls go through the one aiohttp
session the triggerer's loop already has. It fires one event once ``resume_when`` tasks have
ended (the batch task then stores those outputs and submits more pictures), or all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_runway.execution.wait_tracker import (
    WaitTracker,
    connection_unusable,
)
from airflow_provider_runway.triggers.polling import RunwayPollingTrigger


class RunwayBatchTrigger(RunwayPollingTrigger):
    """Wait for several Runway tasks; fire once ``resume_when`` of them have ended.

    :param runway_task_ids: the running tasks, each with its wall-clock deadline (epoch seconds,
        or None to wait forever): ``{task_id: deadline}``.
    :param runway_conn_id: the ``runway`` connection (read with ``aget_connection``).
    :param poll_interval: mean seconds between polls of one task.
    :param resume_when: how many ended tasks make the event (at most all of them).
    :param not_visible_until: epoch seconds until which ``task_not_exist`` means "not yet visible".
    :param cancel_on_kill: cancel the still-running tasks when a user kills the deferred task (Airflow >= 3.3).
    :param max_unreadable: consecutive malformed answers tolerated per task before a clear error.
    :param hold_until: epoch seconds before which no event fires. Airflow's scheduler takes the
        worker's exit after ``defer()`` for the resumed run's when a trigger fires before it saw
        that exit, and fails the task (apache/airflow#67287, #71580, #72716; 3.3.2 guards only
        the SCHEDULED case): the event waits until the scheduler surely saw it.
    """

    def __init__(
        self,
        runway_task_ids: Mapping[str, float | None],
        runway_conn_id: str = "runway_default",
        poll_interval: float = 10.0,
        resume_when: int = 1,
        not_visible_until: float | None = None,
        cancel_on_kill: bool = True,
        max_unreadable: int = 10,
        hold_until: float | None = None,
    ) -> None:
        super().__init__()
        self.runway_task_ids = {str(k): (None if v is None else float(v)) for k, v in runway_task_ids.items()}
        self.runway_conn_id = runway_conn_id
        self.poll_interval = float(poll_interval)
        self.resume_when = max(1, min(int(resume_when), len(self.runway_task_ids)))
        self.not_visible_until = time.time() if not_visible_until is None else float(not_visible_until)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.max_unreadable = int(max_unreadable)
        self.hold_until = None if hold_until is None else float(hold_until)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "runway_task_ids": self.runway_task_ids,
                "runway_conn_id": self.runway_conn_id,
                "poll_interval": self.poll_interval,
                "resume_when": self.resume_when,
                "not_visible_until": self.not_visible_until,
                "cancel_on_kill": self.cancel_on_kill,
                "max_unreadable": self.max_unreadable,
                "hold_until": self.hold_until,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        trackers = [
            WaitTracker(
                task_id=task_id,
                deadline=deadline,
                not_visible_until=self.not_visible_until,
                poll_interval=self.poll_interval,
                max_unreadable=self.max_unreadable,
            )
            for task_id, deadline in self.runway_task_ids.items()
        ]
        try:
            hook = await self.runway_hook()
            await hook.aget_settings()
        except Exception as err:  # a missing or invalid connection cannot fix itself by waiting
            yield TriggerEvent({"ended": {t.task_id: connection_unusable(t.task_id, err) for t in trackers}})
            return
        ended: dict[str, dict[str, Any]] = {}
        hold_until = self.hold_until or 0.0
        while len(ended) < self.resume_when or time.time() < hold_until:
            waiting = [t for t in trackers if t.task_id not in ended]
            if not waiting:
                await asyncio.sleep(max(0.0, hold_until - time.time()))
                break
            wake = min(t.sleep_for(time.time()) for t in waiting)
            if len(ended) >= self.resume_when:
                wake = min(wake, max(0.0, hold_until - time.time()))
            await asyncio.sleep(wake)
            due = [t for t in waiting if t.poll_due(time.time())]
            events = await asyncio.gather(*(self.poll_once(hook, t) for t in due))
            for tracker, event in zip(due, events, strict=True):
                if event is not None:
                    ended[tracker.task_id] = event
            for tracker in waiting:
                timed_out = None if tracker.task_id in ended else tracker.timed_out(time.time())
                if timed_out is not None:
                    ended[tracker.task_id] = timed_out
        yield TriggerEvent({"ended": ended})

    async def on_kill(self) -> None:
        """A user marked the deferred task failed/success or cleared it: stop paying for what still runs.

        Deliberately not in ``cleanup()``, which also runs on every triggerer restart.
        """
        if not self.cancel_on_kill:
            return
        hook = await self.runway_hook()
        for task_id in self.runway_task_ids:
            try:
                await hook.acancel_task(task_id)
            except Exception as err:  # best effort: the task may already be finished
                self.log.warning("Could not cancel Runway task %s: %s", task_id, err)
