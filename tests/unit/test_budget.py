"""Credit caps and the credits a batch reports: pure decisions over estimates, balance and usage."""

from __future__ import annotations

import pytest

from airflow_provider_runway.batch.budget import (
    batch_estimate,
    estimate_batch,
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


def test_batch_estimate_totals_known_items_and_names_the_unknown() -> None:
    items = [(f"img{n}.png", CreditEstimate(float(n * 10), "x", True)) for n in range(1, 6)] + [("odd.png", UNKNOWN)]
    batch = batch_estimate(items)
    assert batch.total == 150
    assert batch.unknown == ("odd.png",)


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
