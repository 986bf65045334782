"""Tasks, their lifecycle and the commands that change them. No I/O, no asyncio, no HTTP.

Status is never advanced by a timer: every read computes it from the clock, so the emulator
costs nothing while idle, a unit test can drive it with a fake clock, and moving the clock
(``clock.advance``) jumps every task ahead at once. The only stored progress is the FIFO start
schedule (``catch_up``), replayed in time order because a task may start only when a
concurrency slot frees up.

Lifecycle: PENDING for ``pending_seconds``; then RUNNING if a slot is free (at most
``max_concurrency`` tasks RUNNING), else THROTTLED in FIFO order (``throttle_extra`` adds a
further wait); RUNNING for ``generation_seconds`` with progress 0 -> 1; then SUCCEEDED.
A prompt containing a safety word FAILS (SAFETY.INPUT.TEXT) when PENDING ends. Each task ends
with the first of three events: done (SUCCEEDED), fail (FAILED), cancel (CANCELLED); the
admin commands ``complete`` and ``fail`` simply set that event to now.

DELETE follows Runway's documented semantics (runwayml 5.24.0, ``resources/tasks.py``
``TasksResource.delete``: "Tasks that are running, pending, or throttled can be canceled by
invoking this method. Invoking this method for other tasks will delete them. Refund
eligibility is based on the task status observed by the server during cancellation. If that
check observes RUNNING, cancellation does not refund credits ... Deleting a completed task
does not refund its charge ... Aborted and deleted tasks will not be able to be fetched
again"): a DELETE cancels a task still going and deletes a finished one with its output;
either way the API forgets it.

Money: each task holds the estimate the API gave at create (priced by the caller, see
``prices.py``); ``charged`` says what it costs in each status.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from runway_emulator.clock import Clock, OffsetClock
from runway_emulator.config import EmulatorConfig
from runway_emulator.prices import charge
from runway_emulator.protocol import CANCELLED, FAILED, PENDING, RUNNING, RUNWAY, SUCCEEDED, TERMINAL, THROTTLED
from runway_emulator.uploads import UploadStore

SAFETY_CODE = "SAFETY.INPUT.TEXT"
SAFETY_MESSAGE = "Your prompt text was flagged by our content moderation system. Please revise it and try again."
DAY = 86_400.0
MAX_POLL_TIMES = 10_000  # per task; the count keeps going
# Ties between end events go to the one listed first (a cancel at the very moment a task
# finishes leaves it finished, as the cancel arrives too late).
_END_ORDER = {SUCCEEDED: 0, FAILED: 1, CANCELLED: 2}


@dataclass(frozen=True)
class TaskInputs:
    """Input media resolved when the task was created (the emulator never fetches a remote URL).

    ``picture``: the first image or video input (a video's first frame is used); ``timing``: the
    input whose length the output follows (an input video or audio); ``placeholder``: a remote
    input stood behind the picture, so the output is the marked placeholder.
    """

    picture: bytes | None = None
    timing: bytes | None = None
    placeholder: bool = False


class TaskStateError(ValueError):
    """The command does not apply to the task in its current status (e.g. completing a FAILED task)."""


def default_failure_message(code: str) -> str:
    """A ``failure`` text in the spirit of Runway's for a failure code (task-failures page)."""
    if code in (SAFETY_CODE, "INPUT_PREPROCESSING.SAFETY.TEXT"):
        return SAFETY_MESSAGE
    if code.startswith("SAFETY."):
        return "The task was rejected by our content moderation system."
    if code.startswith("INTERNAL.BAD_OUTPUT"):
        return "The generated output was rejected by our internal quality checks."
    if code.startswith("ASSET."):
        return "An input asset could not be used."
    return "An internal error occurred while processing the task."


def iso_z(ts: float) -> str:
    """Epoch seconds -> ISO-8601 with milliseconds and a Z, as Runway writes createdAt."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(eq=False)
class Task:
    """One generation task and the times that determine its status."""

    id: str
    flavor: str
    endpoint: str
    body: dict[str, Any]
    created_at: float
    created_iso: str
    pending_until: float
    eligible_at: float
    # The credits the API estimated at create ("the maximum credits this task may charge").
    estimate: float
    fail_at: float | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    cancel_at: float | None = None
    cancel_source: str | None = None
    started_at: float | None = None
    done_at: float | None = None
    deleted: bool = False
    # What the emulator could not emulate faithfully, shown in the task object ("emulator": {...}).
    notes: dict[str, str] = field(default_factory=dict)
    inputs: TaskInputs = field(default_factory=TaskInputs)
    poll_count: int = 0
    poll_times: list[float] = field(default_factory=list)
    # Facts derived from the (never changing) body, computed once: see task_endpoints.output_facts.
    facts: dict[str, Any] = field(default_factory=dict)
    # What usage reports the task under when its body names no model (router: the model it chose;
    # recipes: the recipe's endpoint).
    billed_as: str = ""
    # What it finally costs when lower than the estimate (``duration: "auto"``); None: the estimate.
    final: float | None = None

    @property
    def model(self) -> str:
        return str(self.body.get("model") or self.billed_as)

    @property
    def credits(self) -> int:
        """The whole credits the task finally costs (``cost.credits`` once it succeeded)."""
        return charge(self.estimate if self.final is None else self.final)

    def ran_before_cancel(self) -> bool:
        """Whether the task was RUNNING when it was cancelled (then the cancel refunds nothing)."""
        return self.started_at is not None and self.cancel_at is not None and self.started_at <= self.cancel_at

    def ending(self) -> tuple[str, float] | None:
        """(terminal status, when) of the first end event scheduled, whenever it is."""
        best: tuple[str, float] | None = None
        for status, at in ((SUCCEEDED, self.done_at), (FAILED, self.fail_at), (CANCELLED, self.cancel_at)):
            if at is not None and (best is None or (at, _END_ORDER[status]) < (best[1], _END_ORDER[best[0]])):
                best = (status, at)
        return best

    def slot_end(self) -> float:
        """When this started task frees its concurrency slot."""
        assert self.started_at is not None
        ending = self.ending()
        return self.started_at if ending is None else max(ending[1], self.started_at)


class EmulatorState:
    """All tasks and counters; owned by one thread (the server's event loop)."""

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock = time.time) -> None:
        self.clock = OffsetClock(clock)
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
        self.deletes: list[dict[str, Any]] = []
        self.admin_actions: list[dict[str, Any]] = []
        self.faults_fired: list[dict[str, Any]] = []
        self.unknown_polls = 0
        self.requests_total = 0
        self.uploads = UploadStore()

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Forget every task and counter and put the clock back to wall time."""
        if config is not None:
            self.config = config
        self.clock.reset()
        self._reset_data()

    # -- lifecycle ---------------------------------------------------------------------------

    def create(
        self,
        flavor: str,
        body: dict[str, Any],
        *,
        endpoint: str = "image_to_video",
        estimate: float = 0.0,
        final: float | None = None,
        billed_as: str = "",
        throttle_extra: float = 0.0,
        cancel_after: float | None = None,
        path: str = "",
        notes: Mapping[str, str] | None = None,
        inputs: TaskInputs | None = None,
        failure: tuple[str, str] | None = None,
    ) -> Task:
        """Register a task for an already validated body.

        ``failure`` (code, message): the task fails when PENDING ends, as Runway fails a task
        whose input it cannot use once it starts processing it.
        """
        now = self.clock()
        cfg = self.config
        pending_until = now + cfg.pending_seconds
        task = Task(
            id=str(uuid.uuid4()),
            flavor=flavor,
            endpoint=endpoint,
            body=body,
            created_at=now,
            created_iso=iso_z(now),
            pending_until=pending_until,
            eligible_at=pending_until + throttle_extra,
            estimate=estimate,
            final=final,
            billed_as=billed_as,
            notes=dict(notes or {}),
            inputs=inputs or TaskInputs(),
        )
        text = body.get("promptText")
        if isinstance(text, str) and any(w.lower() in text.lower() for w in cfg.safety_words):
            failure = (SAFETY_CODE, SAFETY_MESSAGE)
        if failure is not None:
            task.fail_at = pending_until
            task.failure_code, task.failure_message = failure
        else:
            self._queue.append(task)
        if cancel_after is not None:
            task.cancel_at, task.cancel_source = now + cancel_after, "fault"
        self.tasks[task.id] = task
        self.creates.append({"task_id": task.id, "flavor": flavor, "at": now, "model": task.model, "path": path})
        return task

    def catch_up(self, now: float) -> None:
        """Start queued tasks (FIFO) whose slot has freed up by ``now``."""
        queue, limit = self._queue, self.config.max_concurrency
        while queue:
            head = queue[0]
            candidate = max(head.eligible_at, self._last_start)
            ends = sorted(e for e in (t.slot_end() for t in self._running) if e > candidate)
            start = candidate if len(ends) < limit else ends[len(ends) - limit]
            ending = head.ending()
            if ending is not None and ending[1] <= start and ending[1] <= now:
                queue.popleft()  # cancelled or failed while waiting: never occupies a slot
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
        """(status, progress) at ``now``; call ``catch_up(now)`` first."""
        ending = task.ending()
        if ending is not None and ending[1] <= now:
            return ending[0], None
        if task.started_at is not None and task.done_at is not None:
            span = task.done_at - task.started_at
            return RUNNING, round(min(max((now - task.started_at) / span, 0.0), 1.0), 3)
        return (PENDING, None) if now < task.pending_until else (THROTTLED, None)

    def status_now(self, task: Task) -> tuple[str, float | None]:
        now = self.clock()
        self.catch_up(now)
        return self.status(task, now)

    def finished_at(self, task: Task, status: str) -> float | None:
        """When the task reached ``status``, if that is a terminal status."""
        ending = task.ending()
        return ending[1] if ending is not None and ending[0] == status else None

    def lookup(self, task_id: str, flavor: str) -> Task | None:
        """The task as the given flavor's API sees it (other flavor's and deleted ones are unknown)."""
        task = self.tasks.get(task_id)
        if task is None or task.deleted or task.flavor != flavor:
            return None
        return task

    def visible(self, task: Task, now: float) -> bool:
        """CometAPI only: false during the task_not_exist window right after create."""
        return now >= task.created_at + self.config.not_visible_seconds

    # -- commands ----------------------------------------------------------------------------

    def cancel(self, task: Task, source: str) -> str:
        """Cancel a task still going; returns the status it had before (a finished task is kept)."""
        now = self.clock()
        self.catch_up(now)
        before, _ = self.status(task, now)
        if before not in TERMINAL:
            task.cancel_at, task.cancel_source = now, source
        self.cancels.append({"task_id": task.id, "at": now, "source": source, "status_before": before})
        return before

    def delete(self, task: Task, source: str = "api") -> str:
        """Runway's DELETE: cancel a task still going, delete a finished one and its output."""
        before = self.cancel(task, source)
        task.deleted = True
        finished = before in TERMINAL
        self.deletes.append({"task_id": task.id, "at": self.clock(), "status_before": before, "finished": finished})
        return before

    def complete(self, task: Task) -> str:
        """Finish a task now with SUCCEEDED, whatever its schedule; returns the status before."""
        now, before = self._unfinished(task, "complete")
        if task.started_at is None:
            task.started_at = now
        task.done_at = now
        self.admin_actions.append({"task_id": task.id, "at": now, "action": "complete", "status_before": before})
        return before

    def fail(self, task: Task, code: str, message: str) -> str:
        """Fail a task now with a Runway failure code and message; returns the status before."""
        now, before = self._unfinished(task, "fail")
        task.fail_at, task.failure_code, task.failure_message = now, code, message
        self.admin_actions.append(
            {"task_id": task.id, "at": now, "action": "fail", "status_before": before, "failure_code": code}
        )
        return before

    def _unfinished(self, task: Task, action: str) -> tuple[float, str]:
        now = self.clock()
        self.catch_up(now)
        before, _ = self.status(task, now)
        if before in TERMINAL or task.deleted:
            raise TaskStateError(f"cannot {action} task {task.id}: it is already {before}")
        if task in self._queue:
            self._queue.remove(task)  # ends before it ever takes a slot
        return now, before

    # -- accounting --------------------------------------------------------------------------

    def record_poll(self, task: Task, now: float) -> None:
        task.poll_count += 1
        if len(task.poll_times) < MAX_POLL_TIMES:
            task.poll_times.append(now)

    def record_fault(self, kind: str, route: str, method: str, path: str) -> None:
        self.faults_fired.append({"kind": kind, "route": route, "method": method, "path": path, "at": self.clock()})

    def daily_creates(self, now: float) -> int:
        return sum(1 for c in self.creates if c["at"] > now - DAY)

    def charged(self, task: Task, status: str) -> int:
        """Credits a task is charged in ``status``: the estimate held while it runs, its final cost
        when it succeeds, refunded when it fails, and when cancelled refunded unless it was already
        RUNNING then (runwayml 5.24.0, ``TasksResource.delete``: "If that check observes RUNNING,
        cancellation does not refund credits")."""
        if status == FAILED or (status == CANCELLED and not task.ran_before_cancel()):
            return 0
        return task.credits if status in TERMINAL else charge(task.estimate)

    def charges(self, now: float, flavor: str) -> list[tuple[Task, int]]:
        """(task, credits charged) for every task of ``flavor`` that cost something; call ``catch_up`` first."""
        charged = ((task, self.charged(task, self.status(task, now)[0])) for task in self.tasks.values())
        return [(task, credits) for task, credits in charged if credits and task.flavor == flavor]

    def credits_spent(self, now: float, flavor: str = RUNWAY) -> int:
        """Credits the ``flavor`` account has been charged (CometAPI tasks are billed by CometAPI)."""
        return sum(credits for _task, credits in self.charges(now, flavor))
