"""Admin endpoints under ``/_emulator/``: no auth, never faulted, never in the request log.

- ``GET  /_emulator/health``              -> ``{"ok": true, "base_url": ...}``
- ``GET  /_emulator/stats``               -> see ``stats.py`` (plus the live fault plan)
- ``GET  /_emulator/requests?limit=N``    -> recent API requests (``DELETE`` clears them)
- ``GET|POST|DELETE /_emulator/faults``   -> show / merge / clear the fault plan (``faults.py``)
- ``POST /_emulator/reset``               -> forget tasks, stats, requests; wall-clock time;
  startup config and faults
- ``GET|POST /_emulator/config``          -> show / change the config at runtime
- ``GET|POST|DELETE /_emulator/prices``   -> the price table in force / lay overrides over it
  (``{"endpoints": {"image_to_video": {"gen4_turbo": {"per": "second", "credits": 7}}}}``) /
  back to ``prices.json``; the overrides are the config's ``prices``
- ``POST /_emulator/tasks/{id}/cancel``   -> cancel as if from outside (web UI): stays visible
- ``POST /_emulator/tasks/{id}/complete`` -> SUCCEEDED now
- ``POST /_emulator/tasks/{id}/fail``     -> FAILED now; body ``{"code": "INTERNAL.BAD_OUTPUT.CODE01",
  "message": "..."}`` (message optional)
- ``GET  /_emulator/clock``               -> ``{"now", "offset"}``
- ``POST /_emulator/clock/advance``       -> ``{"seconds": 30}``: move the emulator's clock forward

Task commands answer ``{"task_id", "status_before", "status"}``; 404 for an unknown task, 409
for one that has already finished.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from runway_emulator.backend import BACKEND, EmulatorBackend
from runway_emulator.config import ConfigError
from runway_emulator.faults import FaultConfigError
from runway_emulator.protocol import TERMINAL
from runway_emulator.state import Task, TaskStateError, default_failure_message
from runway_emulator.stats import emulator_stats
from runway_emulator.wire import json_response

AdminHandler = Callable[[web.Request], Awaitable[web.Response]]
MAX_CODE_LENGTH = 200


class AdminError(Exception):
    """Refuse an admin call with ``status`` and a message naming what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return json_response(status, {"error": message}, headers)


def admin(handler: Callable[[EmulatorBackend, web.Request], Awaitable[Any]]) -> AdminHandler:
    """An aiohttp handler answering ``handler``'s result as JSON (``AdminError`` as its status)."""

    async def run(request: web.Request) -> web.Response:
        try:
            return json_response(200, await handler(request.app[BACKEND], request))
        except AdminError as exc:
            return error(exc.status, str(exc))

    return run


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise AdminError(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise AdminError(400, "body must be a JSON object")
    return body


async def health(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    return {"ok": True, "base_url": backend.base_url}


async def stats(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    return {**emulator_stats(backend.state), "faults": backend.faults.to_dict()}


async def requests(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    if request.method == "DELETE":
        backend.requests.clear()
        return {"ok": True}
    entries = list(backend.requests.entries)
    limit = request.query.get("limit", "")
    if limit.isdigit():
        entries = entries[-int(limit) :] if int(limit) else []
    return {"requests": entries}


async def faults(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    if request.method == "POST":
        try:
            backend.faults.update(await _body(request))
        except FaultConfigError as exc:
            raise AdminError(400, str(exc)) from None
    elif request.method == "DELETE":
        backend.faults.clear()
    return {"faults": backend.faults.to_dict()}


async def reset(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    backend.reset()
    return {"ok": True}


async def config(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    if request.method == "POST":
        try:
            backend.configure(await _body(request))
        except ConfigError as exc:
            raise AdminError(400, str(exc)) from None
    return {"config": backend.config.to_dict()}


async def prices(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    if request.method != "GET":
        changes = await _body(request) if request.method == "POST" else {}
        try:
            backend.configure({"prices": changes})
        except ConfigError as exc:
            raise AdminError(400, str(exc)) from None
    return {"prices": backend.prices.raw, "overrides": dict(backend.config.prices)}


def _task(backend: EmulatorBackend, request: web.Request) -> Task:
    task_id = request.match_info["id"]
    task = backend.state.tasks.get(task_id)
    if task is None:
        raise AdminError(404, f"no task {task_id}")
    return task


def _task_result(backend: EmulatorBackend, task: Task, before: str) -> dict[str, Any]:
    return {"task_id": task.id, "status_before": before, "status": backend.state.status_now(task)[0]}


async def cancel_task(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    task = _task(backend, request)
    status, _ = backend.state.status_now(task)
    if status in TERMINAL:
        raise AdminError(409, f"task {task.id} is already {status}")
    return _task_result(backend, task, backend.state.cancel(task, "admin"))


async def complete_task(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    task = _task(backend, request)
    try:
        return _task_result(backend, task, backend.state.complete(task))
    except TaskStateError as exc:
        raise AdminError(409, str(exc)) from None


async def fail_task(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    task = _task(backend, request)
    body = await _body(request)
    unknown = sorted(set(body) - {"code", "message"})
    if unknown:
        raise AdminError(400, f"unknown key(s) {', '.join(unknown)}; allowed: code, message")
    code, message = body.get("code"), body.get("message")
    if not isinstance(code, str) or not code or code != code.strip() or len(code) > MAX_CODE_LENGTH:
        raise AdminError(400, 'code is required: a failure code such as "INTERNAL.BAD_OUTPUT.CODE01"')
    if message is not None and not isinstance(message, str):
        raise AdminError(400, "message must be a string")
    try:
        before = backend.state.fail(task, code, message or default_failure_message(code))
    except TaskStateError as exc:
        raise AdminError(409, str(exc)) from None
    return _task_result(backend, task, before)


def _clock(backend: EmulatorBackend) -> dict[str, Any]:
    return {"now": backend.state.clock(), "offset": backend.state.clock.offset}


async def clock(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    return _clock(backend)


async def advance_clock(backend: EmulatorBackend, request: web.Request) -> dict[str, Any]:
    body = await _body(request)
    if set(body) != {"seconds"}:
        raise AdminError(400, 'body must be {"seconds": <number of seconds, >= 0>}')
    try:
        backend.state.clock.advance(body["seconds"])
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    return _clock(backend)


# path -> {method: handler}; routes.py registers them, with 405 (and Allow) for other methods.
ADMIN_ROUTES: dict[str, dict[str, AdminHandler]] = {
    "/_emulator/health": {"GET": admin(health)},
    "/_emulator/stats": {"GET": admin(stats)},
    "/_emulator/requests": {"GET": admin(requests), "DELETE": admin(requests)},
    "/_emulator/faults": {"GET": admin(faults), "POST": admin(faults), "DELETE": admin(faults)},
    "/_emulator/reset": {"POST": admin(reset)},
    "/_emulator/config": {"GET": admin(config), "POST": admin(config)},
    "/_emulator/prices": {"GET": admin(prices), "POST": admin(prices), "DELETE": admin(prices)},
    "/_emulator/tasks/{id}/cancel": {"POST": admin(cancel_task)},
    "/_emulator/tasks/{id}/complete": {"POST": admin(complete_task)},
    "/_emulator/tasks/{id}/fail": {"POST": admin(fail_task)},
    "/_emulator/clock": {"GET": admin(clock)},
    "/_emulator/clock/advance": {"POST": admin(advance_clock)},
}
