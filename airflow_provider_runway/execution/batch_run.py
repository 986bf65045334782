"""One batch task's pictures through the single-create path, picture by picture, never paying twice.

Each picture is prepared, created, waited on and stored by the same code a single create uses
(``prepare``, the hook, ``WaitTracker``, ``store``), so every promise holds per picture: bad
input fails before its paid call, an already-stored output is skipped, its sidecar and outcome
are written, a content refusal is never resubmitted. What the batch adds is the ledger
(``batch.ledger``), saved right after every create, and the refill: up to ``max_in_flight``
Runway tasks running at once, the next picture submitted as others end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airflow_provider_runway.batch.ledger import (
    NOT_STARTED,
    PENDING,
    SUBMITTED,
    BatchLedger,
    ItemEntry,
    refill_count,
)
from airflow_provider_runway.execution.checkpoint import TaskStateRecord, ensure_supervised, keep_created
from airflow_provider_runway.execution.outcomes import (
    ITEM_OUTCOMES,
    STORE_FAILED,
    record_failure,
    record_wait_failure,
)
from airflow_provider_runway.execution.prepare import prepare_request
from airflow_provider_runway.execution.store import store_output
from airflow_provider_runway.execution.submitted_tasks import REUSE, SUBMIT, decide_earlier_task
from airflow_provider_runway.execution.wait_metrics import count_wait_end
from airflow_provider_runway.execution.wait_tracker import ERROR, SUCCESS, TIMEOUT
from airflow_provider_runway.media.sidecars import FAILED
from airflow_provider_runway.runway.bodies import compose_body
from airflow_provider_runway.runway.credit_caps import as_credits
from airflow_provider_runway.runway.credits import estimate_credits, task_credits
from airflow_provider_runway.runway.errors import (
    CreateOutcomeUnknownError,
    InvalidRequestError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
)
from airflow_provider_runway.runway.failures import classify_failure
from airflow_provider_runway.runway.remote_task import PENDING as RUNWAY_PENDING
from airflow_provider_runway.runway.remote_task import CreatedTask, RunwayTask

LEDGER_RECORD = "runway_batch"
CREATE_FAILED = "CREATE_FAILED"
CREATE_OUTCOME_UNKNOWN = "CREATE_OUTCOME_UNKNOWN"
# What a new try of the batch does with a picture that failed.
RESUBMIT, RESTORE, KEEP = "resubmit", "restore", "keep"


def on_retry(record: Mapping[str, Any] | None) -> str:
    """RESUBMIT when nothing was paid or Runway allows submitting again; RESTORE (reconnect, store
    again, pay nothing) when only storing failed; KEEP (stays failed) otherwise: a content refusal,
    a create whose outcome is unknown, a wait that gave up, an input refused before any call."""
    code = str((record or {}).get("failure_code") or "")
    if code == STORE_FAILED:
        return RESTORE
    if code == CREATE_FAILED:
        return RESUBMIT
    return RESUBMIT if code and classify_failure(code).retry_allowed else KEEP


class ItemRequest:
    """One picture of a batch, read the way the single-create code reads an operator."""

    def __init__(self, op: Any, item: Mapping[str, Any]) -> None:
        self._op, self._item = op, item
        self.endpoint: str = op.endpoint
        self.lenient: bool = op.lenient
        self.idempotent: bool = op.idempotent
        self.input_conn_id: str | None = op.input_conn_id
        self.output_path: str = op.output_path
        self.output_conn_id: str | None = op.output_conn_id
        self.runway_conn_id: str = op.runway_conn_id
        self.task_id: str = op.task_id
        self.log = op.log
        self.outlets: list[Any] = []  # the batch emits its asset events once, when it ends
        self.upstream_task_ids: tuple[str, ...] = ()

    def request_fields(self) -> dict[str, Any]:
        named = {wire: self._item.get(name) for name, wire in self._op.body_fields.items()}
        return {wire: value for wire, value in named.items() if value is not None}

    def request_body(self, flavor: str) -> dict[str, Any]:
        return compose_body(self.endpoint, self.request_fields(), extra_body=self._op.extra_body, flavor=flavor)


class BatchRun:
    """One resume of a batch task: its ledger, its hook, and what each step does to the pictures."""

    def __init__(self, op: Any, context: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> None:
        from airflow_provider_runway.hooks.runway import RunwayHook

        self.op, self.context, self.items = op, context, items
        self.hook = RunwayHook(op.runway_conn_id)
        self._record = TaskStateRecord(context, op.log, LEDGER_RECORD)
        stored = self._record.get("the Runway tasks an earlier try of this batch created")
        self.ledger = BatchLedger.resume(stored, [str(item.get("prompt_image")) for item in items])

    def save(self) -> bool:
        return self._record.set(self.ledger.to_json(), "this batch's Runway tasks: a retry would submit them again")

    def forget(self) -> None:
        self._record.clear()

    def _item(self, entry: ItemEntry) -> tuple[ItemRequest, dict[str, Any], list[dict[str, Any]]]:
        collected: list[dict[str, Any]] = []
        context = {k: v for k, v in self.context.items() if k != "outlet_events"}
        context[ITEM_OUTCOMES] = collected
        return ItemRequest(self.op, {**self.op.defaults, **self.items[entry.index]}), context, collected

    # -- a new try: reconnect to what an earlier one created ------------------------------------

    def reconnect(self) -> None:
        """Keep what an earlier try created and is usable; let retryable failures be made again."""
        for entry in self.ledger.with_status(FAILED):
            action = on_retry(entry.record)
            if action == RESUBMIT:
                entry.status, entry.record, entry.runway_task_id = PENDING, None, None
            elif action == RESTORE and entry.runway_task_id:
                entry.status, entry.record = SUBMITTED, None
        for entry in self.ledger.in_flight():
            runway_task_id = str(entry.runway_task_id)
            task: RunwayTask | None
            try:
                task = self.hook.get_task(runway_task_id)
            except RunwayTaskNotVisibleError:
                task = RunwayTask(id=runway_task_id, status=RUNWAY_PENDING)
            except RunwayTaskNotFoundError:
                task = None
            decision = decide_earlier_task(runway_task_id, task, resubmit_on_failure=self.op.resubmit_on_failure)
            self.op.log.info("%s: %s", entry.picture, decision.message)
            if decision.action == REUSE:
                continue
            if decision.action == SUBMIT:
                entry.status, entry.runway_task_id = PENDING, None
            else:
                self._failed(entry, str((task and task.failure_code) or "FAILED"), decision.message)
        self.save()

    # -- pictures whose Runway task ended ---------------------------------------------------------

    def settle(self, ended: Mapping[str, Mapping[str, Any]]) -> None:
        """Store each succeeded task's output and record every end; one picture's failure stays its own."""
        for runway_task_id, event in ended.items():
            entry = self.ledger.by_task_id(runway_task_id)
            if entry is None:  # already settled by an earlier resume
                continue
            item, context, collected = self._item(entry)
            count_wait_end(event, endpoint=item.endpoint)
            try:
                if event.get("status") == SUCCESS:
                    store_output(item, context, event.get("task") or {}, request=entry.request)
                else:
                    if event.get("status") in (TIMEOUT, ERROR):  # the wait gave up: stop what it leaves behind
                        self._cancel(runway_task_id)
                    record_wait_failure(item, context, event, request=entry.request)
            except Exception as err:  # storing failed: the outcome (STORE_FAILED) is already collected
                self.op.log.error("%s: %s", entry.picture, err)
            record = collected[-1] if collected else {"outcome": FAILED, "message": str(event.get("message"))}
            self.ledger.finished(entry, str(record.get("outcome")), record)
        self.save()

    # -- submitting more --------------------------------------------------------------------------

    def refill(self) -> None:
        """Submit pictures until ``max_in_flight`` run at once, or the budget would be exceeded."""
        waiting = self.ledger.with_status(PENDING)
        wanted = refill_count(len(self.ledger.in_flight()), len(waiting), self.op.max_in_flight)
        for entry in self._next(waiting, wanted):
            self._submit(entry)

    def _next(self, waiting: list[ItemEntry], wanted: int) -> Iterator[ItemEntry]:
        """Pending pictures in order until ``wanted`` were submitted (skipped and refused ones do not count)."""
        for entry in waiting:
            if wanted <= 0 or entry.status != PENDING:
                return
            before = len(self.ledger.in_flight())
            yield entry
            wanted -= len(self.ledger.in_flight()) - before

    def _submit(self, entry: ItemEntry) -> None:
        item, context, collected = self._item(entry)
        try:
            prepared = prepare_request(item, context, self.hook)
        except (InvalidRequestError, ValueError):
            self.ledger.finished(entry, FAILED, collected[-1])  # the input was refused before any paid call
            return
        if prepared.done is not None:
            self.ledger.finished(entry, str(collected[-1].get("outcome")), collected[-1])
            return
        estimate = estimate_credits(item.endpoint, prepared.checked.body, prepared.flavor)
        if self._over_budget(estimate.credits):
            return
        ensure_supervised(self._record)

        def remember(created: CreatedTask) -> None:  # before anything else: a retry reconnects, never pays again
            credits = task_credits(estimate.credits, created.estimated_credits)
            request = {**prepared.request, "runway_task_id": created.id, "credits": credits}
            self.ledger.submitted(entry, created.id, request, time.time(), credits["estimated"])
            keep_created(self._record, self.save(), created.id, self.hook.cancel_unrecorded)

        try:
            self.hook.create(item.endpoint, prepared.validated(self.hook), on_created=remember)
        except CreateOutcomeUnknownError as err:  # may be paid, id unknown: never submitted again
            self._failed(entry, CREATE_OUTCOME_UNKNOWN, str(err))
        except RunwayError as err:  # refused: nothing was created
            self._failed(entry, CREATE_FAILED, str(err))

    def _over_budget(self, estimate: float | None) -> bool:
        budget = as_credits(self.op.budget_credits, "budget_credits")
        if budget is None or self.ledger.spent + (estimate or 0.0) <= budget:
            return False
        self.ledger.stop_pending(
            f"budget_credits={budget:.10g}: {self.ledger.spent:.10g} credits of creates so far and the next "
            f"is estimated at {estimate or 0:.10g}; not started, nothing paid"
        )
        self.save()
        return True

    def _failed(self, entry: ItemEntry, code: str, message: str) -> None:
        item, context, collected = self._item(entry)
        record_failure(item, context, code, message, endpoint=item.endpoint, image=entry.picture)
        self.ledger.finished(entry, FAILED, collected[-1])

    # -- waiting in the worker (deferrable=False) -------------------------------------------------

    def wait_blocking(self, want: int) -> dict[str, dict[str, Any]]:
        """Poll the running tasks from this worker until ``want`` of them ended (the trigger's loop, sync)."""
        from airflow_provider_runway.execution.wait_tracker import POLL_RETRY_POLICY, WaitTracker

        hook = type(self.hook)(self.op.runway_conn_id, retry_policy=POLL_RETRY_POLICY)
        trackers = [
            WaitTracker(
                task_id=str(entry.runway_task_id),
                deadline=(entry.submitted_at or time.time()) + self.op.wait_timeout,
                not_visible_until=(entry.submitted_at or time.time()) + self.op.not_visible_grace,
                poll_interval=self.op.poll_interval,
            )
            for entry in self.ledger.in_flight()
        ]
        ended: dict[str, dict[str, Any]] = {}
        while len(ended) < want:
            waiting = [t for t in trackers if t.task_id not in ended]
            time.sleep(min(t.sleep_for(time.time()) for t in waiting))
            for tracker in waiting:
                event = tracker.timed_out(time.time())
                if event is None and tracker.poll_due(time.time()):
                    outcome: Any
                    try:
                        outcome = hook.get_task(tracker.task_id)
                    except RunwayError as err:
                        outcome = err
                    event = tracker.decide(outcome, time.time()).log_to(self.op.log)
                if event is not None:
                    ended[tracker.task_id] = event
        return ended

    def cancel_in_flight(self) -> None:
        for entry in self.ledger.in_flight():
            self._cancel(str(entry.runway_task_id))

    def _cancel(self, runway_task_id: str) -> None:
        try:
            self.hook.cancel_task(runway_task_id)
        except Exception as err:  # best effort: never hide why the task is stopping
            self.op.log.warning("Could not cancel Runway task %s: %s", runway_task_id, err)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for entry in self.ledger.entries:
            found[entry.status] = found.get(entry.status, 0) + 1
        return found

    def failed(self) -> list[dict[str, Any]]:
        """The outcome of every picture that failed."""
        return [dict(e.record or {}) for e in self.ledger.with_status(FAILED)]

    def not_started(self) -> int:
        return len(self.ledger.with_status(NOT_STARTED))
