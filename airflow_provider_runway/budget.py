"""Credit caps for one task and for a batch, and the credits a batch reports as used.

Pure: decisions over ``credits.CreditEstimate`` values, the organization's balance and its
usage answer, all plain values fetched elsewhere (the hook). An estimate that cannot be made
is never treated as zero: a cap refuses it and says how to proceed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.records import CREATED

if TYPE_CHECKING:
    from airflow_provider_runway.credits import CreditEstimate

CREDIT_LIMIT = "CREDIT_LIMIT"
BIGGEST_SHOWN = 3


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


@dataclass(frozen=True)
class BatchEstimate:
    """What a batch will cost: the total of the known estimates, and the items that are not known."""

    total: float
    items: tuple[tuple[str, CreditEstimate], ...]

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(label for label, estimate in self.items if estimate.credits is None)

    def biggest(self, count: int = BIGGEST_SHOWN) -> list[tuple[str, float]]:
        known = [(label, float(e.credits)) for label, e in self.items if e.credits is not None]
        return sorted(known, key=lambda item: item[1], reverse=True)[:count]

    def describe_biggest(self) -> str:
        return ", ".join(f"{label} ({credits:.10g})" for label, credits in self.biggest()) or "none"


def batch_estimate(items: Sequence[tuple[str, CreditEstimate]]) -> BatchEstimate:
    """Sum the per-item estimates (``label`` names the item in messages, e.g. its image)."""
    total = sum(float(e.credits) for _, e in items if e.credits is not None)
    return BatchEstimate(total=total, items=tuple(items))


def batch_refusal(batch: BatchEstimate, budget_credits: Any, balance: float | None = None) -> str | None:
    """Why a batch must not start (over the budget, the balance, or of unknown cost under a cap), or None."""
    cap = as_credits(budget_credits, "budget_credits")
    what = f"{len(batch.items)} item(s) estimated at {batch.total:.10g} credits"
    if cap is not None and batch.unknown:
        return (
            f"budget_credits={cap:.10g}: {len(batch.unknown)} item(s) cannot be estimated "
            f"({', '.join(batch.unknown[:BIGGEST_SHOWN])}); not starting. Set budget_credits to null to run "
            "without a budget, or choose a model whose price is known."
        )
    if cap is not None and batch.total > cap:
        return (
            f"budget_credits={cap:.10g}: the batch of {what} is over budget; not starting. "
            f"Biggest items: {batch.describe_biggest()}. Raise budget_credits or make the batch smaller."
        )
    if balance is not None and batch.total > balance:
        return (
            f"The organization's credit balance is {balance:.10g}, less than the batch of {what}; not starting. "
            f"Biggest items: {batch.describe_biggest()}. Add credits or make the batch smaller."
        )
    return None


def usage_credits(usage: Mapping[str, Any], models: Sequence[str] | None = None) -> float | None:
    """Credits in a ``/v1/organization/usage`` answer (``results[].usedCredits[].amount``), or None.

    The shape is the runwayml SDK's ``types/organization_retrieve_usage_response.py`` (5.13.0).

    ``models`` limits the sum to those models. The usage is per day, so the figure covers
    every task of those days, not only this batch's: the summary says so.
    """
    results = usage.get("results")
    if not isinstance(results, list):
        return None
    total = 0.0
    for day in results:
        for used in (day.get("usedCredits") or []) if isinstance(day, Mapping) else []:
            if isinstance(used, Mapping) and (models is None or used.get("model") in models):
                amount = used.get("amount")
                if isinstance(amount, (int, float)) and not isinstance(amount, bool):
                    total += float(amount)
    return total


def describe_credits(record: Mapping[str, Any]) -> str:
    """One line on a checked batch: its estimate, and the balance when the flavor has one."""
    line = f"Estimated cost of the batch: {record['estimated_total']:.10g} credits"
    unknown = sum(1 for credits in record.get("item_credits") or [] if credits is None)
    if unknown:
        line += f" ({unknown} item(s) of unknown price not included)"
    if record.get("balance") is not None:
        line += f"; the organization's credit balance is {record['balance']:.10g}"
    return line


def usage_window(today: date, days: int = 2) -> tuple[str, str]:
    """The ``startDate``/``beforeDate`` (UTC days) a batch reads usage over: its first day and the next,
    as a run may cross midnight."""
    return today.isoformat(), (today + timedelta(days=days)).isoformat()


def summary_credits(
    item_credits: Sequence[float | None], outcomes: Sequence[str], used: float | None
) -> dict[str, Any]:
    """The summary's credits: Runway's usage when there is a figure, else the estimate, labelled as such.

    ``item_credits[i]`` is item ``i``'s estimate and ``outcomes[i]`` what became of it; only
    created items are counted (skipped and failed ones cost nothing, or nothing known).
    """
    created = [index for index, kind in enumerate(outcomes) if kind == CREATED]
    known = [item_credits[i] for i in created if i < len(item_credits) and item_credits[i] is not None]
    estimated = round(sum(float(c) for c in known if c is not None), 3)
    unknown = len(created) - len(known)
    note = f"; {unknown} created item(s) of unknown price not included" if unknown else ""
    if used is not None:
        return {
            "credits_used": round(used, 3),
            "credits_source": "usage",
            "credits_note": "Runway's /v1/organization/usage over the batch's days and models, end minus start "
            f"(counts any other task on those models meanwhile; usage may lag){note}",
            "credits_estimated": estimated,
        }
    return {
        "credits_used": estimated,
        "credits_source": "estimate",
        "credits_note": "estimated from the catalog's prices: no usage figure available "
        f"(CometAPI, or usage unreadable){note}",
        "credits_estimated": estimated,
    }
