"""A batch's credits: what it may cost, each chunk's share of the budget, and what this run paid.

The decisions are pure, over ``credits.CreditEstimate`` values (``batch_credits`` reads the
organization's balance through the hook). Nothing is refused here: a re-run that finds its
videos stored pays nothing, so an estimate of every picture says nothing about what it will pay.
The budget is kept where the money is spent — each batch task keeps a running total of its
creates' estimates against its share (``budget_shares``) and stops creating before passing it.
What a run paid is the API's own ``cost`` per picture, summed; an estimate only where the API
gives none, labelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.batch.planning import item_body
from airflow_provider_runway.media.locations import describe
from airflow_provider_runway.media.sidecars import CREATED, SKIPPED
from airflow_provider_runway.runway.credit_caps import as_credits

if TYPE_CHECKING:
    from airflow_provider_runway.runway.credits import CreditEstimate


@dataclass(frozen=True)
class BatchEstimate:
    """What a batch may cost: the total of the known estimates, and the items that are not known."""

    total: float
    items: tuple[tuple[str, CreditEstimate], ...]

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(label for label, estimate in self.items if estimate.credits is None)


def batch_estimate(items: Sequence[tuple[str, CreditEstimate]]) -> BatchEstimate:
    """Sum the per-item estimates (``label`` names the item in messages, e.g. its image)."""
    total = sum(float(e.credits) for _, e in items if e.credits is not None)
    return BatchEstimate(total=total, items=tuple(items))


def budget_shares(chunk_estimates: Sequence[Sequence[float | None]], budget_credits: Any) -> list[float | None]:
    """Each chunk's share of ``budget_credits``, in proportion to what its pictures may cost.

    Chunks run in parallel, each keeping its own running total: shares that add up to the budget
    keep the whole batch under it. A picture of unknown price counts as the batch's average
    known one (as one credit when none is known).
    """
    budget = as_credits(budget_credits, "budget_credits")
    if budget is None:
        return [None] * len(chunk_estimates)
    known = [float(c) for chunk in chunk_estimates for c in chunk if c is not None]
    average = sum(known) / len(known) if known else 1.0
    weights = [sum(average if c is None else float(c) for c in chunk) for chunk in chunk_estimates]
    total = sum(weights)
    if total <= 0:
        return [budget / len(weights) for _ in weights] if weights else []
    return [budget * weight / total for weight in weights]


def describe_credits(record: Mapping[str, Any]) -> str:
    """One line on a checked batch: its estimate, and the balance when the flavor has one."""
    line = f"Estimated cost of the batch: at most {record['estimated_total']:.10g} credits"
    unknown = sum(1 for credits in record.get("item_credits") or [] if credits is None)
    if unknown:
        line += f" ({unknown} item(s) of unknown price not included)"
    if record.get("balance") is not None:
        line += f"; the organization's credit balance is {record['balance']:.10g}"
    return line + " (pictures already stored cost nothing)"


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


def batch_credits(items: Sequence[Mapping[str, Any]], hook: Any) -> dict[str, Any]:
    """The batch's estimate (an upper bound: stored pictures cost nothing) and, with flavor runway,
    the organization's balance, for the plan's log line and the budget's shares."""
    from airflow_provider_runway.runway.flavors import RUNWAY

    flavor = hook.flavor
    batch = estimate_batch(items, flavor)
    return {
        "flavor": flavor,
        "estimated_total": batch.total,
        "item_credits": [estimate.credits for _, estimate in batch.items],
        "balance": float(hook.get_organization().get("creditBalance")) if flavor == RUNWAY else None,
    }


def summary_credits(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What this run of the batch paid: the API's exact charge per picture where it gave one
    (``cost``), else the estimate of a created picture (the API's, else the catalog's), labelled.

    Skipped pictures paid nothing in this run (their sidecar tells what an earlier run paid); a
    failed one counts its charge when the API reports one (refunded: 0) and nothing otherwise.
    """
    charged = estimated = 0.0
    counted = {"charged": 0, "estimated": 0, "unknown": 0}
    for row in rows:
        if row.get("outcome") == SKIPPED:
            continue
        if row.get("credits_charged") is not None:
            charged += float(row["credits_charged"])
            counted["charged"] += 1
        elif row.get("outcome") == CREATED:
            if row.get("credits_estimated") is None:
                counted["unknown"] += 1
            else:
                estimated += float(row["credits_estimated"])
                counted["estimated"] += 1
    if counted["estimated"] or counted["unknown"]:
        source = "api and estimate" if counted["charged"] else "estimate"
    else:
        source = "api"
    note = f"{counted['charged']} picture(s) charged as the API reports (its final cost)"
    if counted["estimated"]:
        note += f"; {counted['estimated']} estimated (the API gave no cost)"
    if counted["unknown"]:
        note += f"; {counted['unknown']} created picture(s) of unknown price not included"
    return {
        "credits_used": round(charged + estimated, 3),
        "credits_charged": round(charged, 3),
        "credits_estimated": round(estimated, 3),
        "items": counted,
        "credits_source": source,
        "credits_note": note,
    }
