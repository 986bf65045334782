"""The record of a submitted task across tries: its try lineage, and what an earlier task allows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_runway.execution.submitted_tasks import (
    FAIL,
    REUSE,
    SUBMIT,
    SubmittedTask,
    decide_earlier_task,
    variable_key,
)
from airflow_provider_runway.runway.remote_task import RunwayTask


def test_variable_key() -> None:
    assert variable_key("d", "r", "t", None) == "airflow_provider_runway:d:r:t:-1"
    assert variable_key("d", "r", "t", 3) == "airflow_provider_runway:d:r:t:3"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"runway_task_id": "abc", "max_tries": 2, "try_number": 1}, SubmittedTask("abc", 2, 1)),
        (json.dumps({"runway_task_id": "abc", "max_tries": 2, "try_number": 1}), SubmittedTask("abc", 2, 1)),
        ("abc", SubmittedTask("abc")),  # written before the lineage was kept
        ({"runway_task_id": "abc", "max_tries": "2"}, SubmittedTask("abc")),
        ({"runway_task_id": ""}, None),
        ("{not json", None),
        (None, None),
        ("", None),
    ],
)
def test_from_stored(stored: Any, expected: SubmittedTask | None) -> None:
    assert SubmittedTask.from_stored(stored) == expected


def test_round_trip_through_json() -> None:
    record = SubmittedTask("abc", 4, 2)
    assert SubmittedTask.from_stored(json.dumps(record.to_json())) == record


@pytest.mark.parametrize(
    ("stored_max_tries", "current", "cleared"),
    [
        (1, 1, False),  # an automatic retry: Airflow keeps max_tries
        (1, 2, True),  # cleared: max_tries = last try + retries
        (None, 5, False),  # an old record: treated as this lineage's, never pay twice
        (1, None, False),
    ],
)
def test_cleared_since(stored_max_tries: int | None, current: int | None, cleared: bool) -> None:
    assert SubmittedTask("abc", stored_max_tries, 1).cleared_since(current) is cleared


def earlier(status: str, code: str | None = None, failure: str | None = None) -> RunwayTask:
    return RunwayTask(id="abc", status=status, failure_code=code, failure=failure)


@pytest.mark.parametrize("status", ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"])
@pytest.mark.parametrize("resubmit", [True, False])
def test_a_usable_earlier_task_is_reused(status: str, resubmit: bool) -> None:
    decision = decide_earlier_task("abc", earlier(status), resubmit_on_failure=resubmit)
    assert decision.action == REUSE
    assert decision.message == f"Reconnecting to Runway task abc ({status}) created by an earlier try"


@pytest.mark.parametrize("code", ["SAFETY.INPUT.TEXT", "INPUT_PREPROCESSING.SAFETY.TEXT", "ASSET.INVALID", None])
def test_a_failure_runway_says_not_to_retry_is_never_resubmitted(code: str | None) -> None:
    decision = decide_earlier_task("abc", earlier("FAILED", code, "refused"), resubmit_on_failure=True)
    assert decision.action == FAIL
    assert decision.message.startswith("The earlier try's Runway task abc ended FAILED")
    assert decision.message.endswith("it will not be resubmitted automatically.")


@pytest.mark.parametrize("code", ["INTERNAL", "INPUT_PREPROCESSING.INTERNAL", "INTERNAL.BAD_OUTPUT.CODE01"])
def test_a_retryable_failure_is_resubmitted_when_allowed(code: str) -> None:
    decision = decide_earlier_task("abc", earlier("FAILED", code), resubmit_on_failure=True)
    assert decision.action == SUBMIT
    assert f"submitting a new one. {code}: " in decision.message
    refused = decide_earlier_task("abc", earlier("FAILED", code), resubmit_on_failure=False)
    assert refused.action == FAIL
    assert "resubmit_on_failure=False, not paying again" in refused.message


def test_cometapi_failure_text_decides_when_there_is_no_code() -> None:
    text_only = earlier("FAILED", None, "INTERNAL error upstream")
    assert decide_earlier_task("abc", text_only, resubmit_on_failure=True).action == SUBMIT
    assert decide_earlier_task("abc", earlier("FAILED", None, "nope"), resubmit_on_failure=True).action == FAIL


@pytest.mark.parametrize("task", [earlier("CANCELLED"), None], ids=["cancelled", "gone"])
def test_a_cancelled_or_vanished_task_is_resubmitted_unless_told_not_to(task: RunwayTask | None) -> None:
    assert decide_earlier_task("abc", task, resubmit_on_failure=True).action == SUBMIT
    decision = decide_earlier_task("abc", task, resubmit_on_failure=False)
    assert decision.action == FAIL
    assert "not paying again" in decision.message
    if task is None:
        assert "no longer exists" in decision.message
