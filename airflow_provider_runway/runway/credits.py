"""What a task costs in Runway credits: estimated from the catalog before anything is paid, and
as the API itself reports it once created (``estimatedCost``) and finished (``cost``).

Pure: the estimate reads only the request body and the catalog's dated prices. Where the price
depends on something the provider cannot know before the call (the length of an input video,
an unpublished formula), the estimate says so instead of guessing (``known`` is False).
``task_credits`` is the one shape sidecars, XCom and summaries report a task's credits in: the
API's own figures first, the catalog's estimate only where the API gives none, labelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.runway.catalog import COMETAPI, FieldSpec, ModelSpec, Price, load_catalog
from airflow_provider_runway.runway.remote_task import read_credits


@dataclass(frozen=True)
class CreditEstimate:
    """``credits`` for one task (None when unknown) and the arithmetic behind it, in words."""

    credits: float | None
    basis: str
    known: bool


def _unknown(basis: str) -> CreditEstimate:
    return CreditEstimate(credits=None, basis=basis, known=False)


def _loose(value: Any) -> Any:
    """Templated values arrive as strings: "false" -> False, "8" -> 8; anything else unchanged."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if text.lstrip("+-").isdigit():
            return int(text)
    return value


def _value(model: ModelSpec, body: Mapping[str, Any], wire: str) -> Any:
    """The body's value, else the API's documented default for the field."""
    if body.get(wire) is not None:
        return _loose(body[wire])
    spec = model.fields.get(wire)
    return spec.default if spec is not None else None


def _rate(price: Price, model: ModelSpec, body: Mapping[str, Any]) -> float:
    for rate in price.rates:
        if all(_value(model, body, wire) in values for wire, values in rate.when.items()):
            return rate.credits
    assert price.credits is not None
    return price.credits


def _longest(spec: FieldSpec | None) -> int | None:
    if spec is None:
        return None
    numbers = [v for v in spec.values if isinstance(v, int)]
    if numbers:
        return max(numbers)
    return int(spec.maximum) if spec.maximum is not None else None


def _seconds(model: ModelSpec, price: Price, body: Mapping[str, Any]) -> tuple[float | None, str]:
    """Seconds of output and how they were chosen (given, API default, or the longest allowed)."""
    spec = model.fields.get("duration")
    given = _loose(body.get("duration"))
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return float(given), ""
    longest = _longest(spec) or price.assume_seconds
    if given == "auto":
        return (float(longest), " (duration auto: billed at the longest up front)") if longest else (None, "")
    if spec is not None and spec.default is not None:
        return float(spec.default), " (no duration given: the API default)"
    if longest is None:
        return None, ""
    return float(longest), " (no duration given and the API default is not documented: the longest assumed)"


def _amount(model: ModelSpec, price: Price, body: Mapping[str, Any], rate: float) -> tuple[float | None, str]:
    name = model.name
    if price.per == "second":
        seconds, why = _seconds(model, price, body)
        if seconds is None:
            return None, f"{name}: {rate:.10g} credits/s, but the duration is unknown"
        return seconds * rate, f"{name}: {seconds:.10g} s x {rate:.10g} credits/s{why}"
    if price.per == "image":
        count = _loose(body.get("outputCount", 1))
        count = count if isinstance(count, int) and count > 0 else 1
        return count * rate, f"{name}: {count} image(s) x {rate:.10g} credits"
    if price.per == "characters" and price.per_characters:
        text = body.get("promptText")
        chars = len(text) if isinstance(text, str) else 0
        blocks = math.ceil(chars / price.per_characters)
        return blocks * rate, f"{name}: {chars} characters, {rate:.10g} credit(s) per {price.per_characters}"
    if price.per == "call":
        return rate, f"{name}: {rate:.10g} credits per call"
    return None, f"{name}: priced by an input whose length is not known before the call"


def estimate_credits(endpoint: str, body: Mapping[str, Any], flavor: str = COMETAPI) -> CreditEstimate:
    """Estimate one task's cost in Runway credits from the catalog's prices.

    Uses the API's default duration when the body has none, or the longest allowed when that
    default is not documented (an estimate that errs high, so a budget check errs safe).
    """
    spec = load_catalog().endpoint(endpoint)
    if spec is None:
        return _unknown(f"endpoint {endpoint!r} is not in the catalog: no price known")
    name = body.get("model") or spec.defaults.get(flavor)
    if not name:
        return _unknown(f"no model given and {endpoint} has no default model through {flavor}")
    model = spec.models.get(str(name))
    if model is None:
        return _unknown(f"{name}: not in the catalog for {endpoint}: no price known")
    price = model.price
    if price is None or price.credits is None:
        note = f" ({price.note})" if price and price.note else ""
        return _unknown(f"{name}: price not verified{note}")
    credits, basis = _amount(model, price, body, _rate(price, model, body))
    if credits is None:
        return _unknown(f"{basis}; {price.note}".rstrip("; "))
    credits += price.extra_per_call
    if price.extra_per_call:
        basis += f" + {price.extra_per_call:.10g} per call"
    if price.minimum is not None and credits < price.minimum:
        credits, basis = price.minimum, f"{basis}, raised to the {price.minimum:.10g}-credit minimum"
    basis += f"; price {price.status}, checked {price.checked}"
    if flavor == COMETAPI:
        basis += "; Runway's list price (CometAPI bills its own)"
    return CreditEstimate(credits=float(credits), basis=basis, known=True)


API, CATALOG = "api", "catalog"


def task_credits(
    catalog_estimate: float | None, api_estimate: float | None = None, charged: float | None = None
) -> dict[str, Any]:
    """One task's credits as reported everywhere.

    ``charged`` is the API's final ``cost`` (None until the task is final, or when the API does
    not give it: CometAPI may not pass it on); ``estimated`` is the API's ``estimatedCost`` when
    given, else the catalog's estimate, and ``estimate_source`` says which.
    """
    estimated = api_estimate if api_estimate is not None else catalog_estimate
    source = API if api_estimate is not None else (CATALOG if catalog_estimate is not None else None)
    return {
        "charged": charged,
        "estimated": estimated,
        "estimate_source": source,
        "catalog_estimate": catalog_estimate,
    }


def final_credits(remembered: Mapping[str, Any] | None, task: Mapping[str, Any]) -> dict[str, Any]:
    """The credits record once the task is final: what was remembered at the create, plus the API's ``cost``.

    ``task`` is the final task in Runway's shape (``RunwayTask.to_dict``); without a remembered
    record (a sensor waiting on a task created elsewhere) the task's own figures are all there is.
    """
    charged = read_credits(task.get("cost"))
    if remembered:
        return {**task_credits(remembered.get("catalog_estimate")), **remembered, "charged": charged}
    return task_credits(None, read_credits(task.get("estimatedCost")), charged)
