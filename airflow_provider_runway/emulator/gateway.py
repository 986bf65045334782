"""What every API request goes through around its endpoint, in the order a real gateway works.

log -> ``slow`` (before) -> ``reset``/``rate_limit``/``server_error`` (before the request is
processed, so no task is created) -> API key and version checks -> the endpoint ->
``malformed`` (replaces a 200 body) and ``reset``/``slow`` with ``when: after`` (the work was
done but the answer is lost or late: the case where a create may have been paid for).

Each API route is one ``ApiRoute`` (an aiohttp handler) that knows its route kind (what
faults match on: create, poll, cancel, organization, output) and flavor; admin endpoints
never come through here, so they are never faulted or logged.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from airflow_provider_runway.emulator import auth
from airflow_provider_runway.emulator.backend import BACKEND, EmulatorBackend
from airflow_provider_runway.emulator.lowlevel import DELIVER, RESET, SHORT, deliver, reset_connection
from airflow_provider_runway.emulator.wire import HTML, HTML_ERROR_PAGE, flavor_error, raw_response

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.config import EmulatorConfig

log = logging.getLogger("airflow_provider_runway.emulator")

_CONNECTION_IDS = itertools.count(1)
_CONNECTIONS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def connection_id(request: web.BaseRequest) -> int:
    """A number per TCP connection (same number: keep-alive reuse), 0 if it is gone already."""
    transport = request.transport
    if transport is None:
        return 0
    number = _CONNECTIONS.get(transport)
    if number is None:
        number = _CONNECTIONS[transport] = next(_CONNECTION_IDS)
    return number


class ApiCall:
    """One API request as endpoints see it: flavor, path argument, body parsed at most once."""

    __slots__ = ("_json", "arg", "body", "flavor", "request")

    def __init__(self, request: web.Request, flavor: str, arg: str, body: bytes) -> None:
        self.request = request
        self.flavor = flavor
        self.arg = arg
        self.body = body
        self._json: tuple[Any, str | None] | None = None

    def json(self) -> tuple[Any, str | None]:
        """(parsed body, problem): shared by the endpoint and the request log."""
        if self._json is None:
            if not self.body:
                self._json = (None, "Request body is empty: send a JSON object.")
            else:
                try:
                    self._json = (json.loads(self.body), None)
                except (ValueError, UnicodeDecodeError):
                    self._json = (None, "Request body is not valid JSON.")
        return self._json


Endpoint = Callable[[EmulatorBackend, ApiCall], Awaitable[web.Response]]


def _always(_config: EmulatorConfig) -> bool:
    return True


def record(backend: EmulatorBackend, call: ApiCall) -> dict[str, Any] | None:
    """Count the request and add it to the request log; returns the log entry to complete."""
    state, request, body = backend.state, call.request, call.body
    state.requests_total += 1
    return backend.requests.record(
        at=state.clock(),
        method=request.method,
        path=request.path,
        query=request.query_string,
        raw_headers=request.raw_headers,
        body=body,
        parsed=call.json() if body else None,
        connection=connection_id(request),
        pinned_key=backend.config.api_key,
    )


def finish(backend: EmulatorBackend, request: web.Request, entry: dict[str, Any] | None, status: int | str) -> None:
    if entry is not None:
        entry["status"] = status
    if backend.config.verbose:
        log.info("%s %s %s -> %s", request.remote, request.method, request.path_qs, status)


async def refuse(
    request: web.Request, flavor: str, answer_for: Callable[[EmulatorBackend], web.Response]
) -> web.Response:
    """Log a request that no endpoint takes (404/405) and answer it; refusals are never faulted."""
    backend = request.app[BACKEND]
    entry = record(backend, ApiCall(request, flavor, "", await request.read()))
    answer = answer_for(backend)
    finish(backend, request, entry, answer.status)
    return answer


def method_not_allowed(flavor: str, request: web.Request, allow: str) -> web.Response:
    message = f"Method {request.method} not allowed for {request.path}"
    return flavor_error(flavor, 405, message, code="method_not_allowed", headers={"Allow": allow})


class ApiRoute:
    """The aiohttp handler of one API route: log, faults and checks around ``endpoint``.

    ``arg`` is passed to the endpoint when the path has no ``{id}`` (e.g. the endpoint name of
    a create route). ``available`` turns the route off at runtime (405 with ``unavailable_allow``),
    as CometAPI without DELETE support.
    """

    def __init__(
        self,
        route: str,
        flavor: str,
        endpoint: Endpoint,
        *,
        arg: str = "",
        checked: bool = True,
        available: Callable[[EmulatorConfig], bool] = _always,
        unavailable_allow: str = "",
    ) -> None:
        self.route = route
        self.flavor = flavor
        self.endpoint = endpoint
        self.arg = arg
        self.checked = checked
        self.available = available
        self.unavailable_allow = unavailable_allow

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        backend = request.app[BACKEND]
        body = await request.read() if request.body_exists else b""
        call = ApiCall(request, self.flavor, request.match_info.get("id", self.arg), body)
        entry = record(backend, call)
        if not self.available(backend.config):
            answer = method_not_allowed(self.flavor, request, self.unavailable_allow)
            finish(backend, request, entry, answer.status)
            return answer
        if self.route == "create":
            backend.state.create_attempts += 1
        delay_after = 0.0
        if backend.faults:
            slow = backend.take_fault("slow", self.route, request.method, request.path, entry)
            if slow is not None:
                delay = float(slow.params["delay"])
                if slow.params["when"] == "after":
                    delay_after = delay
                else:
                    epoch = backend.epoch
                    await asyncio.sleep(delay)
                    if epoch != backend.epoch:  # the emulator was reset meanwhile (e.g. the next test began)
                        return reset_connection(request)
        answer, action = await self._process(backend, call, entry)
        if delay_after:
            await asyncio.sleep(delay_after)
        finish(backend, request, entry, "reset" if action == RESET else answer.status)
        return await deliver(request, answer, action)

    async def _process(
        self, backend: EmulatorBackend, call: ApiCall, entry: dict[str, Any] | None
    ) -> tuple[web.Response, str]:
        request, action = call.request, DELIVER
        if backend.faults:
            reset = backend.take_fault("reset", self.route, request.method, request.path, entry)
            if reset is not None:
                if reset.params["when"] == "before":
                    return web.Response(status=500), RESET
                action = RESET
            early = self._early_fault(backend, request, entry)
            if early is not None:
                return early, DELIVER
        refused = (
            auth.refusal(request.headers, self.route, self.flavor, backend.config.api_key) if self.checked else None
        )
        if refused is not None:
            answer = flavor_error(self.flavor, refused.status, refused.message, code=refused.code, param=refused.param)
        else:
            answer = await self.endpoint(backend, call)
        if action == DELIVER and answer.status == 200 and backend.faults:
            return self._malformed(backend, request, answer, entry)
        return answer, action

    def _early_fault(
        self, backend: EmulatorBackend, request: web.Request, entry: dict[str, Any] | None
    ) -> web.Response | None:
        spec = backend.take_fault("rate_limit", self.route, request.method, request.path, entry)
        if spec is not None:
            retry_after = float(spec.params["retry_after"])
            headers = {"Retry-After": str(int(retry_after)) if retry_after == int(retry_after) else f"{retry_after:g}"}
            message = "Too many requests. Please slow down and retry later."
            return flavor_error(self.flavor, 429, message, code="rate_limit_exceeded", headers=headers)
        spec = backend.take_fault("server_error", self.route, request.method, request.path, entry)
        if spec is not None:
            status = int(spec.params["status"])
            message = f"The service is temporarily unavailable ({status}). Please retry."
            return flavor_error(self.flavor, status, message, code="upstream_error")
        return None

    def _malformed(
        self, backend: EmulatorBackend, request: web.Request, answer: web.Response, entry: dict[str, Any] | None
    ) -> tuple[web.Response, str]:
        spec = backend.take_fault("malformed", self.route, request.method, request.path, entry)
        if spec is None:
            return answer, DELIVER
        kind = spec.params["body"]
        body = answer.body if isinstance(answer.body, bytes) else b""
        if kind == "html":
            return raw_response(200, HTML_ERROR_PAGE, HTML), DELIVER
        if kind == "empty":
            return raw_response(200, b"", answer.content_type), DELIVER
        if kind == "truncated":
            return raw_response(200, body[: len(body) // 2], answer.content_type), DELIVER
        return answer, SHORT
