"""A batch's credits: its estimate, the cap and balance it must stay under, and what this run paid.

The decisions are pure, over ``credits.CreditEstimate`` values and the organization's balance
(``check_batch_credits`` reads it through the hook). An estimate that cannot be made is never
treated as zero: a budget refuses it and says how to proceed. What a run paid is the API's own
``cost`` per item, summed; the catalog's estimate only where the API gives none, labelled.
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


def describe_credits(record: Mapping[str, Any]) -> str:
    """One line on a checked batch: its estimate, and the balance when the flavor has one."""
    line = f"Estimated cost of the batch: {record['estimated_total']:.10g} credits"
    unknown = sum(1 for credits in record.get("item_credits") or [] if credits is None)
    if unknown:
        line += f" ({unknown} item(s) of unknown price not included)"
    if record.get("balance") is not None:
        line += f"; the organization's credit balance is {record['balance']:.10g}"
    return line


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


def check_batch_credits(items: Sequence[Mapping[str, Any]], budget_credits: Any, hook: Any) -> dict[str, Any]:
    """Before the batch's first paid call: refuse it over ``budget_credits`` or (flavor runway) over the
    organization's ``creditBalance``; each item's estimate, for the summary's items the API gives no figure for.

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
    }
    if flavor == RUNWAY:
        record["balance"] = float(hook.get_organization().get("creditBalance"))
    refusal = batch_refusal(batch, budget_credits, record["balance"])
    if refusal is not None:
        raise AirflowFailException(refusal)
    return record


def summary_credits(rows: Sequence[Mapping[str, Any]], item_credits: Sequence[float | None]) -> dict[str, Any]:
    """What this run of the batch paid: the API's exact charge per item where it gave one (``cost``),
    else the catalog's estimate of a created item, labelled as such.

    ``rows`` are the summary's rows (``outcome``, ``credits_charged``), ``item_credits[i]`` item
    ``i``'s estimate. Skipped items paid nothing in this run; a failed item counts its charge when
    the API reports one (refunded: 0) and nothing otherwise.
    """
    charged = estimated = 0.0
    counted = {"charged": 0, "estimated": 0, "unknown": 0}
    for index, row in enumerate(rows):
        if row.get("outcome") == SKIPPED:
            continue
        if row.get("credits_charged") is not None:
            charged += float(row["credits_charged"])
            counted["charged"] += 1
        elif row.get("outcome") == CREATED:
            estimate = item_credits[index] if index < len(item_credits) else None
            if estimate is None:
                counted["unknown"] += 1
            else:
                estimated += float(estimate)
                counted["estimated"] += 1
    if counted["estimated"] or counted["unknown"]:
        source = "api and estimate" if counted["charged"] else "estimate"
    else:
        source = "api"
    note = f"{counted['charged']} item(s) charged as the API reports (its final cost)"
    if counted["estimated"]:
        note += f"; {counted['estimated']} estimated from the catalog's prices (the API gave no cost)"
    if counted["unknown"]:
        note += f"; {counted['unknown']} created item(s) of unknown price not included"
    return {
        "credits_used": round(charged + estimated, 3),
        "credits_charged": round(charged, 3),
        "credits_estimated": round(estimated, 3),
        "items": counted,
        "credits_source": source,
        "credits_note": note,
    }
