"""What the Runway view shows, from what the tasks recorded: one item per output, and totals. Pure.

A create task instance left XCom behind: its outcome (``runway_output``/``runway_video``:
created, skipped or failed, where the output is, the credits), the request it sent
(``runway_request``: endpoint, body, inputs; a sensor finds it under the submitting task) and
the final Runway task (``runway_task``, or a sensor's return value). A batch task instance left
one outcome per picture (``runway_outputs``). A task instance that left no outcome still shows:
waiting, submitted for a sensor to wait on, or failed before it could record why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_runway.execution.credits import XCOM_CREDITS_KEY
from airflow_provider_runway.execution.outcomes import (
    XCOM_OUTPUT_KEY,
    XCOM_OUTPUTS_KEY,
    XCOM_REQUEST_KEY,
    XCOM_VIDEO_KEY,
)
from airflow_provider_runway.media.sidecars import CREATED, FAILED, SKIPPED, stored_at
from airflow_provider_runway.operators.runway import XCOM_TASK_ID_KEY, XCOM_TASK_KEY
from airflow_provider_runway.runway.remote_task import CANCELLED, SUCCEEDED, read_credits
from airflow_provider_runway.ui.failure_text import failure_meaning

RETURN_VALUE = "return_value"
# The keys a Runway task instance is known by (``runway_credits`` alone is also a batch plan's).
RUNWAY_KEYS = (XCOM_OUTPUT_KEY, XCOM_VIDEO_KEY, XCOM_OUTPUTS_KEY, XCOM_REQUEST_KEY, XCOM_TASK_KEY, XCOM_TASK_ID_KEY)
XCOM_KEYS = (*RUNWAY_KEYS, XCOM_CREDITS_KEY, RETURN_VALUE)
SUBMITTED = "submitted"  # created on Runway, waited on by another task
WAITING = "waiting"  # no outcome yet
MADE_NOT_STORED = "made, not stored"
NOT_STARTED = "not_started"  # a batch picture the budget left unmade
FAILED_STATES = frozenset({"failed", "upstream_failed"})


@dataclass(frozen=True)
class TaskInstanceRow:
    """One task instance as the metadata DB has it."""

    task_id: str
    map_index: int
    state: str | None
    operator: str | None = None
    label: str | None = None  # the rendered map index (e.g. the picture's name)


@dataclass
class ViewItem:
    """One output (a task instance's, or one picture of a batch task's), its cost and what went wrong."""

    task_id: str
    map_index: int
    state: str | None
    label: str | None
    outcome: str
    item_index: int | None = None  # the picture's place in a batch task's list
    kind: str | None = None
    output: str | None = None
    output_conn_id: str | None = None
    expiring_url: str | None = None  # Runway's own output URL when nothing was stored (24-48 h)
    source: str | None = None
    endpoint: str | None = None
    model: str | None = None
    prompt: str | None = None
    duration: Any = None  # the requested seconds
    seconds: float | None = None  # the stored video's own length
    runway_task_id: str | None = None
    credits_charged: float | None = None
    credits_estimated: float | None = None
    estimate_source: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    failure_meaning: str | None = None

    @property
    def stored(self) -> bool:
        return self.outcome in (CREATED, SKIPPED) and bool(self.output)

    def fill_request(self, request: Mapping[str, Any]) -> None:
        """Endpoint, model, prompt and duration from the request (or a sidecar, same names), where unknown."""
        body = _mapping(request.get("body"))
        self.endpoint = self.endpoint or request.get("endpoint")
        self.model = self.model or body.get("model") or request.get("model")
        self.prompt = self.prompt or body.get("promptText") or request.get("prompt_text")
        if self.duration is None:
            self.duration = body.get("duration", request.get("duration"))
        if self.source is None:
            sources = request.get("sources") or []
            first = sources[0] if sources and isinstance(sources[0], Mapping) else {}
            self.source = first.get("location") or request.get("source_image")
        if self.credits_charged is None and self.credits_estimated is None:
            self.fill_credits(request.get("credits"))

    def fill_credits(self, credits: Any) -> None:
        if not isinstance(credits, Mapping):
            return
        self.credits_charged = _number(credits.get("charged"))
        self.credits_estimated = _number(credits.get("estimated"))
        self.estimate_source = credits.get("estimate_source")


@dataclass(frozen=True)
class Totals:
    made: int
    skipped: int
    failed: int
    other: int
    credits_charged: float
    charged_items: int
    credits_estimated_only: float  # items the API gave no final figure for: their estimates
    estimated_items: int


@dataclass
class RunView:
    items: list[ViewItem] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return totals_of(self.items)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_runway_task(row: TaskInstanceRow, values: Mapping[str, Any]) -> bool:
    """A task instance the view shows: it left a Runway record, or it is one of the provider's operators."""
    return any(key in values for key in RUNWAY_KEYS) or (row.operator or "").startswith("Runway")


def requests_by_task_id(values: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Every request the run made, by Runway task id: a sensor's output was asked for by another task."""
    found: dict[str, Mapping[str, Any]] = {}
    for per_ti in values:
        request = per_ti.get(XCOM_REQUEST_KEY)
        if isinstance(request, Mapping) and request.get("runway_task_id"):
            found[str(request["runway_task_id"])] = request
    return found


def _final_task(values: Mapping[str, Any]) -> Mapping[str, Any]:
    task = _mapping(values.get(XCOM_TASK_KEY))
    if not task:  # a sensor returns the final task
        returned = _mapping(values.get(RETURN_VALUE))
        task = returned if "status" in returned and "id" in returned else {}
    return task


def _from_record(item: ViewItem, record: Mapping[str, Any]) -> None:
    item.kind = record.get("output_kind") or ("video" if record.get("video") else None)
    item.output = stored_at(record)
    item.output_conn_id = record.get("output_conn_id")
    item.seconds = _number(record.get("seconds"))
    item.runway_task_id = record.get("runway_task_id")
    item.source = record.get("image")
    item.fill_credits(record.get("credits"))
    item.fill_request(record)  # a failure's record names the prompt and model it was asked for
    if item.outcome == FAILED:
        item.failure_code = record.get("failure_code")
        item.failure_message = record.get("message")


def _from_task(item: ViewItem, task: Mapping[str, Any]) -> None:
    """No outcome recorded: what the final Runway task says (the task did not store its output)."""
    status = task.get("status")
    item.runway_task_id = item.runway_task_id or task.get("id")
    outputs = task.get("output") or []
    if status == SUCCEEDED:
        item.outcome = MADE_NOT_STORED
        item.expiring_url = str(outputs[0]) if outputs else None
    elif status is not None:
        item.outcome = FAILED
        item.failure_code = task.get("failureCode") or (str(status) if status == CANCELLED else None)
        item.failure_message = task.get("failure")
    charged = read_credits(task.get("cost"))
    if charged is not None:
        item.credits_charged = charged


def view_item(row: TaskInstanceRow, values: Mapping[str, Any], requests: Mapping[str, Mapping[str, Any]]) -> ViewItem:
    """One create or sensor task instance's item from its XCom values (key -> deserialized value)."""
    record = _mapping(values.get(XCOM_OUTPUT_KEY)) or _mapping(values.get(XCOM_VIDEO_KEY))
    item = ViewItem(row.task_id, row.map_index, row.state, row.label, outcome=str(record.get("outcome") or WAITING))
    task = _final_task(values)
    if record:
        _from_record(item, record)
    elif task:
        _from_task(item, task)
    elif values.get(XCOM_TASK_ID_KEY) and row.state == "success":
        item.outcome = SUBMITTED
        item.runway_task_id = str(values[XCOM_TASK_ID_KEY])
    elif row.state in FAILED_STATES:
        item.outcome = FAILED
        item.failure_message = "the task left no outcome (it failed before or while creating); see its log"
    item.runway_task_id = item.runway_task_id or values.get(XCOM_TASK_ID_KEY) or task.get("id")
    request = _mapping(values.get(XCOM_REQUEST_KEY)) or requests.get(str(item.runway_task_id), {})
    item.fill_request(request)
    if item.credits_charged is None and item.credits_estimated is None:
        item.fill_credits(values.get(XCOM_CREDITS_KEY))
    return _explained(item)


def batch_items(row: TaskInstanceRow, records: Sequence[Any]) -> list[ViewItem]:
    """A batch task instance's pictures, one item each, in the chunk's order."""
    items = []
    for position, raw in enumerate(records):
        record = _mapping(raw)
        index = record.get("item")
        item = ViewItem(
            row.task_id,
            row.map_index,
            row.state,
            label=_name(record.get("picture") or record.get("image")),
            outcome=str(record.get("outcome") or WAITING),
            item_index=index if isinstance(index, int) else position,
        )
        _from_record(item, record)
        item.failure_message = item.failure_message or (record.get("message") if item.outcome == NOT_STARTED else None)
        items.append(_explained(item))
    return items


def _name(location: Any) -> str | None:
    return str(location).rstrip("/").rpartition("/")[2] or None if location else None


def _explained(item: ViewItem) -> ViewItem:
    if item.outcome == FAILED:
        item.failure_meaning = failure_meaning(item.failure_code, item.failure_message)
    return item


def build_view(rows: Sequence[TaskInstanceRow], values: Mapping[tuple[str, int], Mapping[str, Any]]) -> RunView:
    """The items of every Runway task instance in ``rows``, in task and map index order."""
    requests = requests_by_task_id(values.values())
    items: list[ViewItem] = []
    for row in sorted(rows, key=lambda r: (r.task_id, r.map_index)):
        mine = values.get((row.task_id, row.map_index), {})
        batch = mine.get(XCOM_OUTPUTS_KEY)
        if isinstance(batch, list) and batch:
            items.extend(batch_items(row, batch))
        elif is_runway_task(row, mine):
            items.append(view_item(row, mine, requests))
    return RunView(items)


def totals_of(items: Sequence[ViewItem]) -> Totals:
    """Made, skipped, failed, and this run's credits: the API's exact charges, estimates only where it gave none.

    A skipped item cost nothing in this run (its credits were charged by the run that made it).
    """
    made = sum(item.outcome in (CREATED, MADE_NOT_STORED) for item in items)
    skipped = sum(item.outcome == SKIPPED for item in items)
    failed = sum(item.outcome == FAILED for item in items)
    paid = [item for item in items if item.outcome != SKIPPED]
    charged = [item.credits_charged for item in paid if item.credits_charged is not None]
    estimated = [
        item.credits_estimated for item in paid if item.credits_charged is None and item.credits_estimated is not None
    ]
    return Totals(
        made=made,
        skipped=skipped,
        failed=failed,
        other=len(items) - made - skipped - failed,
        credits_charged=round(sum(charged), 6),
        charged_items=len(charged),
        credits_estimated_only=round(sum(estimated), 6),
        estimated_items=len(estimated),
    )
