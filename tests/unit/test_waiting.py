"""Unit tests for the wait tracker and for turning a final wait event into a result or exception."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway._compat import AirflowException, AirflowFailException, AirflowSensorTimeout
from airflow_provider_runway.tasks import RunwayTask
from airflow_provider_runway.waiting import (
    ERROR,
    SUCCESS,
    TASK_CANCELLED,
    TASK_FAILED,
    TIMEOUT,
    WaitTracker,
    result_from_event,
    wait_event,
)

TASK_ID = "task-123"
VIDEO = "https://cdn.example.com/out.mp4"
T0 = 1_700_000_000.0


def tracker(deadline: float | None = T0 + 600, grace: float = 60.0, max_unreadable: int = 10) -> WaitTracker:
    return WaitTracker(task_id=TASK_ID, deadline=deadline, not_visible_until=T0 + grace, max_unreadable=max_unreadable)


def task(status: str, progress: float | None = None, **kw: Any) -> RunwayTask:
    return RunwayTask(id=TASK_ID, status=status, progress=progress, **kw)


# --------------------------------------------------------------------------- wait_event


def test_wait_event_shape() -> None:
    t = task("SUCCEEDED", output=(VIDEO,))
    assert wait_event(SUCCESS, TASK_ID, "done", t) == {
        "status": "success",
        "runway_task_id": TASK_ID,
        "message": "done",
        "task": t.to_dict(),
    }
    assert wait_event(ERROR, TASK_ID, "boom")["task"] is None


def test_event_kind_names() -> None:
    assert (SUCCESS, TASK_FAILED, TASK_CANCELLED, TIMEOUT, ERROR) == (
        "success",
        "failed",
        "cancelled",
        "timeout",
        "error",
    )


# --------------------------------------------------------------------------- saw(): log lines


def test_first_poll_logs_a_line() -> None:
    t = tracker()
    line, event = t.saw(task("PENDING"))
    assert line == f"Runway task {TASK_ID}: PENDING"
    assert event is None
    assert t.polls == 1
    assert t.last == task("PENDING")


def test_unchanged_status_and_progress_log_nothing() -> None:
    t = tracker()
    t.saw(task("RUNNING", 0.2))
    line, event = t.saw(task("RUNNING", 0.2))
    assert line is None
    assert event is None
    assert t.polls == 2


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (task("PENDING"), task("THROTTLED"), "THROTTLED"),
        (task("THROTTLED"), task("RUNNING"), "RUNNING"),
        (task("RUNNING", 0.2), task("RUNNING", 0.5), "RUNNING 50%"),
        (task("RUNNING"), task("RUNNING", 0.1), "RUNNING 10%"),
        (task("RUNNING", 0.1), task("RUNNING"), "RUNNING"),
    ],
)
def test_status_or_progress_change_logs_a_line(first: RunwayTask, second: RunwayTask, expected: str) -> None:
    t = tracker()
    t.saw(first)
    line, event = t.saw(second)
    assert line == f"Runway task {TASK_ID}: {expected}"
    assert event is None


def test_a_sequence_logs_only_changes() -> None:
    t = tracker()
    seen = [
        task("PENDING"),
        task("PENDING"),
        task("THROTTLED"),
        task("THROTTLED"),
        task("RUNNING", 0.0),
        task("RUNNING", 0.0),
        task("RUNNING", 0.4),
    ]
    lines = [t.saw(s)[0] for s in seen]
    assert [line is not None for line in lines] == [True, False, True, False, True, False, True]
    assert t.polls == len(seen)


# --------------------------------------------------------------------------- saw(): terminal events


@pytest.mark.parametrize(
    ("status", "kind"),
    [("SUCCEEDED", SUCCESS), ("FAILED", TASK_FAILED), ("CANCELLED", TASK_CANCELLED)],
)
def test_terminal_status_ends_the_wait(status: str, kind: str) -> None:
    t = tracker()
    t.saw(task("RUNNING", 0.9))
    final = task(status, output=(VIDEO,) if status == "SUCCEEDED" else ())
    line, event = t.saw(final)
    assert line is not None
    assert event is not None
    assert event["status"] == kind
    assert event["runway_task_id"] == TASK_ID
    assert event["task"] == final.to_dict()
    assert event["message"] == f"Runway task {TASK_ID} {final.describe()}"


def test_failed_event_message_carries_the_failure() -> None:
    _, event = tracker().saw(task("FAILED", failure="nsfw", failure_code="SAFETY.OUTPUT.VIDEO"))
    assert event is not None
    assert "SAFETY.OUTPUT.VIDEO: nsfw" in event["message"]
    assert event["task"]["failureCode"] == "SAFETY.OUTPUT.VIDEO"


@pytest.mark.parametrize("status", ["PENDING", "THROTTLED", "RUNNING"])
def test_non_terminal_known_statuses_keep_waiting(status: str) -> None:
    assert tracker().saw(task(status))[1] is None


# --------------------------------------------------------------------------- unreadable answers


def test_unknown_status_counts_as_unreadable_and_gives_up_after_the_bound() -> None:
    t = tracker(max_unreadable=3)
    weird = RunwayTask(id=TASK_ID, status="ARCHIVED", raw_status="archived")
    line, event = t.saw(weird)
    assert line == f"Runway task {TASK_ID}: ARCHIVED"
    assert event is None
    assert t.saw(weird)[1] is None
    _, event = t.saw(weird)
    assert event is not None
    assert event["status"] == ERROR
    assert "3 unreadable answers in a row" in event["message"]
    assert "unrecognised status 'archived'" in event["message"]
    assert event["task"] == weird.to_dict()


def test_unreadable_gives_up_exactly_at_max_unreadable() -> None:
    t = tracker(max_unreadable=10)
    for i in range(1, 10):
        assert t.unreadable(f"bad {i}") is None
        assert t.unreadable_streak == i
    event = t.unreadable("html page")
    assert event is not None
    assert event["status"] == ERROR
    assert "after 10 unreadable answers in a row; last: html page" in event["message"]
    assert event["task"] is None  # nothing readable was ever seen
    assert t.polls == 10


def test_a_readable_known_poll_resets_the_unreadable_streak() -> None:
    t = tracker(max_unreadable=3)
    assert t.unreadable("a") is None
    assert t.unreadable("b") is None
    t.saw(task("RUNNING", 0.1))
    assert t.unreadable_streak == 0
    assert t.unreadable("c") is None
    assert t.unreadable("d") is None
    event = t.unreadable("e")
    assert event is not None
    assert event["task"] == task("RUNNING", 0.1).to_dict()  # the last readable task rides along


def test_unknown_statuses_and_malformed_answers_share_one_streak() -> None:
    t = tracker(max_unreadable=2)
    t.saw(RunwayTask(id=TASK_ID, status="UNKNOWN"))
    event = t.unreadable("not JSON")
    assert event is not None
    assert event["status"] == ERROR


def test_max_unreadable_of_one_gives_up_on_the_first() -> None:
    event = tracker(max_unreadable=1).unreadable("x")
    assert event is not None
    assert event["status"] == ERROR


# --------------------------------------------------------------------------- task_not_exist grace window


def test_not_visible_inside_the_grace_window_keeps_waiting() -> None:
    t = tracker(grace=60)
    assert t.not_visible(T0) is None
    assert t.not_visible(T0 + 59.999) is None
    assert t.polls == 2


@pytest.mark.parametrize("now", [T0 + 60, T0 + 61, T0 + 10_000])
def test_not_visible_at_or_after_the_grace_window_gives_up(now: float) -> None:
    t = tracker(grace=60)
    event = t.not_visible(now)
    assert event is not None
    assert event["status"] == ERROR
    assert event["runway_task_id"] == TASK_ID
    assert "task_not_exist after the grace window" in event["message"]
    assert "flavor/host" in event["message"]
    assert event["task"] is None


def test_not_visible_after_the_task_was_seen_keeps_waiting() -> None:
    t = tracker(grace=60)
    t.saw(task("RUNNING", 0.3))
    assert t.not_visible(T0 + 3_600) is None


def test_not_visible_does_not_touch_the_unreadable_streak() -> None:
    t = tracker(max_unreadable=2)
    t.unreadable("x")
    assert t.not_visible(T0) is None
    assert t.unreadable_streak == 1


# --------------------------------------------------------------------------- deadline and sleeping


def test_no_deadline_never_times_out() -> None:
    assert tracker(deadline=None).timed_out(T0 + 10**9) is None


def test_timed_out_just_before_and_at_the_deadline() -> None:
    t = tracker(deadline=T0 + 600)
    assert t.timed_out(T0 + 599.999) is None
    event = t.timed_out(T0 + 600)
    assert event is not None
    assert event["status"] == TIMEOUT
    assert event["message"] == f"Timed out waiting for Runway task {TASK_ID}; last status: never seen"
    assert event["task"] is None


def test_timed_out_reports_the_last_status() -> None:
    t = tracker(deadline=T0 + 10)
    t.saw(task("THROTTLED"))
    event = t.timed_out(T0 + 11)
    assert event is not None
    assert event["message"].endswith("last status: THROTTLED")
    assert event["task"] == task("THROTTLED").to_dict()


@pytest.mark.parametrize(
    ("deadline", "now", "interval", "expected"),
    [
        (None, T0, 6.0, 6.0),
        (T0 + 600, T0, 6.0, 6.0),
        (T0 + 6, T0, 6.0, 6.0),
        (T0 + 2.5, T0, 6.0, 2.5),
        (T0, T0, 6.0, 0.0),
        (T0 - 5, T0, 6.0, 0.0),
    ],
)
def test_sleep_for_never_sleeps_past_the_deadline(
    deadline: float | None, now: float, interval: float, expected: float
) -> None:
    assert tracker(deadline=deadline).sleep_for(now, interval) == pytest.approx(expected)


# --------------------------------------------------------------------------- result_from_event


def test_success_returns_a_copy_of_the_task() -> None:
    t = task("SUCCEEDED", output=(VIDEO,))
    event = wait_event(SUCCESS, TASK_ID, "ok", t)
    result = result_from_event(event)
    assert result == t.to_dict()
    result["id"] = "changed"
    assert event["task"]["id"] == TASK_ID


def test_success_without_a_task_returns_an_empty_dict() -> None:
    assert result_from_event({"status": SUCCESS, "task": None}) == {}


@pytest.mark.parametrize("failure_retryable", [False, True])
def test_timeout_raises_sensor_timeout(failure_retryable: bool) -> None:
    with pytest.raises(AirflowSensorTimeout, match="Timed out"):
        result_from_event(wait_event(TIMEOUT, TASK_ID, "Timed out waiting", None), failure_retryable=failure_retryable)


@pytest.mark.parametrize("kind", [TASK_FAILED, TASK_CANCELLED])
@pytest.mark.parametrize("code", [None, "INTERNAL.BAD_OUTPUT", "SAFETY.INPUT.TEXT"])
def test_failures_never_retry_by_default(kind: str, code: str | None) -> None:
    event = wait_event(kind, TASK_ID, f"Runway task {TASK_ID} failed", task("FAILED", failure_code=code))
    with pytest.raises(AirflowFailException, match="failed"):
        result_from_event(event)


@pytest.mark.parametrize("kind", [TASK_FAILED, TASK_CANCELLED])
@pytest.mark.parametrize("code", [None, "INTERNAL.BAD_OUTPUT"])
def test_retryable_failures_raise_a_plain_airflow_exception(kind: str, code: str | None) -> None:
    event = wait_event(kind, TASK_ID, "boom", task("FAILED", failure_code=code))
    with pytest.raises(AirflowException) as info:
        result_from_event(event, failure_retryable=True)
    assert not isinstance(info.value, AirflowFailException)
    assert not isinstance(info.value, AirflowSensorTimeout)
    assert str(info.value) == "boom"


@pytest.mark.parametrize("code", ["SAFETY.INPUT.IMAGE", "SAFETY.OUTPUT.VIDEO", "SAFETY"])
def test_safety_failures_never_retry_even_when_failures_may(code: str) -> None:
    event = wait_event(TASK_FAILED, TASK_ID, "refused", task("FAILED", failure_code=code))
    with pytest.raises(AirflowFailException, match="refused"):
        result_from_event(event, failure_retryable=True)


@pytest.mark.parametrize("failure_retryable", [False, True])
def test_error_raises_a_plain_airflow_exception(failure_retryable: bool) -> None:
    with pytest.raises(AirflowException) as info:
        result_from_event(wait_event(ERROR, TASK_ID, "gave up"), failure_retryable=failure_retryable)
    assert not isinstance(info.value, (AirflowFailException, AirflowSensorTimeout))
    assert str(info.value) == "gave up"


@pytest.mark.parametrize("kind", ["weird", None])
def test_unexpected_kind_raises_with_a_default_message(kind: str | None) -> None:
    with pytest.raises(AirflowException, match=f"Runway wait ended with {kind}"):
        result_from_event({"status": kind})


def test_failed_event_from_the_tracker_round_trips_to_the_right_exception() -> None:
    t = tracker()
    _, event = t.saw(task("FAILED", failure="blocked", failure_code="SAFETY.INPUT.TEXT"))
    assert event is not None
    with pytest.raises(AirflowFailException, match=r"SAFETY\.INPUT\.TEXT: blocked"):
        result_from_event(event, failure_retryable=True)
