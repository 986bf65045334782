"""A cap on one task's credits: whether a request may be created under ``max_credits``.

Pure: decisions over ``credits.CreditEstimate`` values. An estimate that cannot be made is never
treated as zero: a cap refuses it and says how to proceed.
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
    """Why a task must not be created under ``max_credits``, or None when it may."""
    cap = as_credits(max_credits, "max_credits")
    if cap is None:
        return None
    if estimate.credits is None:
        return (
            f"max_credits={cap:.10g}: the cost of this task cannot be estimated ({estimate.basis}); "
            "not creating it. Set max_credits=None to run it without a cap, or choose a model whose price is known."
        )
    if estimate.credits > cap:
        return (
            f"max_credits={cap:.10g}: this task is estimated at {estimate.credits:.10g} credits ({estimate.basis}); "
            "not creating it. Raise max_credits or make the request cheaper (shorter, another model)."
        )
    return None
