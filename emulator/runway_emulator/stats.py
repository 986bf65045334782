"""The accounting view behind ``GET /_emulator/stats``: what tests assert on.

Creates (and refused attempts), polls per task with their smallest interval, cancels, deletes
(``finished`` counts DELETEs that hit an already finished task: each destroyed a paid-for
output, so a provider that only cancels what is still going keeps it at 0), admin actions,
faults fired and every task's status now. All times are the emulator's clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from runway_emulator.protocol import CANCELLED, FAILED, TERMINAL

if TYPE_CHECKING:
    from runway_emulator.state import EmulatorState


def emulator_stats(state: EmulatorState) -> dict[str, Any]:
    now = state.clock()
    state.catch_up(now)
    tasks: dict[str, Any] = {}
    polls: dict[str, Any] = {}
    counts: dict[str, int] = {}
    active: list[str] = []
    cancels = list(state.cancels)
    for task in state.tasks.values():
        status, progress = state.status(task, now)
        counts[status] = counts.get(status, 0) + 1
        if status not in TERMINAL:
            active.append(task.id)
        if status == CANCELLED and task.cancel_source == "fault":
            cancels.append({"task_id": task.id, "at": task.cancel_at, "source": "fault", "status_before": None})
        tasks[task.id] = {
            "status": status,
            "flavor": task.flavor,
            "endpoint": task.endpoint,
            "model": task.model,
            "created_at": task.created_at,
            "started_at": task.started_at if task.started_at is not None and task.started_at <= now else None,
            "finished_at": state.finished_at(task, status),
            "progress": progress,
            "deleted": task.deleted,
            "cancel_source": task.cancel_source if status == CANCELLED else None,
            "failure_code": task.failure_code if status == FAILED else None,
            "polls": task.poll_count,
            "credits": state.charged(task, status),
            "emulator": dict(task.notes),
        }
        if task.poll_count:
            polls[task.id] = {
                "count": task.poll_count,
                "times": list(task.poll_times),
                "min_interval": _min_interval(task.poll_times),
            }
    fired: dict[str, int] = {}
    for item in state.faults_fired:
        fired[item["kind"]] = fired.get(item["kind"], 0) + 1
    return {
        "now": now,
        "clock_offset": state.clock.offset,
        "requests_total": state.requests_total,
        # attempts: create requests that reached the emulator, refused ones included
        "creates": {"count": len(state.creates), "attempts": state.create_attempts, "items": list(state.creates)},
        "polls": {
            "count": sum(t.poll_count for t in state.tasks.values()),
            "unknown_ids": state.unknown_polls,
            "by_task": polls,
        },
        "cancels": {"count": len(cancels), "items": sorted(cancels, key=lambda c: c["at"] or 0.0)},
        "deletes": {
            "count": len(state.deletes),
            "finished": sum(1 for d in state.deletes if d["finished"]),
            "items": list(state.deletes),
        },
        "admin_actions": list(state.admin_actions),
        "faults_fired": {"count": len(state.faults_fired), "by_kind": fired, "items": list(state.faults_fired)},
        "uploads": state.uploads.view(),
        "status_counts": counts,
        "active_tasks": active,
        "tasks": tasks,
    }


def _min_interval(times: Iterable[float]) -> float | None:
    seq = list(times)
    if len(seq) < 2:
        return None
    return min(b - a for a, b in itertools.pairwise(seq))
