"""The task endpoints of both flavors: create a task, poll it, cancel/delete it.

Each endpoint takes the ``ApiCall`` (the gateway has already logged, faulted and checked the
request; ``call.backend`` holds the state) and returns the answer. Task-creating endpoints are generic: the
path's endpoint name selects the catalog entry (validator, output media), see ``catalog.py``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from runway_emulator.inputs import resolve_inputs, restore_own_outputs, stand_in_own_outputs
from runway_emulator.shapes import bare_task, wrapped_task
from runway_emulator.task_endpoints import endpoint_named
from runway_emulator.wire import flavor_error, json_response, no_content, runway_error, task_not_exist
from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.models import COMETAPI, WIRE_NAMES

if TYPE_CHECKING:
    from aiohttp import web

    from runway_emulator.gateway import ApiCall

log = logging.getLogger("runway_emulator")


def _unknown_task(flavor: str) -> web.Response:
    return task_not_exist() if flavor == COMETAPI else runway_error(404, "Task not found.")


async def create_task(call: ApiCall) -> web.Response:
    """``POST /<endpoint>``: validate the body and register a task -> ``{"id"}``."""
    backend, endpoint, flavor = call.backend, endpoint_named(call.arg), call.flavor
    body, problem = call.json()
    if problem is None and not isinstance(body, dict):
        problem = "Request body must be a JSON object."
    if problem is not None:
        return flavor_error(flavor, 400, problem, code="invalid_request")
    checked, own_outputs = stand_in_own_outputs(body, backend.base_url)
    try:
        validated = endpoint.validate(checked, flavor)
    except InvalidRequestError as exc:
        param = WIRE_NAMES.get(exc.field, exc.field)
        return flavor_error(flavor, 400, str(exc), code="invalid_request", param=param)
    state, cfg = backend.state, backend.config
    if cfg.daily_limit is not None and state.daily_creates(state.clock()) >= cfg.daily_limit:
        message = f"You have reached your daily limit of {cfg.daily_limit} generations. Try again tomorrow."
        return flavor_error(flavor, 429, message, code="daily_limit_exceeded")
    throttle = call.fault("throttle_extra")
    cancel = call.fault("external_cancel")
    task_body = restore_own_outputs(validated.body, own_outputs)
    resolved = await resolve_inputs(backend, endpoint.name, task_body)
    task = state.create(
        flavor,
        task_body,
        endpoint=endpoint.name,
        throttle_extra=float(throttle.params["seconds"]) if throttle else 0.0,
        cancel_after=float(cancel.params["after_seconds"]) if cancel else None,
        path=call.request.path,
        notes=resolved.notes,
        inputs=resolved.inputs,
        failure=resolved.failure,
    )
    if resolved.unfetched:
        # The URL itself may carry a signed query string: only its scheme and host are logged.
        where = resolved.unfetched.split("?", 1)[0].split("/", 3)[:3]
        log.warning(
            "Runway emulator task %s: the input %s is not fetched (offline); its output shows a placeholder",
            task.id,
            "/".join(where) + "/...",
        )
    for warning in validated.warnings:
        log.debug("create %s: %s", task.id, warning)
    return json_response(200, {"id": task.id})


async def poll_task(call: ApiCall) -> web.Response:
    """``GET /tasks/{id}``: Runway's bare task; CometAPI's envelope unless ``comet_poll_shape`` is bare."""
    return _poll(call, call.arg, wrapped=call.backend.config.comet_poll_shape == "wrapped")


async def poll_feed(call: ApiCall) -> web.Response:
    """CometAPI's ``POST /runway/feed`` ``{"task_id"}``: always the envelope."""
    body, _ = call.json()
    task_id = body.get("task_id") if isinstance(body, dict) else None
    if not isinstance(task_id, str) or not task_id:
        return flavor_error(call.flavor, 400, "task_id is required", code="invalid_request", param="task_id")
    return _poll(call, task_id, wrapped=True)


def _poll(call: ApiCall, task_id: str, *, wrapped: bool) -> web.Response:
    backend, flavor = call.backend, call.flavor
    state = backend.state
    now = state.clock()
    state.catch_up(now)
    task = state.lookup(task_id, flavor)
    if task is None:
        state.unknown_polls += 1
        return _unknown_task(flavor)
    state.record_poll(task, now)
    if flavor == COMETAPI and not state.visible(task, now):
        return task_not_exist()
    bare = bare_task(state, task, now, backend.output_url)
    if backend.faults:
        spec = call.fault("unknown_status")
        if spec is not None:
            bare["status"] = spec.params["value"]
    payload = wrapped_task(state, bare, task, now) if wrapped and flavor == COMETAPI else bare
    return json_response(200, payload)


async def delete_task(call: ApiCall) -> web.Response:
    """``DELETE /tasks/{id}``: cancel a task still going, delete a finished one and its output."""
    backend = call.backend
    state = backend.state
    task = state.lookup(call.arg, call.flavor)
    if task is None or (call.flavor == COMETAPI and not state.visible(task, state.clock())):
        return _unknown_task(call.flavor)
    state.delete(task, "api")
    backend.media.evict(task.id)
    return no_content()
