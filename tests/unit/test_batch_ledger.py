"""The batch's pure parts: chunks, budget shares, the ledger that survives retries, what a retry does."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.batch.budget import budget_shares, summary_credits
from airflow_provider_runway.batch.ledger import (
    NOT_STARTED,
    PENDING,
    SUBMITTED,
    BatchLedger,
    refill_count,
    resume_when,
)
from airflow_provider_runway.batch.planning import chunk_items
from airflow_provider_runway.execution.batch_run import KEEP, RESTORE, RESUBMIT, on_retry


def test_chunks_keep_order_and_size() -> None:
    items = [{"prompt_image": f"p{i}.png"} for i in range(10)]
    chunks = chunk_items(items, 4)
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [i["prompt_image"] for c in chunks for i in c] == [i["prompt_image"] for i in items]
    assert len(chunk_items([{"prompt_image": str(i)} for i in range(10_000)], 100)) == 100
    with pytest.raises(ValueError, match="chunk_size"):
        chunk_items(items, 0)


def test_budget_shares_add_up_to_the_budget_in_proportion_to_each_chunks_cost() -> None:
    shares = budget_shares([[25.0, 25.0], [50.0, None]], 150)
    # the unknown price counts as the average known one (100 / 3)
    assert shares[0] == pytest.approx(150 * 50 / (50 + 50 + 100 / 3))
    assert sum(s for s in shares if s is not None) == pytest.approx(150)
    assert budget_shares([[25.0]], None) == [None]
    with pytest.raises(ValueError, match="budget_credits"):
        budget_shares([[1.0]], "lots")


def test_the_ledger_round_trips_and_is_only_resumed_for_the_same_pictures() -> None:
    ledger = BatchLedger.start(["a.png", "b.png"])
    first = ledger.entries[0]
    ledger.submitted(first, "task-1", {"idempotency_key": "k"}, 100.0, 25.0)
    stored: Any = ledger.to_json()
    again = BatchLedger.resume(stored, ["a.png", "b.png"])
    assert [(e.status, e.runway_task_id) for e in again.entries] == [(SUBMITTED, "task-1"), (PENDING, None)]
    assert again.spent == 25.0 and again.by_task_id("task-1") is again.entries[0]
    # another plan (a cleared task re-planned): nothing of the old ledger pairs tasks with wrong inputs
    assert all(e.status == PENDING for e in BatchLedger.resume(stored, ["b.png", "a.png"]).entries)
    assert BatchLedger.resume({"version": 99}, ["a.png"]).entries[0].status == PENDING


def test_a_spent_budget_leaves_every_waiting_picture_not_started_and_says_why() -> None:
    ledger = BatchLedger.start(["a.png", "b.png", "c.png"])
    ledger.submitted(ledger.entries[0], "t", {}, 1.0, 25.0)
    ledger.stop_pending("budget_credits=30: ...")
    assert [e.status for e in ledger.entries] == [SUBMITTED, NOT_STARTED, NOT_STARTED]
    assert not ledger.done
    assert [r["picture"] for r in ledger.outcomes()] == ["b.png", "c.png"]


@pytest.mark.parametrize(
    ("in_flight", "pending", "bound", "refill", "resume"),
    [(0, 10, 4, 4, 0), (4, 10, 4, 0, 2), (3, 10, 4, 1, 2), (3, 0, 4, 0, 3), (1, 5, 1, 0, 1)],
)
def test_refill_up_to_the_bound_and_resume_when_half_the_slots_are_free(
    in_flight: int, pending: int, bound: int, refill: int, resume: int
) -> None:
    assert refill_count(in_flight, pending, bound) == refill
    assert resume_when(in_flight, pending, bound) == resume


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("STORE_FAILED", RESTORE),  # paid and made: reconnect and store again, never pay again
        ("CREATE_FAILED", RESUBMIT),  # refused: nothing was created
        ("INTERNAL.BAD_OUTPUT.CODE01", RESUBMIT),  # Runway allows a retry
        ("SAFETY.INPUT.TEXT", KEEP),  # content refusals are never resubmitted
        ("CREATE_OUTCOME_UNKNOWN", KEEP),  # may be paid, id unknown
        ("INVALID_INPUT", KEEP),
        ("TIMEOUT", KEEP),
        (None, KEEP),
    ],
)
def test_what_a_retry_does_with_each_failed_picture(code: str | None, action: str) -> None:
    assert on_retry({"failure_code": code}) == action


def test_summary_credits_count_charges_and_label_estimates() -> None:
    rows = [
        {"outcome": "created", "credits_charged": 35.0},
        {"outcome": "skipped", "credits_charged": 35.0},  # paid by an earlier run
        {"outcome": "created", "credits_charged": None, "credits_estimated": 25.0},
        {"outcome": "not_started", "credits_charged": None},
    ]
    credits = summary_credits(rows)
    assert credits["credits_used"] == 60 and credits["credits_source"] == "api and estimate"
