"""A batch's credits: its estimate, the cap and balance it must stay under, and what it reports as used.

The decisions are pure, over ``credits.CreditEstimate`` values, the organization's balance and
its usage answer; ``check_batch_credits`` and ``read_usage`` fetch those through the hook. An
estimate that cannot be made is never treated as zero: a cap refuses it and says how to proceed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.batch.planning import item_body
from airflow_provider_runway.media.locations import describe
from airflow_provider_runway.media.sidecars import CREATED
from airflow_provider_runway.runway.credit_caps import as_credits

if TYPE_CHECKING:
    from airflow_provider_runway.runway.credits import CreditEstimate

BIGGEST_SHOWN = 3


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


def estimate_batch(items: Sequence[Mapping[str, Any]], flavor: str) -> BatchEstimate:
    """Every item's estimated cost, labelled by its image, as one ``BatchEstimate``."""
    from airflow_provider_runway.runway.credits import estimate_credits
    from airflow_provider_runway.runway.flavors import IMAGE_TO_VIDEO

    return batch_estimate(
        [
            (str(describe(item.get("prompt_image"))), estimate_credits(IMAGE_TO_VIDEO, item_body(item, flavor), flavor))
            for item in items
        ]
    )


def check_batch_credits(
    items: Sequence[Mapping[str, Any]], budget_credits: Any, hook: Any, today: date
) -> dict[str, Any]:
    """Before the batch's first paid call: refuse it over ``budget_credits`` or (flavor runway) over the
    organization's ``creditBalance``; what the summary needs to report credits used.

    Raises ``AirflowFailException`` naming the estimate, the cap and the biggest items. The
    estimate counts every item, including ones an idempotent re-run will find already stored.
    """
    from airflow_provider_runway._compat import AirflowFailException
    from airflow_provider_runway.runway.flavors import RUNWAY

    flavor = hook.flavor
    batch = estimate_batch(items, flavor)
    models = sorted({str(item_body(item, flavor).get("model")) for item in items})
    record: dict[str, Any] = {
        "flavor": flavor,
        "estimated_total": batch.total,
        "item_credits": [estimate.credits for _, estimate in batch.items],
        "models": models,
        "balance": None,
        "usage_window": None,
        "usage_before": None,
    }
    if flavor == RUNWAY:
        record["balance"] = float(hook.get_organization().get("creditBalance"))
        record["usage_window"] = usage_window(today)
        record["usage_before"] = read_usage(hook, record)
    refusal = batch_refusal(batch, budget_credits, record["balance"])
    if refusal is not None:
        raise AirflowFailException(refusal)
    return record


def read_usage(hook: Any, record: Mapping[str, Any]) -> float | None:
    """Credits used on the batch's models over its usage window, or None when it cannot be read."""
    from airflow_provider_runway.runway.errors import RunwayError

    if not record.get("usage_window"):
        return None
    try:
        return usage_credits(hook.get_organization_usage(*record["usage_window"]), record["models"])
    except RunwayError as err:  # the summary falls back to the estimate, and says so
        hook.log.warning("Could not read the organization's usage: %s", err)
        return None
