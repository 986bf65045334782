"""Tasks, their lifecycle and the accounting tests assert on. No I/O, no asyncio.

Status is never advanced by a timer: every read computes it from the clock, so the emulator
costs nothing while idle and a unit test can drive it with a fake clock. The only stored
progress is the FIFO start schedule (``advance``), which needs to be replayed in time order
because a task may start only when a concurrency slot frees up.

Lifecycle: PENDING for ``pending_seconds``; then RUNNING if a slot is free (at most
``max_concurrency`` tasks RUNNING), else THROTTLED in FIFO order (``throttle_extra`` adds a
further wait); RUNNING for ``generation_seconds`` with progress 0 -> 1; then SUCCEEDED.
A prompt containing a safety word FAILS (SAFETY.INPUT.TEXT) when PENDING ends. A cancel
(API DELETE, admin, or the ``external_cancel`` fault) turns a non-terminal task CANCELLED.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_runway.emulator.config import EmulatorConfig
from airflow_provider_runway.models import RUNWAY
from airflow_provider_runway.tasks import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    THROTTLED,
)
from airflow_provider_runway.tasks import TERMINAL_STATUSES as TERMINAL

# CometAPI's outer envelope status for each Runway status (PENDING is split, see _outer_status).
OUTER_STATUS = {
    THROTTLED: "QUEUED",
    RUNNING: "IN_PROGRESS",
    SUCCEEDED: "SUCCESS",
    FAILED: "FAILURE",
    CANCELLED: "FAILURE",
}
SAFETY_CODE = "SAFETY.INPUT.TEXT"
SAFETY_MESSAGE = "Your prompt text was flagged by our content moderation system. Please revise it and try again."
CANCEL_MESSAGE = "The task was cancelled."
# Runway's published per-second credit prices (approximate; only for creditBalance/cost realism).
CREDITS_PER_SECOND = {"gen3a_turbo": 5, "gen4_turbo": 5, "gen4.5": 12, "veo3": 40, "veo3.1": 40, "veo3.1_fast": 15}
DAY = 86_400.0
MAX_POLL_TIMES = 10_000  # per task; the count keeps going

Clock = Callable[[], float]


def iso_z(ts: float) -> str:
    """Epoch seconds -> ISO-8601 with milliseconds and a Z, as Runway writes createdAt."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(eq=False)
class Task:
    """One image-to-video task and the times that determine its status."""

    id: str
    flavor: str
    body: dict[str, Any]
    created_at: float
    created_iso: str
    pending_until: float
    eligible_at: float
    credits: int
    fail_at: float | None = None
    cancel_at: float | None = None
    cancel_source: str | None = None
    started_at: float | None = None
    done_at: float | None = None
    deleted: bool = False
    poll_count: int = 0
    poll_times: list[float] = field(default_factory=list)

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def slot_end(self) -> float:
        """When this started task frees its concurrency slot."""
        assert self.started_at is not None and self.done_at is not None
        if self.cancel_at is not None and self.cancel_at < self.done_at:
            return max(self.cancel_at, self.started_at)
        return self.done_at


class EmulatorState:
    """All tasks and counters; owned by one thread (the server's event loop)."""

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock = time.time) -> None:
        self.clock = clock
        self.config = config or EmulatorConfig()
        self._reset_data()

    def _reset_data(self) -> None:
        self.tasks: dict[str, Task] = {}
        self._queue: deque[Task] = deque()
        self._running: list[Task] = []
        self._last_start = 0.0
        self.creates: list[dict[str, Any]] = []
        self.create_attempts = 0
        self.cancels: list[dict[str, Any]] = []
        self.faults_fired: list[dict[str, Any]] = []
        self.unknown_polls = 0
        self.requests_total = 0
        self.request_log: deque[dict[str, Any]] = deque(maxlen=self.config.request_log_size)

    def reset(self, config: EmulatorConfig | None = None) -> None:
        if config is not None:
            self.config = config
        self._reset_data()

    def set_config(self, config: EmulatorConfig) -> None:
        self.config = config
        if self.request_log.maxlen != config.request_log_size:
            self.request_log = deque(self.request_log, maxlen=config.request_log_size)

    # -- lifecycle ---------------------------------------------------------------------------

    def create(
        self,
        flavor: str,
        body: dict[str, Any],
        *,
        throttle_extra: float = 0.0,
        cancel_after: float | None = None,
        path: str = "",
    ) -> Task:
        """Register a task for an already validated body."""
        now = self.clock()
        cfg = self.config
        pending_until = now + cfg.pending_seconds
        duration = body.get("duration") if isinstance(body.get("duration"), int) else 5
        task = Task(
            id=str(uuid.uuid4()),
            flavor=flavor,
            body=body,
            created_at=now,
            created_iso=iso_z(now),
            pending_until=pending_until,
            eligible_at=pending_until + throttle_extra,
            credits=CREDITS_PER_SECOND.get(str(body.get("model")), 5) * int(duration or 5),
        )
        text = body.get("promptText")
        if isinstance(text, str) and any(w.lower() in text.lower() for w in cfg.safety_words):
            task.fail_at = pending_until
        else:
            self._queue.append(task)
        if cancel_after is not None:
            task.cancel_at, task.cancel_source = now + cancel_after, "fault"
        self.tasks[task.id] = task
        self.creates.append({"task_id": task.id, "flavor": flavor, "at": now, "model": task.model, "path": path})
        return task

    def advance(self, now: float) -> None:
        """Start queued tasks (FIFO) whose slot has freed up by ``now``."""
        queue, limit = self._queue, self.config.max_concurrency
        while queue:
            head = queue[0]
            candidate = max(head.eligible_at, self._last_start)
            ends = sorted(e for e in (t.slot_end() for t in self._running) if e > candidate)
            start = candidate if len(ends) < limit else ends[len(ends) - limit]
            if head.cancel_at is not None and head.cancel_at <= start and head.cancel_at <= now:
                queue.popleft()  # cancelled while waiting: never occupies a slot
                continue
            if start > now:
                break
            head.started_at, head.done_at = start, start + self.config.generation_seconds
            self._last_start = start
            self._running.append(head)
            queue.popleft()
        if self._running:
            # Safe: the queue head's start depends only on slot ends later than now.
            self._running = [t for t in self._running if t.slot_end() > now]

    def status(self, task: Task, now: float) -> tuple[str, float | None]:
        """(status, progress) at ``now``; call ``advance(now)`` first."""
        cancel_at = task.cancel_at
        if task.started_at is None or task.done_at is None:
            if cancel_at is not None and cancel_at <= now and (task.fail_at is None or cancel_at < task.fail_at):
                return CANCELLED, None
            if task.fail_at is not None:
                return (FAILED, None) if now >= task.fail_at else (PENDING, None)
            return (PENDING, None) if now < task.pending_until else (THROTTLED, None)
        if cancel_at is not None and cancel_at < task.done_at and now >= cancel_at:
            return CANCELLED, None
        if now >= task.done_at:
            return SUCCEEDED, None
        span = task.done_at - task.started_at
        return RUNNING, round(min(max((now - task.started_at) / span, 0.0), 1.0), 3)

    def status_now(self, task: Task) -> tuple[str, float | None]:
        now = self.clock()
        self.advance(now)
        return self.status(task, now)

    def finished_at(self, task: Task, status: str) -> float | None:
        if status == CANCELLED:
            return task.cancel_at
        if status == FAILED:
            return task.fail_at
        if status == SUCCEEDED:
            return task.done_at
        return None

    def lookup(self, task_id: str, flavor: str) -> Task | None:
        """The task as the given flavor's API sees it (other flavor's and deleted ones are unknown)."""
        task = self.tasks.get(task_id)
        if task is None or task.deleted or task.flavor != flavor:
            return None
        return task

    def visible(self, task: Task, now: float) -> bool:
        """CometAPI only: false during the task_not_exist window right after create."""
        return now >= task.created_at + self.config.not_visible_seconds

    def cancel(self, task: Task, source: str) -> str:
        """Cancel a non-terminal task now; returns the status it had before."""
        now = self.clock()
        self.advance(now)
        before, _ = self.status(task, now)
        if before not in TERMINAL:
            task.cancel_at, task.cancel_source = now, source
        self.cancels.append({"task_id": task.id, "at": now, "source": source, "status_before": before})
        return before

    def delete(self, task: Task, source: str = "api") -> str:
        """Runway's DELETE: cancel if still going, then hide the task from the API."""
        before = self.cancel(task, source)
        task.deleted = True
        return before

    def record_poll(self, task: Task, now: float) -> None:
        task.poll_count += 1
        if len(task.poll_times) < MAX_POLL_TIMES:
            task.poll_times.append(now)

    def record_fault(self, kind: str, route: str, method: str, path: str) -> None:
        self.faults_fired.append({"kind": kind, "route": route, "method": method, "path": path, "at": self.clock()})

    def daily_creates(self, now: float) -> int:
        return sum(1 for c in self.creates if c["at"] > now - DAY)

    def credits_spent(self, now: float) -> int:
        spent = 0
        for task in self.tasks.values():
            status, _ = self.status(task, now)
            # Cancelled before it ever ran: fully refunded, as Runway does.
            if not (status == CANCELLED and task.started_at is None):
                spent += task.credits
        return spent

    # -- wire shapes -------------------------------------------------------------------------

    def bare(self, task: Task, now: float, output_url: Callable[[Task], str]) -> dict[str, Any]:
        """The Runway task object at ``now`` (call ``advance`` first)."""
        status, progress = self.status(task, now)
        out: dict[str, Any] = {"id": task.id, "status": status, "createdAt": task.created_iso}
        if status == RUNNING:
            out["progress"] = progress
        elif status == SUCCEEDED:
            out["output"] = [output_url(task)]
        elif status == FAILED:
            out["failure"], out["failureCode"] = SAFETY_MESSAGE, SAFETY_CODE
        if task.flavor == RUNWAY:
            # Runway's own API also reports cost; CometAPI's inner object does not.
            if status in TERMINAL:
                charged = 0 if status == CANCELLED and task.started_at is None else task.credits
                out["cost"] = {"credits": charged}
            else:
                out["estimatedCost"] = {"credits": task.credits}
        return out

    def wrapped(self, bare: dict[str, Any], task: Task, now: float) -> dict[str, Any]:
        """CometAPI's envelope around a bare task (whose status may be a fault's unknown value)."""
        status = bare["status"]
        if status == PENDING:
            # Seen both: SUBMITTED just after create, QUEUED a moment later.
            outer = "SUBMITTED" if now < task.created_at + self.config.pending_seconds / 2 else "QUEUED"
        else:
            outer = OUTER_STATUS.get(status, status)
        percent = {SUCCEEDED: 100, RUNNING: int(100 * (bare.get("progress") or 0.0))}.get(status, 0)
        finished = self.finished_at(task, status) if status in TERMINAL else None
        data: dict[str, Any] = {
            "task_id": task.id,
            "action": "IMAGE_TO_VIDEO",
            "status": outer,
            "fail_reason": bare.get("failure") or (CANCEL_MESSAGE if status == CANCELLED else ""),
            "submit_time": int(task.created_at),
            "start_time": int(task.started_at) if task.started_at is not None and task.started_at <= now else 0,
            "finish_time": int(finished) if finished is not None else 0,
            "progress": f"{percent}%",
            "data": bare,
        }
        if status == SUCCEEDED:
            data["result_url"] = bare["output"][0]
        return {"code": "success", "message": "", "data": data}

    # -- accounting --------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        now = self.clock()
        self.advance(now)
        tasks: dict[str, Any] = {}
        polls: dict[str, Any] = {}
        counts: dict[str, int] = {}
        active: list[str] = []
        cancels = list(self.cancels)
        for task in self.tasks.values():
            status, progress = self.status(task, now)
            counts[status] = counts.get(status, 0) + 1
            if status not in TERMINAL:
                active.append(task.id)
            if status == CANCELLED and task.cancel_source == "fault":
                cancels.append({"task_id": task.id, "at": task.cancel_at, "source": "fault", "status_before": None})
            tasks[task.id] = {
                "status": status,
                "flavor": task.flavor,
                "model": task.model,
                "created_at": task.created_at,
                "started_at": task.started_at if task.started_at is not None and task.started_at <= now else None,
                "finished_at": self.finished_at(task, status),
                "progress": progress,
                "deleted": task.deleted,
                "cancel_source": task.cancel_source if status == CANCELLED else None,
                "failure_code": SAFETY_CODE if status == FAILED else None,
                "polls": task.poll_count,
            }
            if task.poll_count:
                polls[task.id] = {
                    "count": task.poll_count,
                    "times": list(task.poll_times),
                    "min_interval": _min_interval(task.poll_times),
                }
        fired: dict[str, int] = {}
        for item in self.faults_fired:
            fired[item["kind"]] = fired.get(item["kind"], 0) + 1
        return {
            "now": now,
            "requests_total": self.requests_total,
            # attempts: create requests that reached the emulator, refused ones included
            "creates": {"count": len(self.creates), "attempts": self.create_attempts, "items": list(self.creates)},
            "polls": {
                "count": sum(t.poll_count for t in self.tasks.values()),
                "unknown_ids": self.unknown_polls,
                "by_task": polls,
            },
            "cancels": {"count": len(cancels), "items": sorted(cancels, key=lambda c: c["at"] or 0.0)},
            "faults_fired": {"count": len(self.faults_fired), "by_kind": fired, "items": list(self.faults_fired)},
            "status_counts": counts,
            "active_tasks": active,
            "tasks": tasks,
        }


def _min_interval(times: Iterable[float]) -> float | None:
    seq = list(times)
    if len(seq) < 2:
        return None
    return min(b - a for a, b in itertools.pairwise(seq))


def input_image(body: Mapping[str, Any]) -> str | None:
    """The URI of the (first) prompt image in a validated body."""
    value = body.get("promptImage")
    if isinstance(value, list):
        frames = [f for f in value if isinstance(f, Mapping)]
        first = next((f for f in frames if f.get("position") == "first"), frames[0] if frames else None)
        return str(first["uri"]) if first is not None else None
    return value if isinstance(value, str) else None
