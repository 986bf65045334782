"""Runway's account endpoints (Runway direct only; CometAPI has none): balance and credit usage.

Shapes follow the official SDK (runwayml 5.24.0, ``resources/organization/organization.py``,
``types/organization_retrieve_response.py``, ``types/organization_retrieve_usage_params.py``
and ``types/organization_retrieve_usage_response.py``):

- ``GET /v1/organization`` -> ``{"creditBalance", "tier": {"maxMonthlyCreditSpend", "models":
  {model: {"maxConcurrentGenerations", "maxDailyGenerations"}}}, "usage": {"models": {model:
  {"dailyGenerations"}}}}``;
- ``POST /v1/organization/usage`` ``{"startDate"?, "beforeDate"?}`` (YYYY-MM-DD, UTC; start
  defaults to 30 days ago, before to 30 days after the start, at most 90 days apart) ->
  ``{"models": [...], "results": [{"date", "usedCredits": [{"model", "amount"}]}]}``.

Both come from the same ledger: the credits each Runway-flavor task was charged
(``state.charges``: its price from ``prices.json``, refunded when it failed or was cancelled
before it ran), on the UTC day it was created. Days without usage are left out of ``results``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from runway_emulator.oracle import endpoint_models
from runway_emulator.protocol import RUNWAY
from runway_emulator.state import DAY
from runway_emulator.task_endpoints import task_endpoints
from runway_emulator.wire import json_response, runway_error

if TYPE_CHECKING:
    from aiohttp import web

    from runway_emulator.gateway import ApiCall

MAX_MONTHLY_CREDIT_SPEND = 100_000
DEFAULT_DAILY_LIMIT = 50
DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=90)
USAGE_FIELDS = ("startDate", "beforeDate")


class UsageRequestError(ValueError):
    """A usage request the API refuses (400), naming the field."""


def runway_models() -> list[str]:
    """Every model Runway's SDK defines, across endpoints, in the SDK's order."""
    names: dict[str, None] = {}
    for name in task_endpoints():
        names.update(dict.fromkeys(endpoint_models(name, RUNWAY)))
    return list(names)


async def organization(call: ApiCall) -> web.Response:
    """``GET /v1/organization``: credit balance, tier limits, generations in the last 24 h."""
    state, cfg = call.backend.state, call.backend.config
    now = state.clock()
    state.catch_up(now)
    daily: dict[str, int] = {}
    for item in state.creates:
        if item["at"] > now - DAY and item["flavor"] == RUNWAY:
            daily[item["model"]] = daily.get(item["model"], 0) + 1
    limit = cfg.daily_limit if cfg.daily_limit is not None else DEFAULT_DAILY_LIMIT
    tier_models = {
        name: {"maxConcurrentGenerations": cfg.max_concurrency, "maxDailyGenerations": limit}
        for name in runway_models()
    }
    payload = {
        "creditBalance": max(cfg.credit_balance - math.ceil(state.credits_spent(now)), 0),
        "tier": {"maxMonthlyCreditSpend": MAX_MONTHLY_CREDIT_SPEND, "models": tier_models},
        "usage": {"models": {name: {"dailyGenerations": n} for name, n in daily.items()}},
    }
    return json_response(200, payload)


def _day(body: dict[str, Any], wire: str) -> date | None:
    value = body.get(wire)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UsageRequestError(f"{wire} must be a date in ISO-8601 format (YYYY-MM-DD), got {value!r}") from None


def usage_window(body: Any, today: date) -> tuple[date, date]:
    """(start, before) of a usage request, with the API's defaults; ``UsageRequestError`` if refused."""
    if not isinstance(body, dict):
        raise UsageRequestError("Request body must be a JSON object.")
    unknown = sorted(set(body) - set(USAGE_FIELDS))
    if unknown:
        raise UsageRequestError(f"Unknown field(s) {', '.join(unknown)}; allowed: {', '.join(USAGE_FIELDS)}")
    start = _day(body, "startDate") or today - DEFAULT_SPAN
    before = _day(body, "beforeDate") or start + DEFAULT_SPAN
    if before <= start:
        raise UsageRequestError(f"beforeDate ({before}) must be after startDate ({start})")
    if before - start > MAX_SPAN:
        raise UsageRequestError(f"beforeDate must be at most 90 days after startDate ({start}), got {before}")
    return start, before


async def organization_usage(call: ApiCall) -> web.Response:
    """``POST /v1/organization/usage``: credits charged per UTC day and model."""
    state = call.backend.state
    now = state.clock()
    body, problem = call.json()
    if not call.body:
        body, problem = {}, None  # the SDK sends {} or nothing when no dates are given
    if problem is not None:
        return runway_error(400, problem)
    try:
        start, before = usage_window(body, datetime.fromtimestamp(now, timezone.utc).date())
    except UsageRequestError as exc:
        return runway_error(400, str(exc))
    state.catch_up(now)
    per_day: dict[date, dict[str, int]] = {}
    for task, credits in state.charges(now, RUNWAY):
        day = datetime.fromtimestamp(task.created_at, timezone.utc).date()
        if start <= day < before:
            models = per_day.setdefault(day, {})
            models[task.model] = models.get(task.model, 0) + credits
    results = [
        {
            "date": day.isoformat(),
            "usedCredits": [{"model": model, "amount": amount} for model, amount in sorted(models.items())],
        }
        for day, models in sorted(per_day.items())
    ]
    used = sorted({model for models in per_day.values() for model in models})
    return json_response(200, {"models": used, "results": results})
