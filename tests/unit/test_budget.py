"""Credit caps and the credits a batch reports: pure decisions over estimates, balance and usage."""

from __future__ import annotations

import pytest

from airflow_provider_runway.batch.budget import (
    batch_estimate,
    batch_refusal,
    estimate_batch,
    summary_credits,
)
from airflow_provider_runway.batch.planning import item_body
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.credit_caps import api_estimate_refusal, as_credits, describe_estimate, task_refusal
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


def test_a_request_the_catalog_cannot_price_is_not_refused_before_the_create() -> None:
    # every new model would be: the API's own estimate decides right after the create
    assert task_refusal(UNKNOWN, 100) is None


@pytest.mark.parametrize(
    "estimate, api, cap, reason",
    [
        (UNKNOWN, 120.0, 100, "the API estimates this task at up to 120 credits"),
        (KNOWN, 120.0, 100, "the API estimates this task at up to 120 credits"),  # the catalog was low
        (UNKNOWN, None, 100, "the API gave no cost estimate and the catalog cannot price this task"),
        (UNKNOWN, 100.0, 100, None),
        (KNOWN, None, 100, None),  # CometAPI may not pass estimatedCost on: the catalog's check stands
        (UNKNOWN, 500.0, None, None),  # no cap
    ],
)
def test_the_apis_estimate_decides_right_after_the_create(
    estimate: CreditEstimate, api: float | None, cap: object, reason: str | None
) -> None:
    message = api_estimate_refusal(estimate, api, cap)
    if reason is None:
        assert message is None
    else:
        assert message is not None and reason in message and "max_credits=100" in message


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


def _row(outcome: str, charged: float | None) -> dict[str, object]:
    return {"outcome": outcome, "credits_charged": charged}


def test_summary_credits_add_up_the_apis_exact_charges() -> None:
    rows = [_row("created", 31.0), _row("skipped", 25.0), _row("created", 12.5), _row("failed", 0.0)]
    credits = summary_credits(rows, [25.0, 25.0, 50.0, 25.0])
    # the skipped item's sidecar tells what the earlier run paid: nothing was paid for it now
    assert credits["credits_used"] == 43.5 and credits["credits_charged"] == 43.5
    assert credits["credits_source"] == "api" and credits["items"] == {"charged": 3, "estimated": 0, "unknown": 0}


def test_summary_credits_label_estimates_where_the_api_gave_no_cost() -> None:
    rows = [_row("created", 31.0), _row("created", None), _row("created", None), _row("failed", None)]
    credits = summary_credits(rows, [25.0, 25.0, None, 25.0])
    assert credits["credits_used"] == 56 and credits["credits_charged"] == 31 and credits["credits_estimated"] == 25
    assert credits["credits_source"] == "api and estimate"
    assert "1 estimated from the catalog" in credits["credits_note"]
    assert "1 created item(s) of unknown price" in credits["credits_note"]
    only_estimates = summary_credits([_row("created", None)], [25.0])
    assert only_estimates["credits_source"] == "estimate" and only_estimates["credits_used"] == 25
