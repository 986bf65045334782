"""A task as each flavor's API writes it: Runway's bare object and CometAPI's envelope.

Pure functions of a task, its status and the config. Field names follow the runwayml SDK's
``types/task_retrieve_response.py`` (5.24.0: ``estimatedCost`` while PENDING, THROTTLED or
RUNNING, ``cost`` once SUCCEEDED, FAILED or CANCELLED); CometAPI's envelope is what its API was
seen to answer (both shapes exist in the wild, see ``comet_poll_shape``).

``comet_failure_detail`` reproduces how much of a failure CometAPI passes on: ``full`` (the
inner task with Runway's ``failureCode``), ``no_code`` (the inner task's ``failure`` text but no
``failureCode``) or ``reason_only`` (no inner task at all: only the envelope's ``fail_reason``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runway_emulator.protocol import CANCELLED, FAILED, PENDING, RUNNING, RUNWAY, SUCCEEDED, TERMINAL, THROTTLED
from runway_emulator.state import EmulatorState, Task
from runway_emulator.task_endpoints import endpoint_named, outputs_of

if TYPE_CHECKING:
    from runway_emulator.config import EmulatorConfig

# CometAPI's outer envelope status for each Runway status (PENDING is split, see wrapped_task).
OUTER_STATUS = {
    THROTTLED: "QUEUED",
    RUNNING: "IN_PROGRESS",
    SUCCEEDED: "SUCCESS",
    FAILED: "FAILURE",
    CANCELLED: "FAILURE",
}
CANCEL_MESSAGE = "The task was cancelled."

OutputUrl = Callable[[Task, int], str]  # (task, output index) -> signed URL


def bare_task(state: EmulatorState, task: Task, now: float, output_url: OutputUrl) -> dict[str, Any]:
    """The Runway task object at ``now`` (call ``state.catch_up(now)`` first)."""
    status, progress = state.status(task, now)
    out: dict[str, Any] = {"id": task.id, "status": status, "createdAt": task.created_iso}
    if status == RUNNING:
        out["progress"] = progress
    elif status == SUCCEEDED:
        out["output"] = [output_url(task, index) for index in range(outputs_of(task))]
    elif status == FAILED:
        out["failure"] = task.failure_message
        if task.flavor == RUNWAY or state.config.comet_failure_detail == "full":
            out["failureCode"] = task.failure_code
    # Money as the SDK types it (5.14+): an estimate until the task ends, then the whole
    # credits charged. CometAPI passes Runway's task object on, money included.
    if status in TERMINAL:
        out["cost"] = {"credits": state.charged(task, status)}
    else:
        out["estimatedCost"] = {"credits": task.estimate}
    if task.notes:
        out["emulator"] = dict(task.notes)
    return out


def wrapped_task(state: EmulatorState, bare: dict[str, Any], task: Task, now: float) -> dict[str, Any]:
    """CometAPI's envelope around a bare task (whose status may be a fault's unknown value)."""
    config: EmulatorConfig = state.config
    status = bare["status"]
    if status == PENDING:
        # Seen both: SUBMITTED just after create, QUEUED a moment later.
        outer = "SUBMITTED" if now < task.created_at + config.pending_seconds / 2 else "QUEUED"
    else:
        outer = OUTER_STATUS.get(status, status)
    percent = {SUCCEEDED: 100, RUNNING: int(100 * (bare.get("progress") or 0.0))}.get(status, 0)
    finished = state.finished_at(task, status) if status in TERMINAL else None
    data: dict[str, Any] = {
        "task_id": task.id,
        "action": endpoint_named(task.endpoint).action,
        "status": outer,
        "fail_reason": bare.get("failure") or (CANCEL_MESSAGE if status == CANCELLED else ""),
        "submit_time": int(task.created_at),
        "start_time": int(task.started_at) if task.started_at is not None and task.started_at <= now else 0,
        "finish_time": int(finished) if finished is not None else 0,
        "progress": f"{percent}%",
    }
    if not (status == FAILED and config.comet_failure_detail == "reason_only"):
        data["data"] = bare
    if status == SUCCEEDED:
        data["result_url"] = bare["output"][0]
    return {"code": "success", "message": "", "data": data}
