"""The route table: which path and method reaches which endpoint, for both flavors.

CometAPI: ``/runwayml/v1/<endpoint>`` and ``/runwayml/v1/tasks/{id}`` (+ ``/runway/feed``);
Runway direct: ``/v1/<endpoint>`` (every task endpoint of the SDK, ``generate/*`` and
``recipes/*`` included), ``/v1/tasks/{id}``, ``/v1/organization``, ``/v1/organization/usage``,
``/v1/uploads``. One create route per endpoint and flavor that offers it
(``task_endpoints.py``); outputs and the storage form need no API key. A known path with
another method gets 405 with ``Allow``; an unknown path, or an endpoint the flavor does not
offer, gets what each API answers (Runway: JSON 404; CometAPI's edge: an HTML page).
Refusals are logged like any API request but never faulted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from runway_emulator import admin
from runway_emulator.account import organization, organization_usage
from runway_emulator.backend import BACKEND, EmulatorBackend
from runway_emulator.endpoints import create_task, delete_task, poll_feed, poll_task
from runway_emulator.gateway import ApiRoute, method_not_allowed, refuse
from runway_emulator.media import OUTPUT_PREFIX
from runway_emulator.outputs import serve_output
from runway_emulator.protocol import COMETAPI, FLAVORS, PATH_PREFIXES, RUNWAY
from runway_emulator.task_endpoints import task_endpoints
from runway_emulator.upload_endpoints import STORAGE_PREFIX, create_upload, receive_upload
from runway_emulator.wire import HTML, HTML_404, raw_response, runway_error

if TYPE_CHECKING:
    from runway_emulator.config import EmulatorConfig

# A 5 MiB data URI plus the rest of a JSON body fits comfortably.
MAX_BODY_BYTES = 16 * 1024 * 1024

RouteTable = list[tuple[str, dict[str, ApiRoute]]]


def _comet_delete(config: EmulatorConfig) -> bool:
    return config.comet_delete_supported


def api_routes() -> RouteTable:
    """(path, {method: route}) for every API path of both flavors."""
    table: RouteTable = []
    for flavor in FLAVORS:
        prefix = PATH_PREFIXES[flavor]
        for endpoint in task_endpoints().values():
            if flavor in endpoint.paths:
                create = ApiRoute("create", flavor, create_task, arg=endpoint.name)
                table.append((endpoint.paths[flavor], {"POST": create}))
        delete = ApiRoute("cancel", flavor, delete_task)
        if flavor == COMETAPI:  # CometAPI does not document DELETE; it can be switched off
            delete = ApiRoute("cancel", flavor, delete_task, available=_comet_delete, unavailable_allow="GET")
        table.append((f"{prefix}/tasks/{{id}}", {"GET": ApiRoute("poll", flavor, poll_task), "DELETE": delete}))
    table.append(("/runway/feed", {"POST": ApiRoute("poll", COMETAPI, poll_feed)}))
    table.append(("/v1/organization", {"GET": ApiRoute("organization", RUNWAY, organization)}))
    table.append(("/v1/organization/usage", {"POST": ApiRoute("organization", RUNWAY, organization_usage)}))
    table.append(("/v1/uploads", {"POST": ApiRoute("upload", RUNWAY, create_upload)}))
    output = ApiRoute("output", "", serve_output, checked=False)  # signed URLs, like a CDN: no API key
    table.append((OUTPUT_PREFIX + "{id}", {"GET": output, "HEAD": output}))
    # A presigned storage form, like an S3 bucket's: authorized by its signature, never an API key.
    storage = ApiRoute("upload", "", receive_upload, checked=False, read_body=False)
    table.append((STORAGE_PREFIX + "{id}", {"POST": storage}))
    return table


class _RefuseMethod:
    """405 with ``Allow`` (the methods available under the current config) for a known API path."""

    def __init__(self, flavor: str, routes: Mapping[str, ApiRoute]) -> None:
        self._flavor = flavor
        self._routes = routes

    def allow(self, config: EmulatorConfig) -> str:
        return ", ".join(method for method, route in self._routes.items() if route.available(config))

    async def __call__(self, request: web.Request) -> web.Response:
        return await refuse(
            request, self._flavor, lambda call: method_not_allowed(call, self.allow(call.backend.config))
        )


async def _not_found(request: web.Request) -> web.Response:
    path = request.path
    if path.startswith("/_emulator/"):
        return admin.error(404, f"unknown admin endpoint {path}")
    if path.startswith("/v1/"):
        return await refuse(request, RUNWAY, lambda _call: runway_error(404, f"Not found: {path}"))
    # CometAPI's edge answers unknown paths with a web page.
    return await refuse(request, COMETAPI, lambda _call: raw_response(404, HTML_404, HTML))


def _admin_refusal(allow: str) -> admin.AdminHandler:
    async def refuse_method(request: web.Request) -> web.Response:
        return admin.error(405, "method not allowed", headers={"Allow": allow})

    return refuse_method


def build_app(backend: EmulatorBackend) -> web.Application:
    """The aiohttp application serving both flavors, the outputs and the admin endpoints."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[BACKEND] = backend
    router = app.router
    for path, methods in api_routes():
        resource = router.add_resource(path)
        for method, route in methods.items():
            resource.add_route(method, route)
        resource.add_route("*", _RefuseMethod(next(iter(methods.values())).flavor, methods))
    for path, handlers in admin.ADMIN_ROUTES.items():
        resource = router.add_resource(path)
        for method, handler in handlers.items():
            resource.add_route(method, handler)
        resource.add_route("*", _admin_refusal(", ".join(handlers)))
    router.add_route("*", "/{tail:.*}", _not_found)
    return app
