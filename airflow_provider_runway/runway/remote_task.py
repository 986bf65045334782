"""Runway task objects: parse whatever shape the API answers into one normalised task.

Runway answers a poll with the bare task; CometAPI answers with either the bare task or its
wrapped envelope (see runway-api.md). Everything here is pure so the hook, trigger, sensor
and tests share one reading of those shapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_runway.runway.errors import MalformedResponseError

PENDING = "PENDING"
THROTTLED = "THROTTLED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"

KNOWN_STATUSES = frozenset({PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED})
TERMINAL_STATUSES = frozenset({SUCCEEDED, FAILED, CANCELLED})

# CometAPI's outer envelope vocabulary -> Runway's.
ENVELOPE_STATUSES: dict[str, str] = {
    "NOT_START": PENDING,
    "SUBMITTED": PENDING,
    "QUEUED": PENDING,
    "IN_PROGRESS": RUNNING,
    "SUCCESS": SUCCEEDED,
    "FAILURE": FAILED,
}


@dataclass(frozen=True)
class RunwayTask:
    """One poll's view of a Runway task, in Runway's vocabulary."""

    id: str
    status: str
    progress: float | None = None
    output: tuple[str, ...] = ()
    failure: str | None = None
    failure_code: str | None = None
    created_at: str | None = None
    raw_status: str | None = field(default=None, compare=False)
    # Runway's own figures (SDK 5.14+): the most an unfinished task may charge, and what a finished one did.
    estimated_credits: float | None = None
    cost_credits: float | None = None

    @property
    def is_known(self) -> bool:
        return self.status in KNOWN_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, Runway's field names: what XCom and trigger events carry."""
        return {
            "id": self.id,
            "status": self.status,
            "progress": self.progress,
            "output": list(self.output),
            "failure": self.failure,
            "failureCode": self.failure_code,
            "createdAt": self.created_at,
            **_credits_field("estimatedCost", self.estimated_credits),
            **_credits_field("cost", self.cost_credits),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunwayTask:
        return parse_task(data)

    def describe(self) -> str:
        """Short human summary for logs and error messages."""
        text = self.status
        if self.progress is not None and self.status == RUNNING:
            text += f" {self.progress:.0%}"
        if self.failure or self.failure_code:
            text += f" ({self.failure_code or 'no code'}: {self.failure or 'no reason given'})"
        return text


def _credits_field(name: str, credits: float | None) -> dict[str, Any]:
    return {} if credits is None else {name: {"credits": credits}}


def read_credits(value: Any) -> float | None:
    """``{"credits": n}`` (Runway's ``estimatedCost`` and ``cost``) -> n; None when absent or not a number."""
    credits = value.get("credits") if isinstance(value, Mapping) else None
    if isinstance(credits, (int, float)) and not isinstance(credits, bool) and credits >= 0:
        return float(credits)
    return None


def _progress(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            return None
        return max(0.0, min(1.0, number / 100 if text.endswith("%") else number))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0.0, min(1.0, float(value)))
    return None


def _outputs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value if isinstance(item, str) and item)
    return ()


def _parse_bare(data: Mapping[str, Any], fallback_id: str | None) -> RunwayTask:
    status = data.get("status")
    task_id = data.get("id") or fallback_id
    if not isinstance(status, str) or not task_id:
        raise MalformedResponseError(f"task object lacks id or status: {_excerpt(data)}")
    return RunwayTask(
        id=str(task_id),
        status=status.upper(),
        raw_status=status,
        progress=_progress(data.get("progress")),
        output=_outputs(data.get("output")),
        failure=data.get("failure") or None,
        failure_code=data.get("failureCode") or None,
        created_at=data.get("createdAt"),
        estimated_credits=read_credits(data.get("estimatedCost")),
        cost_credits=read_credits(data.get("cost")),
    )


def _parse_envelope(envelope: Mapping[str, Any], fallback_id: str | None) -> RunwayTask:
    outer = envelope.get("data")
    if not isinstance(outer, Mapping):
        raise MalformedResponseError(f"envelope without data: {_excerpt(envelope)}")
    task_id = outer.get("task_id") or fallback_id
    inner = outer.get("data")
    if isinstance(inner, Mapping) and inner.get("status"):
        task = _parse_bare(inner, task_id)
        if not task.output and outer.get("result_url"):
            task = replace(task, output=_outputs(outer.get("result_url")))
        if task.progress is None:
            task = replace(task, progress=_progress(outer.get("progress")))
        return task
    raw = outer.get("status")
    if not isinstance(raw, str) or not task_id:
        raise MalformedResponseError(f"envelope lacks task_id or status: {_excerpt(envelope)}")
    status = ENVELOPE_STATUSES.get(raw.upper(), raw.upper())
    # An inner object without a status may still carry Runway's failure code and text.
    inner_fields = inner if isinstance(inner, Mapping) else {}
    return RunwayTask(
        id=str(task_id),
        status=status,
        raw_status=raw,
        progress=_progress(outer.get("progress")),
        output=_outputs(outer.get("result_url")),
        failure=outer.get("fail_reason") or inner_fields.get("failure") or None,
        failure_code=inner_fields.get("failureCode") or None,
    )


def is_envelope(payload: Any) -> bool:
    return isinstance(payload, Mapping) and "code" in payload and isinstance(payload.get("data"), Mapping)


def parse_task(payload: Any, task_id: str | None = None) -> RunwayTask:
    """Normalise a poll answer (bare task or CometAPI envelope) into a RunwayTask."""
    if not isinstance(payload, Mapping):
        raise MalformedResponseError(f"expected a JSON object, got {_excerpt(payload)}")
    if is_envelope(payload):
        return _parse_envelope(payload, task_id)
    return _parse_bare(payload, task_id)


@dataclass(frozen=True)
class CreatedTask:
    """A create's answer: the task id, and the most the task may charge when the API says
    (``estimatedCost``, SDK 5.14+; a proxy may not pass it on)."""

    id: str
    estimated_credits: float | None = None
    routed_model: str | None = None  # the model the Model Router chose (``generate/*``)


def parse_created(payload: Any) -> CreatedTask:
    """A create answer: ``{"id", "estimatedCost"}``; the Model Router's ``{"id", "routing": {"model",
    "estimatedCost", ...}}`` (runwayml 5.24.0 ``types/generate/*_create_response.py``); or inside a
    CometAPI envelope."""
    if isinstance(payload, Mapping):
        if isinstance(payload.get("id"), str) and payload["id"]:
            found = payload.get("routing")
            routing: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            estimate = read_credits(payload.get("estimatedCost", routing.get("estimatedCost")))
            model = routing.get("model") if isinstance(routing.get("model"), str) else None
            return CreatedTask(str(payload["id"]), estimate, model)
        data = payload.get("data")
        if isinstance(data, Mapping):
            for key in ("id", "task_id"):
                if isinstance(data.get(key), str) and data[key]:
                    return CreatedTask(str(data[key]), read_credits(data.get("estimatedCost")))
    raise MalformedResponseError(f"create answer has no task id: {_excerpt(payload)}")


def decode_json(text: str) -> Any:
    """Parse a 2xx body, turning HTML pages, empty and truncated bodies into MalformedResponseError."""
    if not text.strip():
        raise MalformedResponseError("empty response body")
    try:
        return json.loads(text)
    except ValueError:
        raise MalformedResponseError(f"response is not JSON: {_excerpt(text)}") from None


def error_message(text: str) -> str:
    """The human message from an error body in any of the API's shapes, else a short excerpt."""
    try:
        payload = json.loads(text) if text.strip() else None
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, str) and error:
            return error
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("code")
            param = error.get("param")
            if message:
                return f"{message} (param: {param})" if param else str(message)
        for key in ("message", "code", "detail"):
            if isinstance(payload.get(key), str) and payload[key]:
                return str(payload[key])
    return _excerpt(text) if text.strip() else "no error message in the response"


def is_task_not_exist(status_code: int, text: str) -> bool:
    """CometAPI's "not visible yet" answer right after create."""
    return status_code in (400, 404) and "task_not_exist" in text


def _excerpt(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
