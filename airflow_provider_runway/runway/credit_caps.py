"""A cap on one task's credits (``max_credits``): before the create, and on the API's own estimate after it.

Pure decisions. Before the create, a request the catalog prices above the cap is refused (nothing
paid). A request the catalog cannot price is not refused for that (every new model would be): it
is created and the API's ``estimatedCost`` decides at once — above the cap, or no estimate at all,
and the task is cancelled while the server most likely still sees it PENDING (refunded).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_runway.runway.credits import CreditEstimate

CREDIT_LIMIT = "CREDIT_LIMIT"


def describe_estimate(estimate: CreditEstimate) -> str:
    """``12 credits (gen4_turbo: 5 s x ...)`` or ``unknown (...)``: the line every create logs."""
    if estimate.credits is None:
        return f"unknown ({estimate.basis})"
    return f"{estimate.credits:.10g} credits ({estimate.basis})"


def as_credits(value: Any, name: str) -> float | None:
    """A cap as given (templated values are strings); None for no cap, ValueError naming ``name``."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of credits, got {value!r}") from None
    if math.isnan(number) or number < 0:
        raise ValueError(f"{name} must be a number of credits >= 0, got {value!r}")
    return number


def task_refusal(estimate: CreditEstimate, max_credits: Any) -> str | None:
    """Why a task must not be created under ``max_credits``, or None when it may (a request the
    catalog cannot price may: the API's estimate decides, see ``api_estimate_refusal``)."""
    cap = as_credits(max_credits, "max_credits")
    if cap is None or estimate.credits is None:
        return None
    if estimate.credits > cap:
        return (
            f"max_credits={cap:.10g}: this task is estimated at {estimate.credits:.10g} credits ({estimate.basis}); "
            "not creating it. Raise max_credits or make the request cheaper (shorter, another model)."
        )
    return None


def api_estimate_refusal(estimate: CreditEstimate, api_estimate: float | None, max_credits: Any) -> str | None:
    """Why a just-created task must be cancelled under ``max_credits``, or None when it may run.

    The API's ``estimatedCost`` is the most the task may charge: above the cap, cancel. Without
    one, the catalog's estimate (already checked before the create) stands; with neither, the cap
    cannot be kept, so cancel.
    """
    cap = as_credits(max_credits, "max_credits")
    if cap is None:
        return None
    if api_estimate is not None and api_estimate > cap:
        return f"max_credits={cap:.10g}: the API estimates this task at up to {api_estimate:.10g} credits"
    if api_estimate is None and estimate.credits is None:
        return (
            f"max_credits={cap:.10g}: the API gave no cost estimate and the catalog cannot price this task "
            f"({estimate.basis})"
        )
    return None
