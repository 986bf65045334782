"""Fault injection plan: which misbehaviour fires, on which route, how many times.

A plan maps a fault kind to one spec. Request faults (rate_limit, server_error, reset, slow,
malformed, unknown_status) are consumed as matching requests arrive: ``after`` requests pass
untouched first, then the fault fires ``count`` times (or with probability ``rate`` drawn from
a seeded RNG, so a run is reproducible). Task faults (throttle_extra, external_cancel) are
stamped onto tasks at create time. A spec whose count reaches zero stays visible with
``remaining: 0`` so tests can see it was used up.

JSON form (POST /_emulator/faults), every key optional except where noted::

    {"rate_limit":      {"count": 2, "rate": null, "after": 0, "route": "create", "retry_after": 1},
     "server_error":    {"count": 3, "status": 503, "route": "any"},
     "reset":           {"count": 1, "route": "create", "when": "before" | "after"},
     "slow":            {"count": 1, "delay": 2.0, "route": "poll", "when": "before" | "after"},
     "malformed":       {"count": 1, "body": "html" | "empty" | "truncated" | "short", "route": "poll"},
     "unknown_status":  {"count": 1, "value": "PROCESSING"},
     "throttle_extra":  {"seconds": 10, "count": null},
     "external_cancel": {"after_seconds": 2, "count": null}}

Routes: create, poll (GET task and CometAPI's feed), cancel (DELETE task), organization
(balance and usage), upload (``POST /v1/uploads`` and the storage POST), output (media
download), any (all of them; admin endpoints are never faulted).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROUTES = ("create", "poll", "cancel", "organization", "upload", "output", "any")
MALFORMED_BODIES = ("html", "empty", "truncated", "short")
WHEN = ("before", "after")
REQUEST_KINDS = ("rate_limit", "server_error", "reset", "slow", "malformed", "unknown_status")
TASK_KINDS = ("throttle_extra", "external_cancel")
KINDS = REQUEST_KINDS + TASK_KINDS

# kind -> (default route, {param: default}); None default means the param is required.
_SCHEMA: dict[str, tuple[str, dict[str, Any]]] = {
    "rate_limit": ("create", {"retry_after": 1.0}),
    "server_error": ("any", {"status": 503}),
    "reset": ("any", {"when": "before"}),
    "slow": ("any", {"delay": 2.0, "when": "before"}),
    "malformed": ("any", {"body": "truncated"}),
    "unknown_status": ("poll", {"value": "PROCESSING"}),
    "throttle_extra": ("create", {"seconds": None}),
    "external_cancel": ("create", {"after_seconds": None}),
}


class FaultConfigError(ValueError):
    """The fault JSON names an unknown kind, key or an out-of-range value."""


@dataclass
class FaultSpec:
    """One configured fault with its remaining budget."""

    kind: str
    route: str
    count: int | None
    rate: float | None
    after: int
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "remaining": self.count,
            "rate": self.rate,
            "after": self.after,
            "fired": self.fired,
            **self.params,
        }


def _num(kind: str, key: str, value: Any, minimum: float, maximum: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FaultConfigError(f"{kind}.{key} must be a number, got {value!r}")
    if not minimum <= value <= maximum:
        raise FaultConfigError(f"{kind}.{key} must be between {minimum} and {maximum}, got {value!r}")
    return float(value)


def _int(kind: str, key: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultConfigError(f"{kind}.{key} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise FaultConfigError(f"{kind}.{key} must be <= {maximum}, got {value!r}")
    return value


def parse_spec(kind: str, raw: Any) -> FaultSpec:
    """Validate one kind's JSON object into a FaultSpec."""
    if kind not in _SCHEMA:
        raise FaultConfigError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(raw, Mapping):
        raise FaultConfigError(f"{kind} must be a JSON object")
    default_route, defaults = _SCHEMA[kind]
    allowed = {"count", "rate", "after", "route", *defaults}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FaultConfigError(f"{kind}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")

    route = raw.get("route", default_route)
    if kind in TASK_KINDS or kind == "unknown_status":
        if route != default_route:
            raise FaultConfigError(f"{kind} applies to route {default_route!r} only")
    elif route not in ROUTES:
        raise FaultConfigError(f"{kind}.route must be one of {', '.join(ROUTES)}, got {route!r}")
    rate = None if raw.get("rate") is None else _num(kind, "rate", raw["rate"], 0.0, 1.0)
    count = None if raw.get("count") is None else _int(kind, "count", raw["count"], 0)
    if count is None and rate is None and kind in REQUEST_KINDS:
        count = 1  # a request fault without a budget fires once
    after = _int(kind, "after", raw.get("after", 0), 0)

    params: dict[str, Any] = {}
    for key, default in defaults.items():
        value = raw.get(key, default)
        if value is None:
            raise FaultConfigError(f"{kind}.{key} is required")
        params[key] = value
    if kind == "rate_limit":
        params["retry_after"] = _num(kind, "retry_after", params["retry_after"], 0.0)
    elif kind == "server_error":
        params["status"] = _int(kind, "status", params["status"], 500, 599)
    elif kind in ("reset", "slow") and params["when"] not in WHEN:
        raise FaultConfigError(f"{kind}.when must be one of {', '.join(WHEN)}")
    if kind == "slow":
        params["delay"] = _num(kind, "delay", params["delay"], 0.0, 3600.0)
    elif kind == "malformed" and params["body"] not in MALFORMED_BODIES:
        raise FaultConfigError(f"malformed.body must be one of {', '.join(MALFORMED_BODIES)}")
    elif kind == "unknown_status" and (not isinstance(params["value"], str) or not params["value"]):
        raise FaultConfigError("unknown_status.value must be a non-empty string")
    elif kind == "throttle_extra":
        params["seconds"] = _num(kind, "seconds", params["seconds"], 0.0)
    elif kind == "external_cancel":
        params["after_seconds"] = _num(kind, "after_seconds", params["after_seconds"], 0.0)
    return FaultSpec(kind=kind, route=route, count=count, rate=rate, after=after, params=params)


def parse_plan(raw: Any) -> dict[str, FaultSpec]:
    """Validate a whole fault JSON object; nothing is applied when any part is invalid."""
    if not isinstance(raw, Mapping):
        raise FaultConfigError("faults must be a JSON object mapping kind -> settings")
    return {kind: parse_spec(kind, value) for kind, value in raw.items()}


class FaultPlan:
    """The live faults; consumed on the event loop thread only, so no locking."""

    def __init__(self, seed: int = 0) -> None:
        self._specs: dict[str, FaultSpec] = {}
        self._rng = random.Random(seed)

    def __bool__(self) -> bool:
        return bool(self._specs)

    def clear(self, seed: int | None = None) -> None:
        self._specs.clear()
        if seed is not None:
            self._rng.seed(seed)

    def update(self, raw: Any) -> None:
        """Merge kinds from ``raw`` (each kind replaces its previous spec)."""
        self._specs.update(parse_plan(raw))

    def take(self, kind: str, route: str) -> FaultSpec | None:
        """Return the spec if this kind fires for this request, consuming one unit of budget."""
        spec = self._specs.get(kind)
        if spec is None or spec.route not in ("any", route) or spec.count == 0:
            return None
        if spec.after > 0:
            spec.after -= 1
            return None
        if spec.rate is not None and self._rng.random() >= spec.rate:
            return None
        if spec.count is not None:
            spec.count -= 1
        spec.fired += 1
        return spec

    def to_dict(self) -> dict[str, Any]:
        return {kind: spec.to_dict() for kind, spec in self._specs.items()}
