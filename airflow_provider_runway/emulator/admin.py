"""Admin and accounting endpoints under ``/_emulator/`` (no auth, never faulted, never logged).

- ``GET  /_emulator/health``             -> ``{"ok": true, "base_url": ...}``
- ``GET  /_emulator/stats``              -> creates, polls (with timestamps and the smallest
  interval per task), cancels, faults fired, every task's current status, active task ids
- ``GET  /_emulator/requests?limit=N``   -> recent API requests: method, path, query, headers
  (Authorization replaced by a sha256 fingerprint), ``auth_matches_pinned_key``, JSON body,
  status, faults; ``DELETE`` clears the log
- ``GET  /_emulator/faults``             -> the live plan with remaining counts
- ``POST /_emulator/faults``             -> merge a fault JSON object (see ``faults.py``)
- ``DELETE /_emulator/faults``           -> remove every fault
- ``POST /_emulator/reset``              -> forget tasks, stats, request log; restore startup
  config and faults
- ``GET  /_emulator/config``             -> current config (the key itself is never shown)
- ``POST /_emulator/config``             -> change fields at runtime, e.g. ``generation_seconds``
- ``POST /_emulator/tasks/{id}/cancel``  -> cancel a task as if from outside (another client,
  the web UI); the task stays visible as CANCELLED
- ``GET  /_emulator/outputs/{id}.mp4?exp=..&sig=..`` -> the output video (served by routes.py)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from airflow_provider_runway.emulator.config import ConfigError
from airflow_provider_runway.emulator.faults import FaultConfigError
from airflow_provider_runway.emulator.server import Request, Response
from airflow_provider_runway.emulator.wire import json_response
from airflow_provider_runway.tasks import TERMINAL_STATUSES as TERMINAL

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.routes import App

AdminEndpoint = Callable[["App", Request], Response]


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def _body(app: App, req: Request) -> tuple[dict[str, Any] | None, Response | None]:
    if not req.body:
        return {}, None
    body, problem = req.json()
    if problem is not None or not isinstance(body, dict):
        return None, _error(400, problem or "body must be a JSON object")
    return body, None


def _health(app: App, req: Request) -> Response:
    return json_response(200, {"ok": True, "base_url": app.base_url})


def _stats(app: App, req: Request) -> Response:
    stats = app.state.stats()
    stats["faults"] = app.faults.to_dict()
    return json_response(200, stats)


def _requests(app: App, req: Request) -> Response:
    if req.method == "DELETE":
        app.state.request_log.clear()
        return json_response(200, {"ok": True})
    entries = list(app.state.request_log)
    limit = parse_qs(req.query).get("limit", [""])[0]
    if limit.isdigit():
        entries = entries[-int(limit) :] if int(limit) else []
    return json_response(200, {"requests": entries})


def _faults(app: App, req: Request) -> Response:
    if req.method == "POST":
        body, problem = _body(app, req)
        if problem is not None:
            return problem
        try:
            app.faults.update(body)
        except FaultConfigError as exc:
            return _error(400, str(exc))
    elif req.method == "DELETE":
        app.faults.clear()
    return json_response(200, {"faults": app.faults.to_dict()})


def _reset(app: App, req: Request) -> Response:
    app.reset()
    return json_response(200, {"ok": True})


def _config(app: App, req: Request) -> Response:
    if req.method == "POST":
        body, problem = _body(app, req)
        if problem is not None:
            return problem
        try:
            app.configure(body or {})
        except ConfigError as exc:
            return _error(400, str(exc))
    return json_response(200, {"config": app.config.to_dict()})


def _cancel(app: App, req: Request, task_id: str) -> Response:
    task = app.state.tasks.get(task_id)
    if task is None:
        return _error(404, f"no task {task_id}")
    status, _ = app.state.status_now(task)
    if status in TERMINAL:
        return _error(409, f"task {task_id} is already {status}")
    before = app.state.cancel(task, "admin")
    return json_response(200, {"task_id": task_id, "status_before": before, "status": app.state.status_now(task)[0]})


_ROUTES: dict[str, tuple[tuple[str, ...], AdminEndpoint]] = {
    "/_emulator/health": (("GET",), _health),
    "/_emulator/stats": (("GET",), _stats),
    "/_emulator/requests": (("GET", "DELETE"), _requests),
    "/_emulator/faults": (("GET", "POST", "DELETE"), _faults),
    "/_emulator/reset": (("POST",), _reset),
    "/_emulator/config": (("GET", "POST"), _config),
}


def handle(app: App, req: Request) -> Response:
    path = req.path.rstrip("/")
    found = _ROUTES.get(path)
    if found is not None:
        methods, endpoint = found
        if req.method not in methods:
            return Response(405, b'{"error":"method not allowed"}', headers=[("Allow", ", ".join(methods))])
        return endpoint(app, req)
    parts = path.split("/")  # "", "_emulator", "tasks", id, "cancel"
    if len(parts) == 5 and parts[2] == "tasks" and parts[4] == "cancel":
        if req.method != "POST":
            return Response(405, b'{"error":"method not allowed"}', headers=[("Allow", "POST")])
        return _cancel(app, req, parts[3])
    return _error(404, f"unknown admin endpoint {req.path}")
