"""Unit tests for the API call shapes shared by the sync and async paths (no server)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_runway.runway.errors import (
    InvalidRequestError,
    MalformedResponseError,
    OutputUnavailableError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
)
from airflow_provider_runway.runway.protocol import (
    CANCELLABLE_STATUSES,
    NOT_FOUND,
    NOT_VISIBLE,
    UploadSlot,
    check_output_status,
    decide_cancel,
    endpoint_name,
    is_iso_date,
    observed_status,
    parse_upload_slot,
    read_response,
    task_path,
    upload_body,
    usage_body,
)
from airflow_provider_runway.runway.remote_task import KNOWN_STATUSES, TERMINAL_STATUSES, RunwayTask

TASK = "11111111-2222-3333-4444-555555555555"

# --------------------------------------------------------------------------- cancel rule


@pytest.mark.parametrize("status", ["PENDING", "THROTTLED", "RUNNING"])
def test_a_task_still_going_is_cancelled(status: str) -> None:
    decision = decide_cancel(TASK, status)
    assert decision.send_delete is True
    assert decision.message == f"Cancelling Runway task {TASK} ({status})"


def test_a_task_not_visible_yet_may_be_running_so_it_is_cancelled() -> None:
    decision = decide_cancel(TASK, NOT_VISIBLE)
    assert decision.send_delete is True
    assert "not visible yet" in decision.message


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_a_finished_task_is_never_deleted(status: str) -> None:
    decision = decide_cancel(TASK, status)
    assert decision.send_delete is False
    assert decision.message == (
        f"Runway task {TASK} is already {status}; not cancelling (a DELETE would delete its output)"
    )


@pytest.mark.parametrize("status", ["UNKNOWN", "FAILURE", "", "succeeded", "ARCHIVED"])
def test_a_status_this_provider_does_not_know_is_kept(status: str) -> None:
    assert decide_cancel(TASK, status).send_delete is False


def test_a_task_that_is_gone_needs_no_cancel() -> None:
    decision = decide_cancel(TASK, NOT_FOUND)
    assert decision.send_delete is False
    assert decision.message == f"Runway task {TASK} was not found; nothing to cancel"


def test_cancellable_statuses_are_exactly_the_known_non_terminal_ones() -> None:
    assert CANCELLABLE_STATUSES == KNOWN_STATUSES - TERMINAL_STATUSES


def test_what_the_look_before_a_cancel_saw() -> None:
    assert observed_status(RunwayTask(id=TASK, status="SUCCEEDED")) == "SUCCEEDED"
    assert observed_status(RunwayTaskNotVisibleError(400, "task_not_exist")) == NOT_VISIBLE
    assert observed_status(RunwayTaskNotFoundError(404, "Task not found.")) == NOT_FOUND


@pytest.mark.parametrize("error", [RunwayAPIError(503, "busy"), RunwayAuthError(401, "bad key")])
def test_a_look_that_failed_is_raised_not_guessed(error: RunwayAPIError) -> None:
    with pytest.raises(RunwayAPIError) as caught:
        observed_status(error)
    assert caught.value is error


# --------------------------------------------------------------------------- read_response


def test_2xx_json_is_returned_and_204_is_none() -> None:
    assert read_response(200, '{"id": "x"}', {}, "GET", "/v1/tasks/x") == {"id": "x"}
    assert read_response(204, "", {}, "DELETE", "/v1/tasks/x") is None


def test_2xx_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        read_response(200, "<html>hi</html>", {}, "GET", "/v1/tasks/x")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_keep_the_api_message_apart_from_our_words(status: int) -> None:
    with pytest.raises(RunwayAuthError) as caught:
        read_response(status, '{"error": "Invalid API key."}', {}, "GET", "/v1/organization")
    assert caught.value.api_message == "Invalid API key."
    assert str(caught.value) == f"Runway API error {status} GET /v1/organization: API key rejected: Invalid API key."


def test_task_not_exist_is_not_visible_and_a_json_404_on_a_task_is_not_found() -> None:
    body = '{"code": "task_not_exist", "message": "task_not_exist"}'
    with pytest.raises(RunwayTaskNotVisibleError):
        read_response(400, body, {}, "GET", "/runwayml/v1/tasks/x")
    with pytest.raises(RunwayTaskNotFoundError):
        read_response(404, '{"error": "Task not found."}', {}, "GET", "/v1/tasks/x")


def test_an_html_404_is_a_wrong_host_not_a_missing_task() -> None:
    with pytest.raises(RunwayAPIError) as caught:
        read_response(404, "<html>nginx</html>", {}, "GET", "/v1/tasks/x")
    assert type(caught.value) is RunwayAPIError


def test_redirects_name_the_target_and_are_not_followed() -> None:
    with pytest.raises(RunwayAPIError, match=re.escape("redirected to https://elsewhere.example/")):
        read_response(301, "", {"location": "https://elsewhere.example/"}, "GET", "/v1/tasks/x")


def test_retry_after_is_read_from_the_headers() -> None:
    with pytest.raises(RunwayAPIError) as caught:
        read_response(429, '{"error": "slow down"}', {"retry-after": "7"}, "POST", "/v1/image_to_video")
    assert caught.value.retry_after == 7.0


# --------------------------------------------------------------------------- output URLs


@pytest.mark.parametrize("status", [403, 404, 410])
def test_expired_or_gone_outputs_are_their_own_error(status: int) -> None:
    with pytest.raises(OutputUnavailableError) as caught:
        check_output_status(status, {})
    assert caught.value.status_code == status


def test_an_output_redirect_is_reported_not_followed() -> None:
    with pytest.raises(RunwayAPIError, match=re.escape("redirects to cdn.example; not followed")):
        check_output_status(302, {"location": "https://cdn.example/v.mp4?sig=secret"})


def test_other_output_errors_and_success() -> None:
    with pytest.raises(RunwayAPIError, match="output download failed"):
        check_output_status(500, {})
    check_output_status(200, {})


# --------------------------------------------------------------------------- paths and bodies


def test_task_path_quotes_the_id_and_refuses_blank() -> None:
    assert task_path(" a/b ") == "tasks/a%2Fb"
    for bad in ("", "  ", None):
        with pytest.raises(ValueError, match="runway_task_id"):
            task_path(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("endpoint", ["image_to_video", "text_to_image", "video_upscale", "sound_effect"])
def test_endpoint_name_accepts_task_endpoints(endpoint: str) -> None:
    assert endpoint_name(endpoint) == endpoint


@pytest.mark.parametrize("endpoint", ["", "../tasks", "image_to_video/", "Image_To_Video", "a b", "tasks?x=1", 3])
def test_endpoint_name_refuses_anything_but_one_segment(endpoint: Any) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        endpoint_name(endpoint)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-11-06", True), ("2024-02-29", True), ("2023-02-29", False), ("2024-13-01", False), ("20241106", False)],
)
def test_is_iso_date(text: str, expected: bool) -> None:
    assert is_iso_date(text) is expected


def test_usage_body_uses_the_sdk_wire_names_and_omits_defaults() -> None:
    assert usage_body(None, None) == {}
    assert usage_body("2026-01-01", "2026-02-01") == {"startDate": "2026-01-01", "beforeDate": "2026-02-01"}
    assert usage_body(None, "2026-02-01") == {"beforeDate": "2026-02-01"}


@pytest.mark.parametrize(
    ("start", "before", "label"), [("yesterday", None, "startDate"), (None, "2026-2-1", "beforeDate")]
)
def test_usage_body_refuses_bad_dates_naming_the_field(start: str | None, before: str | None, label: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"^{label}: must be a date as YYYY-MM-DD"):
        usage_body(start, before)


def test_upload_body_is_an_ephemeral_upload_of_a_plain_file_name() -> None:
    assert upload_body("frame.png") == {"filename": "frame.png", "type": "ephemeral"}
    for bad in ("", "dir/frame.png", "  "):
        with pytest.raises(InvalidRequestError, match="filename"):
            upload_body(bad)


def test_parse_upload_slot() -> None:
    payload = {
        "uploadUrl": "https://storage.example/up",
        "fields": {"key": "k", "policy": 1},
        "runwayUri": "runway://u",
    }
    assert parse_upload_slot(payload) == UploadSlot(
        "https://storage.example/up", {"key": "k", "policy": "1"}, "runway://u"
    )


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"uploadUrl": "https://s/up", "fields": {}},
        {"uploadUrl": "ftp://s/up", "fields": {}, "runwayUri": "runway://u"},
        {"uploadUrl": "https://s/up", "fields": [], "runwayUri": "runway://u"},
        {"uploadUrl": "https://s/up", "fields": {}, "runwayUri": "https://not-a-runway-uri"},
    ],
)
def test_parse_upload_slot_refuses_incomplete_answers(payload: Any) -> None:
    with pytest.raises(MalformedResponseError, match="uploadUrl/fields/runwayUri"):
        parse_upload_slot(payload)
