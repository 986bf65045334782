"""Unit tests for task parsing: bare Runway tasks, CometAPI envelopes, create answers, error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_runway.runway.errors import MalformedResponseError
from airflow_provider_runway.runway.remote_task import (
    CANCELLED,
    FAILED,
    KNOWN_STATUSES,
    PENDING,
    RUNNING,
    SUCCEEDED,
    TERMINAL_STATUSES,
    THROTTLED,
    RunwayTask,
    decode_json,
    error_message,
    is_envelope,
    is_task_not_exist,
    parse_created,
    parse_task,
)

TASK_ID = "17f20503-6c24-4c16-946b-35dbbce2af2f"
VIDEO = "https://dnznrvs05pmza.cloudfront.net/video.mp4?_jwt=abc"


def envelope(outer: dict[str, Any], inner: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": TASK_ID,
        "action": "IMAGE_TO_VIDEO",
        "fail_reason": "",
        "submit_time": 1773366766,
        "start_time": 0,
        "finish_time": 0,
        **outer,
    }
    if inner is not None:
        data["data"] = inner
    return {"code": "success", "message": "", "data": data}


# --------------------------------------------------------------------------- status vocabulary


def test_status_sets() -> None:
    assert {PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED} == KNOWN_STATUSES
    assert {SUCCEEDED, FAILED, CANCELLED} == TERMINAL_STATUSES


@pytest.mark.parametrize(
    ("status", "known", "terminal"),
    [
        ("PENDING", True, False),
        ("THROTTLED", True, False),
        ("RUNNING", True, False),
        ("SUCCEEDED", True, True),
        ("FAILED", True, True),
        ("CANCELLED", True, True),
        ("UNKNOWN", False, False),
        ("ARCHIVED", False, False),
    ],
)
def test_task_known_and_terminal(status: str, known: bool, terminal: bool) -> None:
    task = parse_task({"id": TASK_ID, "status": status})
    assert task.is_known is known
    assert task.is_terminal is terminal


# --------------------------------------------------------------------------- bare tasks


def test_parse_bare_succeeded_task() -> None:
    task = parse_task(
        {
            "id": TASK_ID,
            "status": "SUCCEEDED",
            "createdAt": "2024-06-27T19:49:32.334Z",
            "output": [VIDEO],
        }
    )
    assert task == RunwayTask(id=TASK_ID, status=SUCCEEDED, output=(VIDEO,), created_at="2024-06-27T19:49:32.334Z")
    assert task.raw_status == "SUCCEEDED"


def test_parse_bare_failed_task_keeps_failure_and_code() -> None:
    task = parse_task(
        {"id": TASK_ID, "status": "FAILED", "failure": "Content refused", "failureCode": "SAFETY.INPUT.IMAGE"}
    )
    assert task.status == FAILED
    assert task.failure == "Content refused"
    assert task.failure_code == "SAFETY.INPUT.IMAGE"


def test_parse_bare_empty_failure_fields_become_none() -> None:
    task = parse_task({"id": TASK_ID, "status": "FAILED", "failure": "", "failureCode": ""})
    assert task.failure is None
    assert task.failure_code is None


def test_parse_bare_uppercases_status_and_keeps_raw() -> None:
    task = parse_task({"id": TASK_ID, "status": "running", "progress": 0.25})
    assert task.status == RUNNING
    assert task.raw_status == "running"


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (0.42, 0.42),
        (0, 0.0),
        (1, 1.0),
        (1.5, 1.0),
        (-0.1, 0.0),
        ("0.5", 0.5),
        ("42%", 0.42),
        (" 7% ", 0.07),
        ("100%", 1.0),
        ("250%", 1.0),
        ("-5%", 0.0),
        (None, None),
        ("", None),
        ("abc", None),
        ("%", None),
        (True, None),
        ([0.5], None),
    ],
)
def test_progress_normalisation(progress: Any, expected: float | None) -> None:
    task = parse_task({"id": TASK_ID, "status": "RUNNING", "progress": progress})
    if expected is None:
        assert task.progress is None
    else:
        assert task.progress == pytest.approx(expected)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ([VIDEO], (VIDEO,)),
        ([VIDEO, "https://x/2.mp4"], (VIDEO, "https://x/2.mp4")),
        (VIDEO, (VIDEO,)),
        ([VIDEO, "", None, 5, {"url": "x"}], (VIDEO,)),
        ([], ()),
        ("", ()),
        (None, ()),
        ({"url": VIDEO}, ()),
    ],
)
def test_output_normalisation(output: Any, expected: tuple[str, ...]) -> None:
    assert parse_task({"id": TASK_ID, "status": "SUCCEEDED", "output": output}).output == expected


def test_task_id_falls_back_to_the_one_polled() -> None:
    assert parse_task({"status": "PENDING"}, task_id="polled").id == "polled"


def test_task_id_in_the_body_wins_over_the_one_polled() -> None:
    assert parse_task({"id": "from-body", "status": "PENDING"}, task_id="polled").id == "from-body"


def test_numeric_task_id_becomes_a_string() -> None:
    assert parse_task({"id": 12345, "status": "PENDING"}).id == "12345"


@pytest.mark.parametrize(
    "payload",
    [
        {"id": TASK_ID},
        {"status": "PENDING"},
        {"id": "", "status": "PENDING"},
        {"id": TASK_ID, "status": None},
        {"id": TASK_ID, "status": 3},
        {"id": TASK_ID, "status": ["PENDING"]},
        {},
    ],
)
def test_bare_task_without_id_or_status_is_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match="lacks id or status"):
        parse_task(payload)


@pytest.mark.parametrize("payload", [None, [], [{"id": TASK_ID, "status": "PENDING"}], "PENDING", 42, b"{}"])
def test_non_object_payload_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedResponseError, match="expected a JSON object"):
        parse_task(payload)


# --------------------------------------------------------------------------- CometAPI envelopes


def test_doc_example_envelope_inner_task_wins() -> None:
    payload = {
        "code": "success",
        "message": "",
        "data": {
            "task_id": TASK_ID,
            "action": "IMAGE_TO_VIDEO",
            "status": "QUEUED",
            "fail_reason": "",
            "submit_time": 1773366766,
            "start_time": 0,
            "finish_time": 0,
            "progress": "0%",
            "data": {"id": TASK_ID, "status": "PENDING", "createdAt": "2026-03-13T01:52:46Z"},
        },
    }
    task = parse_task(payload)
    assert task.id == TASK_ID
    assert task.status == PENDING
    assert task.raw_status == "PENDING"
    assert task.created_at == "2026-03-13T01:52:46Z"
    assert task.progress == 0.0  # the inner task has none: the outer percent string fills it


def test_inner_status_and_progress_win_over_outer_ones() -> None:
    payload = envelope(
        {"status": "SUCCESS", "progress": "90%"},
        {"id": TASK_ID, "status": "RUNNING", "progress": 0.3},
    )
    task = parse_task(payload)
    assert task.status == RUNNING
    assert task.progress == pytest.approx(0.3)


def test_inner_task_without_id_takes_the_outer_task_id() -> None:
    task = parse_task(envelope({"status": "IN_PROGRESS"}, {"status": "RUNNING"}))
    assert task.id == TASK_ID
    assert task.status == RUNNING


def test_inner_task_without_id_and_outer_without_task_id_uses_the_polled_id() -> None:
    payload = {"code": "success", "data": {"status": "IN_PROGRESS", "data": {"status": "RUNNING"}}}
    assert parse_task(payload, task_id="polled").id == "polled"


def test_inner_task_without_any_id_is_malformed() -> None:
    payload = {"code": "success", "data": {"status": "IN_PROGRESS", "data": {"status": "RUNNING"}}}
    with pytest.raises(MalformedResponseError):
        parse_task(payload)


def test_result_url_fills_inner_output_when_missing() -> None:
    task = parse_task(envelope({"status": "SUCCESS", "result_url": VIDEO}, {"id": TASK_ID, "status": "SUCCEEDED"}))
    assert task.status == SUCCEEDED
    assert task.output == (VIDEO,)


def test_inner_output_wins_over_result_url() -> None:
    payload = envelope(
        {"status": "SUCCESS", "result_url": "https://other/x.mp4"},
        {"id": TASK_ID, "status": "SUCCEEDED", "output": [VIDEO]},
    )
    assert parse_task(payload).output == (VIDEO,)


def test_inner_task_failure_fields_are_read() -> None:
    payload = envelope(
        {"status": "FAILURE", "fail_reason": "outer reason"},
        {"id": TASK_ID, "status": "FAILED", "failure": "inner reason", "failureCode": "INTERNAL.X"},
    )
    task = parse_task(payload)
    assert task.status == FAILED
    assert task.failure == "inner reason"
    assert task.failure_code == "INTERNAL.X"


@pytest.mark.parametrize("inner", [{}, {"id": TASK_ID}, {"id": TASK_ID, "status": ""}, None, "PENDING", []])
def test_inner_without_status_falls_back_to_the_outer_status(inner: Any) -> None:
    payload = envelope({"status": "IN_PROGRESS", "progress": "45%"})
    payload["data"]["data"] = inner
    task = parse_task(payload)
    assert task.status == RUNNING
    assert task.raw_status == "IN_PROGRESS"
    assert task.progress == pytest.approx(0.45)
    assert task.id == TASK_ID


@pytest.mark.parametrize(
    ("outer", "expected"),
    [
        ("NOT_START", PENDING),
        ("SUBMITTED", PENDING),
        ("QUEUED", PENDING),
        ("IN_PROGRESS", RUNNING),
        ("SUCCESS", SUCCEEDED),
        ("FAILURE", FAILED),
        ("UNKNOWN", "UNKNOWN"),
        ("success", SUCCEEDED),
        ("in_progress", RUNNING),
    ],
)
def test_outer_status_mapping_when_inner_task_is_absent(outer: str, expected: str) -> None:
    task = parse_task(envelope({"status": outer}))
    assert task.status == expected
    assert task.raw_status == outer
    assert task.id == TASK_ID


def test_outer_unknown_status_is_not_a_known_or_terminal_status() -> None:
    task = parse_task(envelope({"status": "UNKNOWN"}))
    assert not task.is_known
    assert not task.is_terminal


def test_outer_runway_status_passes_through() -> None:
    # A proxy that already speaks Runway's vocabulary in the outer status.
    assert parse_task(envelope({"status": "THROTTLED"})).status == THROTTLED


@pytest.mark.parametrize(("progress", "expected"), [("0%", 0.0), ("45%", 0.45), ("100%", 1.0), ("", None)])
def test_outer_percent_progress(progress: str, expected: float | None) -> None:
    task = parse_task(envelope({"status": "IN_PROGRESS", "progress": progress}))
    assert task.progress == (pytest.approx(expected) if expected is not None else None)


def test_outer_success_carries_result_url_as_output() -> None:
    task = parse_task(envelope({"status": "SUCCESS", "progress": "100%", "result_url": VIDEO}))
    assert task.status == SUCCEEDED
    assert task.is_terminal
    assert task.output == (VIDEO,)
    assert task.progress == 1.0


def test_outer_failure_carries_fail_reason() -> None:
    task = parse_task(envelope({"status": "FAILURE", "fail_reason": "upstream refused the image"}))
    assert task.status == FAILED
    assert task.failure == "upstream refused the image"
    assert task.failure_code is None
    assert task.describe() == "FAILED (no code: upstream refused the image)"


def test_inner_object_without_status_still_gives_its_failure_code() -> None:
    # CometAPI may wrap a failed task whose inner object is partial: the code still classifies it.
    payload = envelope(
        {"status": "FAILURE", "fail_reason": ""}, {"failureCode": "INTERNAL.BAD_OUTPUT.CODE01", "failure": "bad"}
    )
    task = parse_task(payload)
    assert task.status == FAILED
    assert task.failure_code == "INTERNAL.BAD_OUTPUT.CODE01"
    assert task.failure == "bad"


def test_outer_fail_reason_wins_over_a_partial_inner_failure_text() -> None:
    payload = envelope({"status": "FAILURE", "fail_reason": "outer"}, {"failure": "inner"})
    assert parse_task(payload).failure == "outer"


def test_outer_empty_fail_reason_is_none() -> None:
    assert parse_task(envelope({"status": "FAILURE"})).failure is None


def test_outer_without_task_id_uses_the_polled_id() -> None:
    payload = {"code": "success", "data": {"status": "QUEUED"}}
    assert parse_task(payload, task_id="polled").id == "polled"


@pytest.mark.parametrize(
    "payload",
    [
        {"code": "success", "data": {"task_id": TASK_ID}},
        {"code": "success", "data": {"task_id": TASK_ID, "status": None}},
        {"code": "success", "data": {"task_id": TASK_ID, "status": 1}},
        {"code": "success", "data": {"status": "QUEUED"}},
        {"code": "success", "data": {"task_id": "", "status": "QUEUED"}},
        {"code": "task_not_exist", "message": "task_not_exist", "data": {}},
    ],
)
def test_malformed_envelopes(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match="envelope lacks task_id or status"):
        parse_task(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"code": "success", "data": None},
        {"code": "success", "data": "oops"},
        {"code": "success", "message": "ok"},
    ],
)
def test_code_without_a_data_object_is_read_as_a_bare_task_and_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        parse_task(payload)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"code": "success", "data": {}}, True),
        ({"code": "success", "data": {"task_id": "x"}}, True),
        ({"data": {"task_id": "x"}}, False),
        ({"code": "success", "data": []}, False),
        ({"id": "x", "status": "PENDING"}, False),
        ([], False),
        (None, False),
    ],
)
def test_is_envelope(payload: Any, expected: bool) -> None:
    assert is_envelope(payload) is expected


# --------------------------------------------------------------------------- RunwayTask helpers


def test_to_dict_uses_runway_field_names_and_plain_json() -> None:
    task = RunwayTask(
        id=TASK_ID,
        status=FAILED,
        progress=0.5,
        output=(VIDEO,),
        failure="nope",
        failure_code="INTERNAL.X",
        created_at="2024-01-01T00:00:00Z",
        raw_status="failure",
    )
    assert task.to_dict() == {
        "id": TASK_ID,
        "status": FAILED,
        "progress": 0.5,
        "output": [VIDEO],
        "failure": "nope",
        "failureCode": "INTERNAL.X",
        "createdAt": "2024-01-01T00:00:00Z",
    }
    assert json.loads(json.dumps(task.to_dict())) == task.to_dict()


@pytest.mark.parametrize(
    "task",
    [
        RunwayTask(id=TASK_ID, status=PENDING),
        RunwayTask(id=TASK_ID, status=RUNNING, progress=0.25),
        RunwayTask(id=TASK_ID, status=SUCCEEDED, progress=1.0, output=(VIDEO, "https://x/2.mp4"), created_at="t"),
        RunwayTask(id=TASK_ID, status=FAILED, failure="bad", failure_code="SAFETY.INPUT.TEXT"),
    ],
)
def test_from_dict_round_trips_to_dict(task: RunwayTask) -> None:
    assert RunwayTask.from_dict(task.to_dict()) == task


def test_equality_ignores_raw_status() -> None:
    assert RunwayTask(id="t", status=PENDING, raw_status="QUEUED") == RunwayTask(id="t", status=PENDING)


@pytest.mark.parametrize(
    ("task", "text"),
    [
        (RunwayTask(id="t", status=PENDING), "PENDING"),
        (RunwayTask(id="t", status=RUNNING), "RUNNING"),
        (RunwayTask(id="t", status=RUNNING, progress=0.5), "RUNNING 50%"),
        (RunwayTask(id="t", status=RUNNING, progress=0.0), "RUNNING 0%"),
        (RunwayTask(id="t", status=SUCCEEDED, progress=1.0), "SUCCEEDED"),
        (
            RunwayTask(id="t", status=FAILED, failure="bad input", failure_code="SAFETY.INPUT.IMAGE"),
            "FAILED (SAFETY.INPUT.IMAGE: bad input)",
        ),
        (RunwayTask(id="t", status=FAILED, failure_code="INTERNAL.X"), "FAILED (INTERNAL.X: no reason given)"),
    ],
)
def test_describe(task: RunwayTask, text: str) -> None:
    assert task.describe() == text


# --------------------------------------------------------------------------- parse_created


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"id": TASK_ID}, TASK_ID),
        ({"code": "success", "data": {"task_id": "t-1"}}, "t-1"),
        ({"code": "success", "data": {"id": "i-1"}}, "i-1"),
        ({"code": "success", "data": {"id": "i-1", "task_id": "t-1"}}, "i-1"),
        ({"id": "", "data": {"task_id": "t-2"}}, "t-2"),
        ({"id": None, "data": {"id": "", "task_id": "t-3"}}, "t-3"),
    ],
)
def test_parse_created(payload: Any, expected: str) -> None:
    assert parse_created(payload).id == expected


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"id": ""},
        {"id": 5},
        {"id": None},
        {"data": {"task_id": ""}},
        {"data": {"task_id": 7}},
        {"data": "t-1"},
        {"error": "Daily limit reached"},
        [],
        ["t-1"],
        "t-1",
        None,
    ],
)
def test_parse_created_without_an_id_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedResponseError, match="create answer has no task id"):
        parse_created(payload)


# --------------------------------------------------------------------------- decode_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"id": "abc"}', {"id": "abc"}), ("  [1, 2]\n", [1, 2]), ('"x"', "x"), ("null", None)],
)
def test_decode_json_parses_json(text: str, expected: Any) -> None:
    assert decode_json(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_decode_json_empty_body_is_malformed(text: str) -> None:
    with pytest.raises(MalformedResponseError, match="empty response body"):
        decode_json(text)


@pytest.mark.parametrize(
    "text",
    [
        "<html><head><title>301 Moved</title></head><body>moved</body></html>",
        '{"id": "abc"',
        '{"id": "abc", "status": "PEND',
        "OK",
        "{'id': 'abc'}",
    ],
)
def test_decode_json_html_or_truncated_body_is_malformed(text: str) -> None:
    with pytest.raises(MalformedResponseError, match="response is not JSON") as info:
        decode_json(text)
    assert text[:20] in str(info.value)


def test_decode_json_excerpt_is_bounded_and_single_line() -> None:
    text = "<html>\n" + "x" * 5000 + "\n</html>"
    with pytest.raises(MalformedResponseError) as info:
        decode_json(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith("...")
    assert len(message) < 300


# --------------------------------------------------------------------------- error_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"error": "promptImage: invalid URL"}', "promptImage: invalid URL"),
        (
            '{"error": {"message": "ratio is invalid", "type": "invalid_request_error", '
            '"param": "ratio", "code": "bad"}}',
            "ratio is invalid (param: ratio)",
        ),
        ('{"error": {"message": "quota exceeded", "param": null}}', "quota exceeded"),
        ('{"error": {"message": "", "code": "rate_limited"}}', "rate_limited"),
        ('{"code": "task_not_exist", "message": "task_not_exist"}', "task_not_exist"),
        ('{"message": "Invalid token"}', "Invalid token"),
        ('{"message": "", "code": "bad_gateway"}', "bad_gateway"),
        ('{"detail": "Not Found"}', "Not Found"),
        ('{"error": "", "message": "fallback"}', "fallback"),
        ('{"error": {}, "detail": "fallback"}', "fallback"),
        ("<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>"),
        ('{"foo": 1}', '{"foo": 1}'),
        ("[1, 2]", "[1, 2]"),
        ("line one\n\n   line two", "line one line two"),
        ("", "no error message in the response"),
        ("  \n ", "no error message in the response"),
    ],
)
def test_error_message(text: str, expected: str) -> None:
    assert error_message(text) == expected


def test_error_message_excerpt_is_bounded() -> None:
    message = error_message("y" * 1000)
    assert message == "y" * 200 + "..."


# --------------------------------------------------------------------------- is_task_not_exist


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (400, '{"code": "task_not_exist", "message": "task_not_exist"}', True),
        (404, '{"code": "task_not_exist"}', True),
        (400, '{"error": {"message": "task_not_exist"}}', True),
        (400, '{"error": "promptImage is invalid"}', False),
        (404, '{"error": "Not found"}', False),
        (200, '{"code": "task_not_exist"}', False),
        (500, '{"code": "task_not_exist"}', False),
        (401, "task_not_exist", False),
    ],
)
def test_is_task_not_exist(status: int, text: str, expected: bool) -> None:
    assert is_task_not_exist(status, text) is expected
