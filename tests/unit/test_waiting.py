"""The wait tracker: what each poll outcome means, when to poll, and the result of a final event."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_runway._compat import AirflowException, AirflowFailException, AirflowSensorTimeout
from airflow_provider_runway.execution.wait_tracker import (
    ERROR,
    SUCCESS,
    TASK_CANCELLED,
    TASK_FAILED,
    TIMEOUT,
    PollDecision,
    WaitTracker,
    connection_unusable,
    result_from_event,
    wait_event,
)
from airflow_provider_runway.runway.errors import (
    ConnectionConfigError,
    MalformedResponseError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.runway.remote_task import RunwayTask

TASK_ID = "task-123"
VIDEO = "https://cdn.example.com/out.mp4"
T0 = 1_700_000_000.0
PATH = f"/runwayml/v1/tasks/{TASK_ID}"


def tracker(
    deadline: float | None = T0 + 600, grace: float = 60.0, max_unreadable: int = 10, interval: float = 10.0
) -> WaitTracker:
    return WaitTracker(
        task_id=TASK_ID,
        deadline=deadline,
        not_visible_until=T0 + grace,
        poll_interval=interval,
        max_unreadable=max_unreadable,
    )


def task(status: str, progress: float | None = None, **kw: Any) -> RunwayTask:
    return RunwayTask(id=TASK_ID, status=status, progress=progress, **kw)


def decide(t: WaitTracker, outcome: RunwayTask | RunwayError, at: float = T0) -> PollDecision:
    return t.decide(outcome, at)


# --------------------------------------------------------------------------- events


def test_wait_event_shape() -> None:
    t = task("SUCCEEDED", output=(VIDEO,))
    assert wait_event(SUCCESS, TASK_ID, "done", t, polls=3) == {
        "status": "success",
        "runway_task_id": TASK_ID,
        "message": "done",
        "task": t.to_dict(),
        "polls": 3,
    }
    assert wait_event(ERROR, TASK_ID, "boom")["task"] is None


def test_connection_unusable_is_an_error_event_naming_the_task() -> None:
    event = connection_unusable(TASK_ID, ConnectionConfigError("no API key"))
    assert (event["status"], event["runway_task_id"]) == (ERROR, TASK_ID)
    assert event["message"] == f"Cannot use the Runway connection to poll task {TASK_ID}: no API key"


def test_poll_decision_logs_at_its_level(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.waiting")
    with caplog.at_level(logging.INFO, logger="test.waiting"):
        assert PollDecision(None, "still waiting", logging.WARNING).log_to(log) is None
        assert PollDecision({"status": SUCCESS}).log_to(log) == {"status": SUCCESS}
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.WARNING, "still waiting")]


# --------------------------------------------------------------------------- a task seen


def test_first_poll_logs_a_line_and_counts() -> None:
    t = tracker()
    decision = decide(t, task("PENDING"), T0 + 3)
    assert decision == PollDecision(None, f"Runway task {TASK_ID}: PENDING")
    assert (t.polls, t.last_poll_at, t.last) == (1, T0 + 3, task("PENDING"))


def test_unchanged_status_and_progress_log_nothing() -> None:
    t = tracker()
    decide(t, task("RUNNING", 0.2))
    assert decide(t, task("RUNNING", 0.2)) == PollDecision(None, None)
    assert t.polls == 2


def test_progress_moving_inside_one_percent_logs_nothing() -> None:
    # Runway's progress creeps on every poll: the same "RUNNING 20%" line thousands of times is noise.
    t = tracker()
    decide(t, task("RUNNING", 0.2012))
    assert decide(t, task("RUNNING", 0.2031)) == PollDecision(None, None)


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
    decide(t, first)
    assert decide(t, second) == PollDecision(None, f"Runway task {TASK_ID}: {expected}")


@pytest.mark.parametrize(
    ("status", "kind"),
    [("SUCCEEDED", SUCCESS), ("FAILED", TASK_FAILED), ("CANCELLED", TASK_CANCELLED)],
)
def test_terminal_status_ends_the_wait(status: str, kind: str) -> None:
    t = tracker()
    decide(t, task("RUNNING", 0.9))
    final = task(status, output=(VIDEO,) if status == "SUCCEEDED" else ())
    decision = decide(t, final)
    assert decision.line is not None
    assert decision.event == {
        "status": kind,
        "runway_task_id": TASK_ID,
        "message": f"Runway task {TASK_ID} {final.describe()}",
        "task": final.to_dict(),
        "polls": 2,
    }


def test_failed_event_message_carries_the_failure() -> None:
    event = decide(tracker(), task("FAILED", failure="nsfw", failure_code="SAFETY.OUTPUT.VIDEO")).event
    assert event is not None
    assert "SAFETY.OUTPUT.VIDEO: nsfw" in event["message"]
    assert event["task"]["failureCode"] == "SAFETY.OUTPUT.VIDEO"


@pytest.mark.parametrize("status", ["PENDING", "THROTTLED", "RUNNING"])
def test_non_terminal_known_statuses_keep_waiting(status: str) -> None:
    assert decide(tracker(), task(status)).event is None


# --------------------------------------------------------------------------- errors the wait outlives


@pytest.mark.parametrize(
    "error",
    [
        RunwayTransportError("GET x: connection lost (ConnectionResetError)", sent=True),
        RunwayTransportError("cannot connect", sent=False),
        RunwayAPIError(429, "slow down", method="GET", path=PATH),
        RunwayAPIError(408, "timeout", method="GET", path=PATH),
        RunwayAPIError(500, "oops", method="GET", path=PATH),
        RunwayAPIError(503, "shedding load", method="GET", path=PATH),
        RunwayAPIError(524, "proxy timeout", method="GET", path=PATH),
    ],
)
def test_what_time_can_fix_keeps_waiting_with_a_warning(error: RunwayError) -> None:
    t = tracker()
    decision = decide(t, error)
    assert decision.event is None
    assert decision.level == logging.WARNING
    assert decision.line == f"Polling Runway task {TASK_ID} failed ({error}); will poll again"
    assert t.polls == 1
    assert t.unreadable_streak == 0


# --------------------------------------------------------------------------- errors waiting cannot fix


def test_a_rejected_key_ends_the_wait_naming_the_task() -> None:
    t = tracker()
    decide(t, task("RUNNING", 0.4))
    event = decide(t, RunwayAuthError(401, "API key rejected: Invalid key", method="GET", path=PATH)).event
    assert event is not None
    assert event["status"] == ERROR
    assert event["message"].startswith(f"The API key was rejected while polling Runway task {TASK_ID} (401: ")
    assert "may still be running" in event["message"]
    assert event["task"] == task("RUNNING", 0.4).to_dict()  # the last status rides along


def test_a_task_that_does_not_exist_ends_the_wait() -> None:
    event = decide(tracker(), RunwayTaskNotFoundError(404, "Task not found.", method="GET", path=PATH)).event
    assert event is not None
    assert event["status"] == ERROR
    assert event["message"].startswith(f"Runway task {TASK_ID} does not exist (404: Task not found.)")


@pytest.mark.parametrize(
    "error",
    [
        RunwayAPIError(400, "bad request", method="GET", path=PATH),
        RunwayAPIError(405, "method not allowed", method="GET", path=PATH),
        RunwayAPIError(302, "redirected to elsewhere: wrong host or flavor?", method="GET", path=PATH),
        ConnectionConfigError("flavor must be cometapi or runway"),
    ],
)
def test_other_refusals_end_the_wait(error: RunwayError) -> None:
    event = decide(tracker(), error).event
    assert event is not None
    assert event["status"] == ERROR
    assert event["message"] == f"Polling Runway task {TASK_ID} failed and waiting cannot fix it: {error}"


# --------------------------------------------------------------------------- unreadable answers


def test_unknown_status_counts_as_unreadable_and_gives_up_after_the_bound() -> None:
    t = tracker(max_unreadable=3)
    weird = RunwayTask(id=TASK_ID, status="ARCHIVED", raw_status="archived")
    decision = decide(t, weird)
    assert decision == PollDecision(None, f"Runway task {TASK_ID}: ARCHIVED")
    assert decide(t, weird).event is None
    event = decide(t, weird).event
    assert event is not None
    assert event["status"] == ERROR
    assert "3 unreadable answers in a row" in event["message"]
    assert "unrecognised status 'archived'" in event["message"]
    assert event["task"] == weird.to_dict()


def test_malformed_answers_warn_and_give_up_exactly_at_max_unreadable() -> None:
    t = tracker(max_unreadable=10)
    for i in range(1, 10):
        decision = decide(t, MalformedResponseError(f"bad {i}"))
        assert decision.event is None
        assert decision.level == logging.WARNING
        assert decision.line == f"Runway answered a poll of {TASK_ID} unreadably: bad {i}"
    event = decide(t, MalformedResponseError("html page")).event
    assert event is not None
    assert event["status"] == ERROR
    assert "after 10 unreadable answers in a row; last: html page" in event["message"]
    assert event["task"] is None  # nothing readable was ever seen
    assert event["polls"] == 10


def test_a_readable_known_poll_resets_the_unreadable_streak() -> None:
    t = tracker(max_unreadable=3)
    decide(t, MalformedResponseError("a"))
    decide(t, MalformedResponseError("b"))
    decide(t, task("RUNNING", 0.1))
    assert t.unreadable_streak == 0
    decide(t, MalformedResponseError("c"))
    decide(t, MalformedResponseError("d"))
    event = decide(t, MalformedResponseError("e")).event
    assert event is not None
    assert event["task"] == task("RUNNING", 0.1).to_dict()


def test_transient_errors_do_not_reset_or_extend_the_unreadable_streak() -> None:
    t = tracker(max_unreadable=2)
    decide(t, MalformedResponseError("a"))
    decide(t, RunwayTransportError("reset", sent=True))
    assert decide(t, MalformedResponseError("b")).event is not None


# --------------------------------------------------------------------------- task_not_exist grace window


def not_visible() -> RunwayTaskNotVisibleError:
    return RunwayTaskNotVisibleError(400, "task_not_exist", method="GET", path=PATH)


def test_not_visible_inside_the_grace_window_keeps_waiting() -> None:
    t = tracker(grace=60)
    line = f"Runway task {TASK_ID} is not visible yet (task_not_exist); still waiting"
    assert decide(t, not_visible(), T0) == PollDecision(None, line)
    assert decide(t, not_visible(), T0 + 59.999) == PollDecision(None, line)
    assert t.polls == 2


@pytest.mark.parametrize("at", [T0 + 60, T0 + 61, T0 + 10_000])
def test_not_visible_at_or_after_the_grace_window_gives_up(at: float) -> None:
    event = decide(tracker(grace=60), not_visible(), at).event
    assert event is not None
    assert event["status"] == ERROR
    assert "task_not_exist after the grace window" in event["message"]
    assert "flavor/host" in event["message"]
    assert event["task"] is None


def test_not_visible_after_the_task_was_seen_is_an_unreadable_answer() -> None:
    t = tracker(grace=60, max_unreadable=2)
    decide(t, task("RUNNING", 0.3))
    assert decide(t, not_visible(), T0 + 3_600).event is None
    event = decide(t, not_visible(), T0 + 3_601).event
    assert event is not None
    assert "task_not_exist for a task seen before" in event["message"]


# --------------------------------------------------------------------------- when to poll, the deadline


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


def test_timeout_event_reports_the_last_status() -> None:
    t = tracker(deadline=None)
    decide(t, task("THROTTLED"))
    event = t.timeout_event()
    assert event["message"].endswith("last status: THROTTLED")
    assert event["task"] == task("THROTTLED").to_dict()


def test_sleep_for_follows_the_poll_grid() -> None:
    t = tracker(deadline=None)
    first = t.sleep_for(T0)
    assert 1.0 <= first <= 1.0 + 12.0
    decide(t, task("PENDING"), T0 + first)
    second = t.sleep_for(T0 + first + 0.1)
    assert 5.0 <= second + 0.1 <= 12.0


@pytest.mark.parametrize(("deadline", "expected"), [(T0 + 0.5, 0.5), (T0, 0.0), (T0 - 5, 0.0)])
def test_sleep_for_never_sleeps_past_the_deadline(deadline: float, expected: float) -> None:
    assert tracker(deadline=deadline).sleep_for(T0) == pytest.approx(expected)


def test_poll_due_keeps_five_seconds_between_polls() -> None:
    t = tracker()
    assert t.poll_due(T0)  # a fresh wait may poll at once
    decide(t, task("PENDING"), T0)
    assert not t.poll_due(T0 + 4.9)
    assert t.poll_due(T0 + 5.0)


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


@pytest.mark.parametrize("no_resubmit_reason", [None, "a sensor only waits"])
def test_timeout_raises_sensor_timeout(no_resubmit_reason: str | None) -> None:
    with pytest.raises(AirflowSensorTimeout, match="Timed out"):
        result_from_event(wait_event(TIMEOUT, TASK_ID, "Timed out waiting"), no_resubmit_reason=no_resubmit_reason)


def failed(code: str | None, failure: str | None = None) -> dict[str, Any]:
    final = task("FAILED", failure=failure, failure_code=code)
    return wait_event(TASK_FAILED, TASK_ID, f"Runway task {TASK_ID} {final.describe()}", final)


@pytest.mark.parametrize(
    "code", ["SAFETY.INPUT.TEXT", "SAFETY.OUTPUT.VIDEO", "INPUT_PREPROCESSING.SAFETY.TEXT", "ASSET.INVALID", "NEW.CODE"]
)
def test_never_retry_codes_fail_without_retry_even_when_the_task_could_resubmit(code: str) -> None:
    with pytest.raises(AirflowFailException) as info:
        result_from_event(failed(code), no_resubmit_reason=None)
    assert f"{code}: " in str(info.value)
    assert str(info.value).endswith("it will not be resubmitted automatically.")


@pytest.mark.parametrize("code", ["INTERNAL", "INPUT_PREPROCESSING.INTERNAL", "INTERNAL.BAD_OUTPUT.CODE01"])
def test_retry_allowed_codes_let_airflow_retry_a_task_that_resubmits(code: str) -> None:
    with pytest.raises(AirflowException) as info:
        result_from_event(failed(code), no_resubmit_reason=None)
    assert not isinstance(info.value, (AirflowFailException, AirflowSensorTimeout))
    assert str(info.value).startswith(f"Runway task {TASK_ID} FAILED ({code}: ")
    assert str(info.value).endswith("an Airflow retry of this task will submit a new Runway task.")


@pytest.mark.parametrize("code", ["INTERNAL", "INTERNAL.BAD_OUTPUT.CODE01"])
def test_retry_allowed_codes_fail_when_the_task_cannot_resubmit(code: str) -> None:
    with pytest.raises(AirflowFailException, match="Runway allows a retry, but it will not be resubmitted: a sensor"):
        result_from_event(failed(code), no_resubmit_reason="a sensor only waits")


def test_cometapi_failure_without_a_code_is_classified_by_its_text() -> None:
    with pytest.raises(AirflowFailException, match=r"SAFETY\.INPUT\.TEXT \(read from the failure text\)"):
        result_from_event(failed(None, "blocked: SAFETY.INPUT.TEXT"), no_resubmit_reason=None)
    with pytest.raises(AirflowFailException, match="no failure code"):
        result_from_event(failed(None, "upstream refused the image"), no_resubmit_reason=None)


def test_cancelled_task_may_be_resubmitted_by_the_operator_only() -> None:
    final = task("CANCELLED")
    event = wait_event(TASK_CANCELLED, TASK_ID, f"Runway task {TASK_ID} CANCELLED", final)
    with pytest.raises(AirflowException) as info:
        result_from_event(event, no_resubmit_reason=None)
    assert not isinstance(info.value, AirflowFailException)
    with pytest.raises(AirflowFailException, match="was cancelled"):
        result_from_event(event, no_resubmit_reason="a sensor only waits")


def test_failed_event_without_a_readable_task_never_retries() -> None:
    with pytest.raises(AirflowFailException, match="boom"):
        result_from_event({"status": TASK_FAILED, "runway_task_id": TASK_ID, "message": "boom", "task": None})


@pytest.mark.parametrize("no_resubmit_reason", [None, "a sensor only waits"])
def test_error_raises_a_plain_airflow_exception(no_resubmit_reason: str | None) -> None:
    with pytest.raises(AirflowException) as info:
        result_from_event(wait_event(ERROR, TASK_ID, "gave up"), no_resubmit_reason=no_resubmit_reason)
    assert not isinstance(info.value, (AirflowFailException, AirflowSensorTimeout))
    assert str(info.value) == "gave up"


@pytest.mark.parametrize("kind", ["weird", None])
def test_unexpected_kind_raises_with_a_default_message(kind: str | None) -> None:
    with pytest.raises(AirflowException, match=f"Runway wait ended with {kind}"):
        result_from_event({"status": kind})
