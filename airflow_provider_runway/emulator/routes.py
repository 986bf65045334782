"""The API surface of both flavors: routing, request checks, faults and the task endpoints.

Order of work for an API request, as a real gateway would do it: route (404/405) ->
``slow`` -> ``reset``/``rate_limit``/``server_error`` (before the request is processed, so
no task is created) -> auth (401) -> X-Runway-Version (400) -> the endpoint -> ``malformed``
(replaces a 200 body) and ``reset``/``slow`` with ``when: after`` (the work was done but the
answer is lost or late: the case where a create may have been paid for).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.emulator import admin
from airflow_provider_runway.emulator.faults import FaultPlan, FaultSpec
from airflow_provider_runway.emulator.outputs import OUTPUT_PREFIX, Outputs
from airflow_provider_runway.emulator.requestlog import RequestLog
from airflow_provider_runway.emulator.server import RESET, SHORT, HandlerResult, Request, Response
from airflow_provider_runway.emulator.state import Clock, EmulatorState, Task
from airflow_provider_runway.emulator.wire import (
    HTML_404,
    HTML_ERROR_PAGE,
    flavor_error,
    json_response,
    runway_error,
    task_not_exist,
)
from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.models import COMETAPI, MODELS, RUNWAY, WIRE_NAMES, validate_body

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.config import EmulatorConfig

log = logging.getLogger("airflow_provider_runway.emulator")

Endpoint = Callable[[Request, str, str], HandlerResult]
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _wire_name(field: str) -> str:
    # InvalidRequestError.field reads "prompt_image (promptImage)" or just "audio".
    match = re.search(r"\(([^)]+)\)$", field)
    return match.group(1) if match else field


class App:
    """Request handler for the whole emulator; runs on the event loop thread only."""

    def __init__(self, config: EmulatorConfig, clock: Clock = time.time) -> None:
        self.initial_config = config
        self.state = EmulatorState(config, clock)
        self.faults = FaultPlan(config.seed)
        self.faults.update(config.faults)
        self.base_url = f"http://{config.host}:{config.port}"
        self.outputs = Outputs(self)
        self._log = RequestLog(self.state)
        # Bumped by reset(): a request delayed across a reset must not act on the new state.
        self.epoch = 0
        self._exact: dict[str, tuple[str, str, dict[str, Endpoint]]] = {
            "/runwayml/v1/image_to_video": ("create", COMETAPI, {"POST": self._create}),
            "/v1/image_to_video": ("create", RUNWAY, {"POST": self._create}),
            "/runway/feed": ("poll", COMETAPI, {"POST": self._feed}),
            "/v1/organization": ("organization", RUNWAY, {"GET": self._organization}),
        }
        self._task_methods: dict[str, tuple[str, Endpoint]] = {
            "GET": ("poll", self._poll),
            "DELETE": ("cancel", self._delete),
        }

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def set_base_url(self, host: str, port: int) -> None:
        if self.initial_config.public_base_url:
            self.base_url = self.initial_config.public_base_url.rstrip("/")
            return
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        self.base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def reset(self) -> None:
        """Back to the startup state: no tasks, no stats, startup faults and config."""
        cfg = self.initial_config
        self.epoch += 1
        self.state.reset(cfg)
        self.faults.clear(cfg.seed)
        self.faults.update(cfg.faults)
        self.outputs.clear()

    def configure(self, changes: dict[str, Any]) -> EmulatorConfig:
        cfg = self.state.config.replace(changes, runtime=True)
        self.state.set_config(cfg)
        return cfg

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, req: Request) -> HandlerResult:
        path = req.path
        if path.startswith("/_emulator/"):
            if path.startswith(OUTPUT_PREFIX):
                if req.method not in ("GET", "HEAD"):
                    return Response(405, b"", None, [("Allow", "GET, HEAD")])
                return self._api(req, "output", "", self.outputs.serve, path[len(OUTPUT_PREFIX) :])
            return admin.handle(self, req)
        exact = self._exact.get(path)
        if exact is not None:
            route, flavor, methods = exact
            endpoint = methods.get(req.method)
            if endpoint is None:
                return self._refuse(req, flavor, 405, ", ".join(methods))
            return self._api(req, route, flavor, endpoint, "")
        for prefix, flavor in (("/v1/tasks/", RUNWAY), ("/runwayml/v1/tasks/", COMETAPI)):
            if path.startswith(prefix):
                task_id = path[len(prefix) :]
                if not task_id or "/" in task_id:
                    break
                found = self._task_methods.get(req.method)
                if found is None or (
                    req.method == "DELETE" and flavor == COMETAPI and not self.config.comet_delete_supported
                ):
                    allow = "GET, DELETE" if flavor == RUNWAY or self.config.comet_delete_supported else "GET"
                    return self._refuse(req, flavor, 405, allow)
                return self._api(req, found[0], flavor, found[1], task_id)
        return self._refuse(req, RUNWAY if path.startswith("/v1/") else COMETAPI, 404, "")

    def _refuse(self, req: Request, flavor: str, status: int, allow: str) -> Response:
        self.state.requests_total += 1
        entry = self._log.record(req)
        if status == 405:
            resp = flavor_error(
                flavor, 405, f"Method {req.method} not allowed for {req.path}", code="method_not_allowed"
            )
            resp.headers.append(("Allow", allow))
        elif flavor == RUNWAY:
            resp = runway_error(404, f"Not found: {req.path}")
        else:
            # CometAPI's edge answers unknown paths with a web page, not JSON.
            resp = Response(404, HTML_404, "text/html; charset=utf-8")
        return self._done(resp, req, entry)

    def _api(self, req: Request, route: str, flavor: str, endpoint: Endpoint, arg: str) -> HandlerResult:
        state = self.state
        state.requests_total += 1
        entry = self._log.record(req)
        if route == "create":
            state.create_attempts += 1
        if self.faults:
            slow = self._take("slow", route, req, entry)
            if slow is not None:
                delay = float(slow.params["delay"])
                if slow.params["when"] == "before":
                    return self._slow_before(delay, req, route, flavor, endpoint, arg, entry)
                return self._slow_after(delay, self._process(req, route, flavor, endpoint, arg, entry))
        return self._process(req, route, flavor, endpoint, arg, entry)

    async def _slow_before(
        self,
        delay: float,
        req: Request,
        route: str,
        flavor: str,
        endpoint: Endpoint,
        arg: str,
        entry: dict[str, Any] | None,
    ) -> Response:
        epoch = self.epoch
        await asyncio.sleep(delay)
        if epoch != self.epoch:
            return Response(0, action=RESET)  # the emulator was reset meanwhile (e.g. the next test began)
        result = self._process(req, route, flavor, endpoint, arg, entry)
        return result if isinstance(result, Response) else await result

    async def _slow_after(self, delay: float, result: HandlerResult) -> Response:
        resp = result if isinstance(result, Response) else await result
        await asyncio.sleep(delay)
        return resp

    def _process(
        self, req: Request, route: str, flavor: str, endpoint: Endpoint, arg: str, entry: dict[str, Any] | None
    ) -> HandlerResult:
        reset_after = False
        if self.faults:
            reset = self._take("reset", route, req, entry)
            if reset is not None:
                if reset.params["when"] == "before":
                    return self._done(Response(0, action=RESET), req, entry)
                reset_after = True
            early = self._early_fault(req, route, flavor, entry)
            if early is not None:
                return self._done(early, req, entry)
        refused = self._check(req, route, flavor)
        result = endpoint(req, flavor, arg) if refused is None else refused
        if not isinstance(result, Response):
            return self._finish_async(result, req, route, entry, reset_after)
        if self.faults:
            result = self._late_fault(result, req, route, entry, reset_after)
        return self._done(result, req, entry)

    async def _finish_async(
        self, pending: Awaitable[Response], req: Request, route: str, entry: dict[str, Any] | None, reset: bool
    ) -> Response:
        resp = await pending
        if self.faults or reset:
            resp = self._late_fault(resp, req, route, entry, reset)
        return self._done(resp, req, entry)

    def _early_fault(self, req: Request, route: str, flavor: str, entry: dict[str, Any] | None) -> Response | None:
        spec = self._take("rate_limit", route, req, entry)
        if spec is not None:
            headers = [("Retry-After", _seconds(float(spec.params["retry_after"])))]
            message = "Too many requests. Please slow down and retry later."
            return flavor_error(flavor, 429, message, code="rate_limit_exceeded", headers=headers)
        spec = self._take("server_error", route, req, entry)
        if spec is not None:
            status = int(spec.params["status"])
            message = f"The service is temporarily unavailable ({status}). Please retry."
            return flavor_error(flavor, status, message, code="upstream_error")
        return None

    def _late_fault(
        self, resp: Response, req: Request, route: str, entry: dict[str, Any] | None, reset: bool
    ) -> Response:
        if reset:
            return Response(0, action=RESET)
        if resp.status == 200:
            spec = self._take("malformed", route, req, entry)
            if spec is not None:
                kind = spec.params["body"]
                if kind == "html":
                    return Response(200, HTML_ERROR_PAGE, "text/html; charset=utf-8")
                if kind == "empty":
                    return Response(200, b"", resp.content_type)
                if kind == "truncated":
                    return Response(200, resp.body[: len(resp.body) // 2], resp.content_type, resp.headers)
                return Response(200, resp.body, resp.content_type, resp.headers, action=SHORT)
        return resp

    def _take(self, kind: str, route: str, req: Request, entry: dict[str, Any] | None) -> FaultSpec | None:
        spec = self.faults.take(kind, route)
        if spec is not None:
            self.state.record_fault(kind, route, req.method, req.path)
            if entry is not None:
                entry["faults"].append(kind)
        return spec

    def _done(self, resp: Response, req: Request, entry: dict[str, Any] | None) -> Response:
        status: int | str = "reset" if resp.action == RESET else resp.status
        if entry is not None:
            entry["status"] = status
        if self.state.config.verbose:
            log.info("%s %s %s -> %s", req.peer, req.method, req.path + ("?" + req.query if req.query else ""), status)
        return resp

    # -- request checks ----------------------------------------------------------------------

    def _check(self, req: Request, route: str, flavor: str) -> Response | None:
        if route == "output":
            return None  # signed URLs, like a CDN: no API key
        auth = req.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            message = "Missing API key: send the header 'Authorization: Bearer <API key>'."
            return flavor_error(flavor, 401, message, code="missing_api_key")
        pinned = self.state.config.api_key
        if pinned is not None and not hmac.compare_digest(key.encode(), pinned.encode()):
            return flavor_error(flavor, 401, "Invalid API key.", code="invalid_api_key")
        if route == "create" or flavor == RUNWAY:
            version = req.headers.get("x-runway-version")
            if not version:
                message = "Missing required header X-Runway-Version (an API version date such as 2024-11-06)."
                return flavor_error(flavor, 400, message, code="missing_header", param="X-Runway-Version")
            if not _VERSION.match(version):
                message = f"Invalid X-Runway-Version header {version[:40]!r}: expected a date such as 2024-11-06."
                return flavor_error(flavor, 400, message, code="invalid_header", param="X-Runway-Version")
        return None

    # -- endpoints ---------------------------------------------------------------------------

    def _create(self, req: Request, flavor: str, _arg: str) -> Response:
        body, problem = req.json()
        if problem is None and not isinstance(body, dict):
            problem = "Request body must be a JSON object."
        if problem is not None:
            return flavor_error(flavor, 400, problem, code="invalid_request")
        try:
            validated = validate_body(body, flavor)
        except InvalidRequestError as exc:
            param = WIRE_NAMES.get(exc.field) or _wire_name(exc.field)
            return flavor_error(flavor, 400, str(exc), code="invalid_request", param=param)
        state, cfg = self.state, self.state.config
        if cfg.daily_limit is not None and state.daily_creates(state.clock()) >= cfg.daily_limit:
            message = f"You have reached your daily limit of {cfg.daily_limit} generations. Try again tomorrow."
            return flavor_error(flavor, 429, message, code="daily_limit_exceeded")
        throttle = self._take("throttle_extra", "create", req, None)
        cancel = self._take("external_cancel", "create", req, None)
        task = state.create(
            flavor,
            validated.body,
            throttle_extra=float(throttle.params["seconds"]) if throttle else 0.0,
            cancel_after=float(cancel.params["after_seconds"]) if cancel else None,
            path=req.path,
        )
        for warning in validated.warnings:
            log.debug("create %s: %s", task.id, warning)
        return json_response(200, {"id": task.id})

    def _poll(self, req: Request, flavor: str, task_id: str) -> Response:
        return self._poll_task(req, flavor, task_id, wrapped=flavor == COMETAPI and self._wrapped())

    def _wrapped(self) -> bool:
        return self.state.config.comet_poll_shape == "wrapped"

    def _feed(self, req: Request, flavor: str, _arg: str) -> Response:
        body, _ = req.json()
        task_id = body.get("task_id") if isinstance(body, dict) else None
        if not isinstance(task_id, str) or not task_id:
            return flavor_error(flavor, 400, "task_id is required", code="invalid_request", param="task_id")
        return self._poll_task(req, flavor, task_id, wrapped=True)

    def _poll_task(self, req: Request, flavor: str, task_id: str, *, wrapped: bool) -> Response:
        state = self.state
        now = state.clock()
        state.advance(now)
        task = state.lookup(task_id, flavor)
        if task is None:
            state.unknown_polls += 1
            return task_not_exist() if flavor == COMETAPI else runway_error(404, "Task not found.")
        state.record_poll(task, now)
        if flavor == COMETAPI and not state.visible(task, now):
            return task_not_exist()
        bare = state.bare(task, now, self._output_url)
        if self.faults:
            spec = self._take("unknown_status", "poll", req, None)
            if spec is not None:
                bare["status"] = spec.params["value"]
        return json_response(200, state.wrapped(bare, task, now) if wrapped else bare)

    def _output_url(self, task: Task) -> str:
        return self.outputs.url(task, self.state.clock())

    def _delete(self, req: Request, flavor: str, task_id: str) -> Response:
        state = self.state
        now = state.clock()
        state.advance(now)
        task = state.lookup(task_id, flavor)
        if flavor == COMETAPI:
            if task is None or not state.visible(task, now):
                return task_not_exist()
        elif task is None:
            return runway_error(404, "Task not found.")
        state.delete(task, "api")
        return Response(204, b"", None)

    def _organization(self, req: Request, flavor: str, _arg: str) -> Response:
        state, cfg = self.state, self.state.config
        now = state.clock()
        state.advance(now)
        daily: dict[str, int] = {}
        for item in state.creates:
            if item["at"] > now - 86_400 and item["flavor"] == RUNWAY:
                daily[item["model"]] = daily.get(item["model"], 0) + 1
        limit = cfg.daily_limit if cfg.daily_limit is not None else 50
        tier_models = {
            name: {"maxConcurrentGenerations": cfg.max_concurrency, "maxDailyGenerations": limit} for name in MODELS
        }
        payload = {
            "creditBalance": max(cfg.credit_balance - math.ceil(state.credits_spent(now)), 0),
            "tier": {"maxMonthlyCreditSpend": 100_000, "models": tier_models},
            "usage": {"models": {name: {"dailyGenerations": n} for name, n in daily.items()}},
        }
        return json_response(200, payload)
