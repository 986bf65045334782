"""What every Runway trigger does the same way: get the hook off the event loop, and poll one task.

Both triggers hand each poll's outcome to ``WaitTracker.decide`` (the decision every Runway wait
shares) and differ only in how many tasks they watch and when they fire.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow.triggers.base import BaseTrigger

from airflow_provider_runway.execution.wait_tracker import POLL_RETRY_POLICY, PollOutcome, WaitTracker
from airflow_provider_runway.runway.errors import RunwayError
from airflow_provider_runway.triggers.background_import import HOOK_IMPORT


class RunwayPollingTrigger(BaseTrigger):
    """A trigger that polls Runway tasks through the ``runway_conn_id`` connection."""

    runway_conn_id: str

    async def runway_hook(self) -> Any:
        """The hook, its module imported once per process in a thread of its own (never on the loop)."""
        module = await asyncio.wrap_future(HOOK_IMPORT.future())
        return module.RunwayHook(self.runway_conn_id, retry_policy=POLL_RETRY_POLICY)

    async def poll_once(self, hook: Any, tracker: WaitTracker) -> dict[str, Any] | None:
        """One poll of the tracker's task; its final event or None. The I/O half of ``WaitTracker.decide``."""
        at = time.time()
        outcome: PollOutcome
        try:
            outcome = await hook.aget_task(tracker.task_id)
        except RunwayError as err:
            outcome = err
        return tracker.decide(outcome, at).log_to(self.log)
