"""What each API call sends and how its answer reads: paths, bodies, answers and the cancel rule.

Pure (no I/O): the hook's sync (``requests``) and async (``aiohttp``) paths both call these,
so both build the same requests, map answers to the same errors and cancel by the same rule.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_runway.runway.errors import (
    InvalidRequestError,
    MalformedResponseError,
    OutputUnavailableError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
)
from airflow_provider_runway.runway.remote_task import (
    PENDING,
    RUNNING,
    THROTTLED,
    RunwayTask,
    decode_json,
    error_message,
    is_task_not_exist,
)
from airflow_provider_runway.runway.retry_policy import parse_retry_after

# One path segment, or two for the Model Router's generate/* and the recipes/*.
_ENDPOINT = re.compile(r"^(?:(?:generate|recipes)/)?[a-z][a-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Statuses output URLs answer once they expired (403 from a signed URL) or the output is gone.
OUTPUT_GONE_STATUSES = frozenset({403, 404, 410})


def is_iso_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real day: Runway's dates and API version headers."""
    if not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def task_path(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():
        raise ValueError(f"runway_task_id must be a non-empty string, got {task_id!r}")
    return f"tasks/{quote(task_id.strip(), safe='')}"


def endpoint_name(endpoint: str) -> str:
    """A task endpoint such as ``image_to_video`` or ``generate/video``; anything else is refused (no path tricks)."""
    if not isinstance(endpoint, str) or not _ENDPOINT.match(endpoint):
        raise ValueError(f"endpoint must be a Runway task endpoint such as 'image_to_video', got {endpoint!r}")
    return endpoint


def read_response(status: int, text: str, headers: Mapping[str, str], method: str, path: str) -> Any:
    """Turn one HTTP answer into JSON or the matching RunwayError."""
    if 200 <= status < 300:
        return decode_json(text) if status != 204 else None
    message = error_message(text)
    kwargs: dict[str, Any] = {"method": method, "path": path}
    if is_task_not_exist(status, text):
        raise RunwayTaskNotVisibleError(status, message, **kwargs)
    if status in (401, 403):
        raise RunwayAuthError(status, message, **kwargs)
    if 300 <= status < 400:
        where = headers.get("location", "elsewhere")
        raise RunwayAPIError(status, f"redirected to {where}: wrong host or flavor?", **kwargs)
    if status == 404 and path.rsplit("/", 2)[-2:-1] == ["tasks"] and text.lstrip().startswith("{"):
        # Only the API's own JSON 404 means "no such task"; an HTML 404 page is a wrong host.
        raise RunwayTaskNotFoundError(status, message, **kwargs)
    raise RunwayAPIError(status, message, retry_after=parse_retry_after(headers.get("retry-after")), **kwargs)


def check_output_status(status: int, headers: Mapping[str, str]) -> None:
    """Raise unless a signed output URL answered 2xx. Redirects are reported, never followed."""
    if status in OUTPUT_GONE_STATUSES:
        raise OutputUnavailableError(status, "output URL expired or the output is gone; outputs live 24-48 h")
    if 300 <= status < 400:
        host = urlsplit(headers.get("location", "")).hostname or "elsewhere"
        raise RunwayAPIError(status, f"output URL redirects to {host}; not followed")
    if status >= 400:
        raise RunwayAPIError(status, "output download failed")


# -- cancel -------------------------------------------------------------------------------------

# Runway API reference, "Cancel or delete a task" (DELETE /v1/tasks/{id},
# https://docs.dev.runwayml.com/api/), and the official SDK's TasksResource.delete
# (runwayml 5.13.0, src/runwayml/resources/tasks.py): "Tasks that are running, pending, or
# throttled can be canceled by invoking this method. Invoking this method for other tasks will
# delete them. The output data associated with a deleted task will be deleted from persistent
# storage." So a DELETE is sent only while the task is still one of these.
CANCELLABLE_STATUSES = frozenset({PENDING, THROTTLED, RUNNING})
# What the GET before a cancel can see besides a status.
NOT_VISIBLE = "NOT_VISIBLE"  # CometAPI's task_not_exist: created moments ago, not listed yet
NOT_FOUND = "NOT_FOUND"  # 404: unknown or already deleted


def observed_status(seen: RunwayTask | RunwayAPIError) -> str:
    """What the GET before a cancel saw: a status, ``NOT_VISIBLE`` or ``NOT_FOUND``; other errors are raised.

    A task whose state cannot be read is never deleted blindly.
    """
    if isinstance(seen, RunwayTaskNotVisibleError):
        return NOT_VISIBLE
    if isinstance(seen, RunwayTaskNotFoundError):
        return NOT_FOUND
    if isinstance(seen, RunwayAPIError):
        raise seen
    return seen.status


@dataclass(frozen=True)
class CancelDecision:
    """Whether to send the DELETE, and the log line that says why."""

    send_delete: bool
    message: str


def decide_cancel(task_id: str, seen: str) -> CancelDecision:
    """The one cancel rule: DELETE only what is still running, never a finished task.

    ``seen`` is the status from a GET just before, or ``NOT_VISIBLE``/``NOT_FOUND``. A task
    not visible yet may be running, so it is cancelled; any other status (finished, or one this
    provider does not know) is kept, since a DELETE would destroy it and its output.
    """
    if seen in CANCELLABLE_STATUSES:
        return CancelDecision(True, f"Cancelling Runway task {task_id} ({seen})")
    if seen == NOT_VISIBLE:
        return CancelDecision(True, f"Cancelling Runway task {task_id} (not visible yet)")
    if seen == NOT_FOUND:
        return CancelDecision(False, f"Runway task {task_id} was not found; nothing to cancel")
    return CancelDecision(
        False, f"Runway task {task_id} is already {seen}; not cancelling (a DELETE would delete its output)"
    )


# -- organization and uploads (Runway direct) ------------------------------------------------------


def usage_body(start_date: str | None, before_date: str | None) -> dict[str, str]:
    """Body of ``POST /v1/organization/usage``: ``startDate``/``beforeDate`` (YYYY-MM-DD, UTC, <= 90 days).

    Per the official SDK (runwayml 5.13.0, ``resources/organization.py`` ``retrieve_usage`` and
    ``types/organization_retrieve_usage_params.py``); omitted dates take the API's defaults.
    """
    body: dict[str, str] = {}
    for field, wire, value in (("start_date", "startDate", start_date), ("before_date", "beforeDate", before_date)):
        if value is None:
            continue
        text = str(value)
        if not is_iso_date(text):
            raise InvalidRequestError(field, f"must be a date as YYYY-MM-DD, got {str(value)[:40]!r}", label=wire)
        body[wire] = text
    return body


def upload_body(filename: str) -> dict[str, str]:
    """Body of ``POST /v1/uploads`` (SDK ``resources/uploads.py`` ``create_ephemeral``)."""
    if not isinstance(filename, str) or not filename.strip() or "/" in filename:
        raise InvalidRequestError("filename", f"must be a plain file name such as 'frame.png', got {filename!r}")
    return {"filename": filename, "type": "ephemeral"}


@dataclass(frozen=True)
class UploadSlot:
    """Where to POST the file (a presigned storage form) and the ``runway://`` URI it becomes."""

    upload_url: str
    fields: dict[str, str]
    runway_uri: str


def parse_upload_slot(payload: Any) -> UploadSlot:
    """The answer of ``POST /v1/uploads``: ``{"uploadUrl", "fields", "runwayUri"}``."""
    if isinstance(payload, Mapping):
        url, fields, uri = payload.get("uploadUrl"), payload.get("fields"), payload.get("runwayUri")
        if (
            isinstance(url, str)
            and urlsplit(url).scheme in ("http", "https")
            and isinstance(fields, Mapping)
            and isinstance(uri, str)
            and uri.startswith("runway://")
        ):
            return UploadSlot(url, {str(k): str(v) for k, v in fields.items()}, uri)
    keys = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
    raise MalformedResponseError(f"upload answer lacks uploadUrl/fields/runwayUri (got {keys})")
