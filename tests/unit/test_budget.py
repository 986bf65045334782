"""Credit caps and the credits a batch reports: pure decisions over estimates, balance and usage."""

from __future__ import annotations

from datetime import date

import pytest

from airflow_provider_runway.batch.budget import (
    batch_estimate,
    batch_refusal,
    estimate_batch,
    summary_credits,
    usage_credits,
    usage_window,
)
from airflow_provider_runway.batch.planning import item_body
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.credit_caps import as_credits, describe_estimate, task_refusal
from airflow_provider_runway.runway.credits import CreditEstimate, estimate_credits

KNOWN = CreditEstimate(credits=25.0, basis="gen3a_turbo: 5 s x 5 credits/s", known=True)
UNKNOWN = CreditEstimate(credits=None, basis="upscale_v1: price not verified", known=False)


def test_the_logged_line_says_credits_or_unknown() -> None:
    assert describe_estimate(KNOWN) == "25 credits (gen3a_turbo: 5 s x 5 credits/s)"
    assert describe_estimate(UNKNOWN) == "unknown (upscale_v1: price not verified)"


@pytest.mark.parametrize(
    "estimate, cap, refused",
    [(KNOWN, None, False), (KNOWN, 25, False), (KNOWN, "25", False), (KNOWN, 24.9, True), (UNKNOWN, None, False)],
)
def test_max_credits_refuses_only_above_the_cap(estimate: CreditEstimate, cap: object, refused: bool) -> None:
    message = task_refusal(estimate, cap)
    assert (message is not None) == refused
    if message:
        assert "estimated at 25 credits" in message and "max_credits=24.9" in message


def test_an_unknown_estimate_under_a_cap_is_refused_saying_how_to_proceed() -> None:
    message = task_refusal(UNKNOWN, 100)
    assert message is not None
    assert "cannot be estimated (upscale_v1: price not verified)" in message
    assert "max_credits=None" in message


@pytest.mark.parametrize("cap", ["lots", -1, float("nan")])
def test_a_cap_that_is_not_a_number_of_credits_is_refused(cap: object) -> None:
    with pytest.raises(ValueError, match="max_credits"):
        as_credits(cap, "max_credits")


def test_batch_estimate_totals_known_items_and_names_the_biggest() -> None:
    items = [(f"img{n}.png", CreditEstimate(float(n * 10), "x", True)) for n in range(1, 6)] + [("odd.png", UNKNOWN)]
    batch = batch_estimate(items)
    assert batch.total == 150
    assert batch.unknown == ("odd.png",)
    assert batch.biggest() == [("img5.png", 50.0), ("img4.png", 40.0), ("img3.png", 30.0)]


def test_a_batch_over_budget_names_estimate_budget_and_biggest_items() -> None:
    batch = batch_estimate([("a.png", KNOWN), ("b.png", CreditEstimate(50.0, "x", True))])
    assert batch_refusal(batch, None) is None
    assert batch_refusal(batch, 75) is None
    message = batch_refusal(batch, 74)
    assert message is not None
    assert "budget_credits=74" in message and "estimated at 75 credits" in message
    assert "Biggest items: b.png (50), a.png (25)" in message


def test_a_batch_over_the_balance_is_refused_even_without_a_budget() -> None:
    batch = batch_estimate([("a.png", KNOWN)])
    assert batch_refusal(batch, None, balance=25) is None
    message = batch_refusal(batch, None, balance=24)
    assert message is not None and "credit balance is 24" in message and "a.png (25)" in message


def test_a_batch_with_unknown_prices_under_a_budget_is_refused() -> None:
    message = batch_refusal(batch_estimate([("a.png", KNOWN), ("v.mp4", UNKNOWN)]), 1000)
    assert message is not None and "cannot be estimated (v.mp4)" in message


def test_batch_items_are_estimated_as_the_operator_would_send_them() -> None:
    items = [
        {"prompt_image": "s3://in/a.png", "duration": "10", "model": None},
        {"prompt_image": "s3://in/b.png", "duration": 5, "model": "gen4_turbo", "ratio": "1280:720"},
    ]
    assert item_body(items[0], "cometapi")["model"] == "gen3a_turbo"  # the flavor's default
    batch = estimate_batch(items, "cometapi")
    gen3a = load_catalog().endpoints["image_to_video"].models["gen3a_turbo"].price
    assert gen3a is not None and gen3a.credits is not None
    assert batch.items[0][1].credits == 10 * gen3a.credits
    assert batch.items[1][1] == estimate_credits("image_to_video", item_body(items[1], "cometapi"), "cometapi")
    assert batch.total == 10 * gen3a.credits + 25


def test_usage_credits_sums_the_models_asked_for() -> None:
    usage = {
        "models": ["gen4_turbo", "gen4_image"],
        "results": [
            {
                "date": "2026-11-24",
                "usedCredits": [{"model": "gen4_turbo", "amount": 25}, {"model": "gen4_image", "amount": 8}],
            },
            {"date": "2026-11-25", "usedCredits": [{"model": "gen4_turbo", "amount": -5}]},
        ],
    }
    assert usage_credits(usage) == 28
    assert usage_credits(usage, ["gen4_turbo"]) == 20
    assert usage_credits({"error": "x"}) is None


def test_usage_window_covers_the_day_and_the_next() -> None:
    assert usage_window(date(2026, 12, 31)) == ("2026-12-31", "2027-01-02")


def test_summary_credits_prefer_usage_and_label_the_estimate() -> None:
    outcomes = ["created", "skipped", "created", "failed"]
    from_usage = summary_credits([25.0, 25.0, 50.0, 25.0], outcomes, used=70.0)
    assert from_usage["credits_used"] == 70 and from_usage["credits_source"] == "usage"
    assert from_usage["credits_estimated"] == 75  # only the created items
    estimated = summary_credits([25.0, 25.0, None, 25.0], outcomes, used=None)
    assert estimated["credits_used"] == 25 and estimated["credits_source"] == "estimate"
    assert "1 created item(s) of unknown price" in estimated["credits_note"]
