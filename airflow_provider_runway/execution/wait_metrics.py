"""The end of a wait, counted: the credits the API charged for the task and how long it took.

Called once per Runway task whose wait ended (the operator's, the sensor's, a batch's), with
the final event every wait mode produces (``wait_tracker.wait_event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_runway.observability.metrics import count_credits_charged, time_wait
from airflow_provider_runway.runway.remote_task import read_credits


def seconds_since(created_at: Any, now: datetime | None = None) -> float | None:
    """Seconds from the API's ``createdAt`` (ISO 8601) to ``now``; None when it is missing or unreadable."""
    if not isinstance(created_at, str) or not created_at.strip():
        return None
    try:
        created = datetime.fromisoformat(created_at.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - created).total_seconds())


def count_wait_end(event: Mapping[str, Any], *, endpoint: str | None, now: datetime | None = None) -> None:
    """The task's final ``cost`` (when the API gave one) and its time from creation to the end of the wait."""
    task = event.get("task") or {}
    status = event.get("status")
    charged = read_credits(task.get("cost"))
    if charged is not None:
        count_credits_charged(charged, endpoint=endpoint, status=status)
    seconds = seconds_since(task.get("createdAt"), now)
    if seconds is not None:
        time_wait(seconds, endpoint=endpoint, status=status)
