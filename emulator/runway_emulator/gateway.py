"""What every API request goes through around its endpoint, in the order a real gateway works.

log -> ``slow`` (before) -> ``reset``/``rate_limit``/``server_error`` (before the request is
processed, so no task is created) -> API key and version checks -> the endpoint ->
``malformed`` (replaces a 200 body) and ``reset``/``slow`` with ``when: after`` (the work was
done but the answer is lost or late: the case where a create may have been paid for).

Each API route is one ``ApiRoute`` (an aiohttp handler) that knows its route kind (what
faults match on: create, poll, cancel, organization, upload, output) and flavor; admin endpoints
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

from runway_emulator import auth
from runway_emulator.backend import BACKEND, EmulatorBackend
from runway_emulator.lowlevel import DELIVER, RESET, SHORT, deliver, reset_connection
from runway_emulator.wire import HTML, HTML_ERROR_PAGE, flavor_error, raw_response

if TYPE_CHECKING:
    from runway_emulator.config import EmulatorConfig
    from runway_emulator.faults import FaultSpec

log = logging.getLogger("runway_emulator")

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
    """One API request: what endpoints and faults need, logged on creation, body parsed once."""

    __slots__ = ("_json", "arg", "backend", "body", "entry", "flavor", "request", "route")

    def __init__(self, request: web.Request, route: str, flavor: str, arg: str, body: bytes) -> None:
        self.request = request
        self.backend: EmulatorBackend = request.app[BACKEND]
        self.route = route
        self.flavor = flavor
        self.arg = arg
        self.body = body
        self._json: tuple[Any, str | None] | None = None
        self.entry = self._record()

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

    def _record(self) -> dict[str, Any] | None:
        """Count the request and add it to the request log; returns the entry to complete."""
        backend, request = self.backend, self.request
        backend.state.requests_total += 1
        return backend.requests.record(
            at=backend.state.clock(),
            method=request.method,
            path=request.path,
            query=request.query_string,
            raw_headers=request.raw_headers,
            body=self.body,
            parsed=self.json() if self.body else None,
            connection=connection_id(request),
            pinned_key=backend.config.api_key,
        )

    def fault(self, kind: str) -> FaultSpec | None:
        """Consume one firing of fault ``kind`` if it applies to this request's route."""
        return self.backend.take_fault(kind, self.route, self.request.method, self.request.path, self.entry)

    def finish(self, status: int | str) -> None:
        """Note the outcome in the request log (and the access log with ``verbose``)."""
        if self.entry is not None:
            self.entry["status"] = status
        if self.backend.config.verbose:
            request = self.request
            log.info("%s %s %s -> %s", request.remote, request.method, request.path_qs, status)


Endpoint = Callable[[ApiCall], Awaitable[web.Response]]


def _always(_config: EmulatorConfig) -> bool:
    return True


async def read_call(request: web.Request, route: str, flavor: str, arg: str = "", *, read_body: bool = True) -> ApiCall:
    body = await request.read() if read_body and request.body_exists else b""
    return ApiCall(request, route, flavor, request.match_info.get("id", arg), body)


async def refuse(request: web.Request, flavor: str, answer_for: Callable[[ApiCall], web.Response]) -> web.Response:
    """Log a request that no endpoint takes (404/405) and answer it; refusals are never faulted."""
    call = await read_call(request, "", flavor)
    answer = answer_for(call)
    call.finish(answer.status)
    return answer


def method_not_allowed(call: ApiCall, allow: str) -> web.Response:
    message = f"Method {call.request.method} not allowed for {call.request.path}"
    return flavor_error(call.flavor, 405, message, code="method_not_allowed", headers={"Allow": allow})


class ApiRoute:
    """The aiohttp handler of one API route: log, faults and checks around ``endpoint``.

    ``arg`` is passed to the endpoint when the path has no ``{id}`` (e.g. the endpoint name of
    a create route). ``available`` turns the route off at runtime (405 with ``unavailable_allow``),
    as CometAPI without DELETE support. ``read_body=False`` leaves the body to the endpoint
    (multipart forms, read with ``request.post()``).
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
        read_body: bool = True,
    ) -> None:
        self.route = route
        self.flavor = flavor
        self.endpoint = endpoint
        self.arg = arg
        self.checked = checked
        self.available = available
        self.unavailable_allow = unavailable_allow
        self.read_body = read_body

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        call = await read_call(request, self.route, self.flavor, self.arg, read_body=self.read_body)
        backend = call.backend
        if not self.available(backend.config):
            answer = method_not_allowed(call, self.unavailable_allow)
            call.finish(answer.status)
            return answer
        if self.route == "create":
            backend.state.create_attempts += 1
        delay_after = 0.0
        slow = call.fault("slow") if backend.faults else None
        if slow is not None:
            delay = float(slow.params["delay"])
            if slow.params["when"] == "after":
                delay_after = delay
            else:
                epoch = backend.epoch
                await asyncio.sleep(delay)
                if epoch != backend.epoch:  # the emulator was reset meanwhile (e.g. the next test began)
                    return reset_connection(request)
        answer, action = await self._process(call)
        if delay_after:
            await asyncio.sleep(delay_after)
        call.finish("reset" if action == RESET else answer.status)
        return await deliver(request, answer, action)

    async def _process(self, call: ApiCall) -> tuple[web.Response, str]:
        """The answer and how to deliver it (as is, or a reset / short body in its place)."""
        backend, action = call.backend, DELIVER
        if backend.faults:
            reset = call.fault("reset")
            if reset is not None:
                if reset.params["when"] == "before":
                    return web.Response(status=500), RESET
                action = RESET
            early = _early_fault(call)
            if early is not None:
                return early, DELIVER
        refused = None
        if self.checked:  # outputs are signed URLs, like a CDN's: no API key
            refused = auth.refusal(call.request.headers, self.route, self.flavor, backend.config.api_key)
        if refused is not None:
            answer = flavor_error(self.flavor, refused.status, refused.message, code=refused.code, param=refused.param)
        else:
            answer = await self.endpoint(call)
        if action == DELIVER and answer.status == 200 and backend.faults:
            return _malformed(call, answer)
        return answer, action


def _early_fault(call: ApiCall) -> web.Response | None:
    """``rate_limit`` or ``server_error``: refused before the request is processed."""
    spec = call.fault("rate_limit")
    if spec is not None:
        retry_after = float(spec.params["retry_after"])
        headers = {"Retry-After": str(int(retry_after)) if retry_after == int(retry_after) else f"{retry_after:g}"}
        message = "Too many requests. Please slow down and retry later."
        return flavor_error(call.flavor, 429, message, code="rate_limit_exceeded", headers=headers)
    spec = call.fault("server_error")
    if spec is not None:
        status = int(spec.params["status"])
        message = f"The service is temporarily unavailable ({status}). Please retry."
        return flavor_error(call.flavor, status, message, code="upstream_error")
    return None


def _malformed(call: ApiCall, answer: web.Response) -> tuple[web.Response, str]:
    """A 200 answer replaced by garbage, or delivered short, when ``malformed`` fires."""
    spec = call.fault("malformed")
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
