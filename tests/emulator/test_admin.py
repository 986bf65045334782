"""Driving tasks on demand over the admin API: complete, fail, advance the clock, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from runway_emulator import EmulatorAdminError, EmulatorHandle

from airflow_provider_runway.runway.remote_task import parse_task
from tests.emulator.support import COMET, RUNWAY, comet_body, headers, runway_body

if TYPE_CHECKING:
    import requests

pytestmark = pytest.mark.integration


def create(http: requests.Session, emu: EmulatorHandle, prefix: str = RUNWAY) -> str:
    body = runway_body() if prefix == RUNWAY else comet_body()
    resp = http.post(emu.url(f"{prefix}/image_to_video"), json=body, headers=headers())
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def poll(http: requests.Session, emu: EmulatorHandle, task_id: str, prefix: str = RUNWAY) -> dict[str, Any]:
    resp = http.get(emu.url(f"{prefix}/tasks/{task_id}"), headers=headers())
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.mark.runway_emulator(generation_seconds=600)
def test_complete_makes_the_task_succeed_now(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(http, runway_emulator)
    result = runway_emulator.complete(task_id)
    assert result == {"task_id": task_id, "status_before": "PENDING", "status": "SUCCEEDED"}
    task = poll(http, runway_emulator, task_id)
    assert task["status"] == "SUCCEEDED" and task["output"][0].startswith(runway_emulator.base_url)
    assert http.head(task["output"][0]).status_code in (200, 503)  # 503 only without the video extra
    with pytest.raises(EmulatorAdminError) as caught:
        runway_emulator.complete(task_id)
    assert caught.value.status == 409
    [action] = runway_emulator.stats()["admin_actions"]
    assert (action["action"], action["task_id"]) == ("complete", task_id)


@pytest.mark.runway_emulator(generation_seconds=600, not_visible_seconds=0)
def test_fail_with_any_failure_code(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_id, comet_id = create(http, runway_emulator), create(http, runway_emulator, COMET)
    runway_emulator.fail(runway_id, code="INTERNAL.BAD_OUTPUT.CODE01", message="Output rejected.")
    runway_emulator.fail(comet_id, "INPUT_PREPROCESSING.SAFETY.TEXT")
    task = poll(http, runway_emulator, runway_id)
    assert (task["status"], task["failureCode"], task["failure"]) == (
        "FAILED",
        "INTERNAL.BAD_OUTPUT.CODE01",
        "Output rejected.",
    )
    envelope = poll(http, runway_emulator, comet_id, COMET)["data"]
    assert envelope["status"] == "FAILURE" and envelope["fail_reason"]
    assert envelope["data"]["failureCode"] == "INPUT_PREPROCESSING.SAFETY.TEXT"
    assert runway_emulator.stats()["tasks"][comet_id]["failure_code"] == "INPUT_PREPROCESSING.SAFETY.TEXT"


@pytest.mark.parametrize(("detail", "inner"), [("no_code", True), ("reason_only", False)])
def test_cometapi_failure_without_code_as_seen_in_the_wild(
    runway_emulator: EmulatorHandle, http: requests.Session, detail: str, inner: bool
) -> None:
    runway_emulator.configure(comet_failure_detail=detail, not_visible_seconds=0, generation_seconds=600)
    task_id = create(http, runway_emulator, COMET)
    runway_emulator.fail(task_id, "SAFETY.INPUT.IMAGE", "The image was flagged by content moderation.")
    envelope = poll(http, runway_emulator, task_id, COMET)
    assert "failureCode" not in str(envelope)
    assert ("data" in envelope["data"]) is inner
    parsed = parse_task(envelope)  # what the provider reads from it
    assert (parsed.status, parsed.failure_code) == ("FAILED", None)
    assert envelope["data"]["fail_reason"] == "The image was flagged by content moderation."


@pytest.mark.parametrize(
    ("body", "message"),
    [({}, "code is required"), ({"code": " X"}, "code is required"), ({"code": "X", "why": 1}, "unknown key")],
)
def test_fail_validates_its_body(
    runway_emulator: EmulatorHandle, http: requests.Session, body: Any, message: str
) -> None:
    task_id = create(http, runway_emulator)
    resp = http.post(runway_emulator.url(f"/_emulator/tasks/{task_id}/fail"), json=body)
    assert resp.status_code == 400 and message in resp.json()["error"]
    assert runway_emulator.stats()["tasks"][task_id]["status"] != "FAILED"


def test_unknown_task_is_404(runway_emulator: EmulatorHandle) -> None:
    for command in (runway_emulator.complete, runway_emulator.cancel):
        with pytest.raises(EmulatorAdminError) as caught:
            command("no-such-task")
        assert caught.value.status == 404


@pytest.mark.runway_emulator(generation_seconds=30, pending_seconds=1)
def test_advance_the_clock_instead_of_sleeping(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(http, runway_emulator)
    assert poll(http, runway_emulator, task_id)["status"] == "PENDING"
    clock = runway_emulator.advance(10)
    assert clock["offset"] == 10
    assert poll(http, runway_emulator, task_id)["status"] == "RUNNING"
    runway_emulator.advance(25)
    assert poll(http, runway_emulator, task_id)["status"] == "SUCCEEDED"
    with pytest.raises(EmulatorAdminError, match="forward"):
        runway_emulator.advance(-5)
    runway_emulator.reset()
    assert runway_emulator.clock()["offset"] == 0


@pytest.mark.runway_emulator(output_ttl_seconds=3600)
def test_advancing_past_the_ttl_expires_output_urls(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(http, runway_emulator)
    runway_emulator.complete(task_id)
    url = poll(http, runway_emulator, task_id)["output"][0]
    runway_emulator.advance(3601)
    resp = http.get(url)
    assert resp.status_code == 403 and b"Request has expired" in resp.content


def test_admin_unknown_path_and_method(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    missing = http.get(runway_emulator.url("/_emulator/nothing"))
    assert missing.status_code == 404 and "unknown admin endpoint" in missing.json()["error"]
    wrong = http.get(runway_emulator.url("/_emulator/clock/advance"))
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
    assert runway_emulator.requests() == []  # admin calls are never logged
