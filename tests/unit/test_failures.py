"""Runway's failure codes: which may be resubmitted, and what the error message says."""

from __future__ import annotations

import pytest

from airflow_provider_runway.runway.failures import FAILURE_RULES, classify_failure, classify_task
from airflow_provider_runway.runway.remote_task import CANCELLED, FAILED, RUNNING, SUCCEEDED, RunwayTask


@pytest.mark.parametrize(
    ("code", "retry_allowed"),
    [
        ("SAFETY.INPUT.TEXT", False),
        ("SAFETY.INPUT.IMAGE", False),
        ("SAFETY.OUTPUT.VIDEO", False),
        ("SAFETY.SOMETHING_NEW", False),
        ("INPUT_PREPROCESSING.SAFETY.TEXT", False),
        ("ASSET.INVALID", False),
        ("INTERNAL.BAD_OUTPUT.CODE01", True),
        ("INTERNAL.BAD_OUTPUT", True),
        ("INPUT_PREPROCESSING.INTERNAL", True),
        ("INTERNAL", True),
        ("internal", True),  # codes are compared upper-case
        (" SAFETY.INPUT.TEXT ", False),
    ],
)
def test_documented_codes(code: str, retry_allowed: bool) -> None:
    verdict = classify_failure(code)
    assert verdict.retry_allowed is retry_allowed
    assert verdict.code == code.strip().upper()
    assert verdict.source == "failureCode"


@pytest.mark.parametrize(
    "code",
    [
        "INTERNAL.SOMETHING_ELSE",  # only INTERNAL itself and INTERNAL.BAD_OUTPUT.* are documented as retryable
        "INPUT_PREPROCESSING.SAFETY.IMAGE",
        "THIRD_PARTY.UNAVAILABLE",
        "ASSET.INVALID.EXTRA",
        "SAFETYNET",  # a prefix is a namespace, not a string prefix
        "INTERNALS",
    ],
)
def test_undocumented_codes_are_never_resubmitted(code: str) -> None:
    verdict = classify_failure(code)
    assert verdict.retry_allowed is False
    assert verdict.code == code
    assert "not documented" in verdict.meaning


def test_safety_refusals_warn_about_suspension() -> None:
    for code in ("SAFETY.INPUT.TEXT", "SAFETY.OUTPUT.VIDEO", "INPUT_PREPROCESSING.SAFETY.TEXT"):
        assert "suspended" in classify_failure(code).meaning


def test_bad_output_says_a_retry_rarely_succeeds() -> None:
    assert "rarely succeeds" in classify_failure("INTERNAL.BAD_OUTPUT.CODE01").meaning


def test_every_rule_is_reachable() -> None:
    """Most specific first: no rule is shadowed by an earlier, broader one."""
    for index, rule in enumerate(FAILURE_RULES):
        example = rule.pattern[:-2] + ".X" if rule.pattern.endswith(".*") else rule.pattern
        first = next(r for r in FAILURE_RULES if r.matches(example))
        assert first is FAILURE_RULES[index], rule.pattern


# -- CometAPI: no failureCode, only text ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "retry_allowed"),
    [
        ("Task failed: SAFETY.INPUT.TEXT flagged by moderation", "SAFETY.INPUT.TEXT", False),
        ("INTERNAL.BAD_OUTPUT.CODE01 - quality check", "INTERNAL.BAD_OUTPUT.CODE01", True),
        ("upstream error INTERNAL", "INTERNAL", True),
        ("INTERNAL then SAFETY.OUTPUT.VIDEO", "SAFETY.OUTPUT.VIDEO", False),  # any refusal wins
    ],
)
def test_codes_named_in_the_failure_text(text: str, code: str, retry_allowed: bool) -> None:
    verdict = classify_failure(None, text)
    assert (verdict.code, verdict.retry_allowed, verdict.source) == (code, retry_allowed, "failure text")


@pytest.mark.parametrize(
    "text", [None, "", "Internal server error", "upstream refused the image", "something FOO.BAR happened"]
)
def test_unsure_means_no_resubmit(text: str | None) -> None:
    verdict = classify_failure(None, text)
    assert verdict.retry_allowed is False
    assert verdict.code is None


def test_a_code_wins_over_the_text() -> None:
    verdict = classify_failure("INTERNAL", "SAFETY.INPUT.TEXT in the text")
    assert (verdict.code, verdict.retry_allowed) == ("INTERNAL", True)


# -- tasks and messages -----------------------------------------------------------------------


def test_classify_task_by_status() -> None:
    failed = RunwayTask(id="t", status=FAILED, failure="nope", failure_code="ASSET.INVALID")
    verdict = classify_task(failed)
    assert verdict is not None
    assert (verdict.code, verdict.retry_allowed) == ("ASSET.INVALID", False)
    cancelled = classify_task(RunwayTask(id="t", status=CANCELLED))
    assert cancelled is not None and cancelled.retry_allowed is True
    assert classify_task(RunwayTask(id="t", status=SUCCEEDED)) is None
    assert classify_task(RunwayTask(id="t", status=RUNNING)) is None


def test_explain_names_code_meaning_and_next_step() -> None:
    never = classify_failure("SAFETY.INPUT.TEXT")
    assert never.explain(False).startswith("SAFETY.INPUT.TEXT: an input was refused")
    assert never.explain(False).endswith("it will not be resubmitted automatically.")
    allowed = classify_failure("INTERNAL")
    assert allowed.explain(True).endswith("an Airflow retry of this task will submit a new Runway task.")
    assert "resubmit_on_failure=False" in allowed.explain(False, "resubmit_on_failure=False")
    assert "(read from the failure text)" in classify_failure(None, "INTERNAL").explain(True)
    assert classify_failure(None, None).explain(False).startswith("no failure code:")
