"""The task endpoints of both flavors: create a task, poll it, cancel/delete it.

Each endpoint takes the ``ApiCall`` (the gateway has already logged, faulted and checked the
request; ``call.backend`` holds the state) and returns the answer. Task-creating endpoints are
generic: the path's endpoint name selects the SDK request type the body must match
(``oracle``), the output medium and the answer's shape (``task_endpoints.py``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from runway_emulator.inputs import resolve_inputs, stand_in_own_outputs
from runway_emulator.oracle import Refusal, check_body
from runway_emulator.pricing import billed_model
from runway_emulator.pricing import estimate as estimate_credits
from runway_emulator.protocol import COMETAPI
from runway_emulator.routing import route, routing_answer
from runway_emulator.shapes import bare_task, wrapped_task
from runway_emulator.task_endpoints import ID_ONLY, ROUTING, TaskEndpoint, endpoint_named
from runway_emulator.wire import flavor_error, json_response, no_content, runway_error, task_not_exist

if TYPE_CHECKING:
    from aiohttp import web

    from runway_emulator.gateway import ApiCall
    from runway_emulator.state import Task

log = logging.getLogger("runway_emulator")


def _unknown_task(flavor: str) -> web.Response:
    return task_not_exist() if flavor == COMETAPI else runway_error(404, "Task not found.")


def create_answer(endpoint: TaskEndpoint, task: Task) -> dict[str, Any]:
    """The create's answer as the SDK types it for this endpoint (``task_endpoints.py``)."""
    if endpoint.answer == ID_ONLY:
        return {"id": task.id}
    chosen = route(endpoint.name, task.body) if endpoint.answer == ROUTING else None
    if chosen is not None:
        return {"id": task.id, "routing": routing_answer(chosen, str(task.body.get("configId")), task.estimate)}
    return {"id": task.id, "estimatedCost": {"credits": task.estimate}}


async def create_task(call: ApiCall) -> web.Response:
    """``POST /<endpoint>``: check the body against the SDK's request type and register a task."""
    backend, endpoint, flavor = call.backend, endpoint_named(call.arg), call.flavor
    body, problem = call.json()
    if problem is None and not isinstance(body, dict):
        problem = "Request body must be a JSON object."
    if problem is not None:
        return flavor_error(flavor, 400, problem, code="invalid_request")
    try:
        check_body(endpoint.name, flavor, stand_in_own_outputs(body, backend.base_url))
    except Refusal as exc:
        return flavor_error(flavor, 400, str(exc), code="invalid_request", param=exc.field)
    state, cfg = backend.state, backend.config
    if cfg.daily_limit is not None and state.daily_creates(state.clock()) >= cfg.daily_limit:
        message = f"You have reached your daily limit of {cfg.daily_limit} generations. Try again tomorrow."
        return flavor_error(flavor, 429, message, code="daily_limit_exceeded")
    throttle = call.fault("throttle_extra")
    cancel = call.fault("external_cancel")
    resolved = await resolve_inputs(backend, endpoint.name, flavor, body)
    priced = await estimate_credits(backend.prices, endpoint, flavor, body, resolved.inputs)
    task = state.create(
        flavor,
        body,
        endpoint=endpoint.name,
        estimate=priced.credits,
        final=priced.final,
        billed_as=billed_model(endpoint.name, body),
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
    return json_response(200, create_answer(endpoint, task))


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
