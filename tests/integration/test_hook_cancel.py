"""The hook's one cancel, sync and async, against the emulator: a finished task is never deleted.

Runway's DELETE cancels a task that is still going but deletes any other task with its output;
the emulator models that (a deleted task answers 404 and its output is gone), and counts every
DELETE in ``stats()["cancels"]``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.runway.errors import RunwayAPIError
from airflow_provider_runway.runway.retry_policy import RetryPolicy

if TYPE_CHECKING:
    from runway_emulator.pytest_plugin import RunwayTestConnection

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
FAST = RetryPolicy(max_retries=2, initial_delay=0.05, max_delay=0.1, jitter=0.1)
GEN3 = {"promptImage": CAT, "model": "gen3a_turbo"}
GEN4 = {"promptImage": CAT, "model": "gen4_turbo", "ratio": "1280:720"}

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("mode", ["sync", "async"])]
both_flavors = pytest.mark.parametrize("runway_connection", ["cometapi", "runway"], indirect=True)


def cancel(mode: str, task_id: str) -> bool:
    hook = RunwayHook(retry_policy=FAST)
    if mode == "sync":
        return hook.cancel_task(task_id)

    async def run() -> bool:
        try:
            return await hook.acancel_task(task_id)
        finally:
            await hook.aclose()

    return asyncio.run(run())


def create(conn: RunwayTestConnection, **extra: Any) -> str:
    body = GEN4 if conn.flavor == "runway" else GEN3
    return RunwayHook(retry_policy=FAST).create_task("image_to_video", {**body, **extra})


def wait_until(conn: RunwayTestConnection, task_id: str, status: str) -> None:
    deadline = time.monotonic() + 10
    while conn.emulator.stats()["tasks"][task_id]["status"] != status:
        assert time.monotonic() < deadline, f"task never reached {status}"
        time.sleep(0.05)


def deletes(conn: RunwayTestConnection, task_id: str) -> int:
    return len([r for r in conn.emulator.requests() if r["method"] == "DELETE" and task_id in r["path"]])


def log_of(capfd: pytest.CaptureFixture[str]) -> str:
    return "".join(capfd.readouterr())


@both_flavors
@pytest.mark.runway_emulator(generation_seconds=60, not_visible_seconds=0)
def test_a_running_task_is_cancelled(runway_connection: RunwayTestConnection, mode: str) -> None:
    task_id = create(runway_connection)
    wait_until(runway_connection, task_id, "RUNNING")
    assert cancel(mode, task_id) is True
    stats = runway_connection.emulator.stats()
    assert stats["tasks"][task_id]["status"] == "CANCELLED"
    assert stats["cancels"]["count"] == 1


@both_flavors
@pytest.mark.runway_emulator(generation_seconds=0.2, pending_seconds=0, not_visible_seconds=0)
def test_a_succeeded_task_is_kept_and_its_video_stays_downloadable(
    runway_connection: RunwayTestConnection, mode: str, tmp_path: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    task_id = create(runway_connection)
    wait_until(runway_connection, task_id, "SUCCEEDED")
    assert cancel(mode, task_id) is False
    assert f"Runway task {task_id} is already SUCCEEDED; not cancelling (a DELETE would delete its output)" in log_of(
        capfd
    )
    stats = runway_connection.emulator.stats()
    assert stats["cancels"]["count"] == 0
    assert stats["tasks"][task_id]["deleted"] is False
    hook = RunwayHook(retry_policy=FAST)
    [url] = hook.get_task(task_id).output
    assert hook.download_output(url, str(tmp_path / "kept.mp4")) > 1000
    assert deletes(runway_connection, task_id) == 0


@pytest.mark.runway_connection("runway")
@pytest.mark.runway_emulator(pending_seconds=0.1)
def test_a_failed_task_is_kept(runway_connection: RunwayTestConnection, mode: str) -> None:
    task_id = create(runway_connection, promptText="something forbidden")
    wait_until(runway_connection, task_id, "FAILED")
    assert cancel(mode, task_id) is False
    assert deletes(runway_connection, task_id) == 0
    assert RunwayHook(retry_policy=FAST).get_task(task_id).status == "FAILED"  # still there


@pytest.mark.runway_emulator(not_visible_seconds=30, generation_seconds=60)
def test_a_task_not_visible_yet_may_be_running_so_a_cancel_is_sent(
    runway_connection: RunwayTestConnection, mode: str
) -> None:
    task_id = create(runway_connection)
    # CometAPI answers the DELETE of a task it does not list yet with task_not_exist too.
    assert cancel(mode, task_id) is False
    assert deletes(runway_connection, task_id) == 1


@pytest.mark.runway_connection("runway")
def test_an_unknown_task_needs_no_cancel(runway_connection: RunwayTestConnection, mode: str) -> None:
    # (Through CometAPI an unknown id reads like a task not visible yet: see the test above.)
    assert cancel(mode, "00000000-0000-0000-0000-000000000000") is False
    assert [r for r in runway_connection.emulator.requests() if r["method"] == "DELETE"] == []


@pytest.mark.runway_connection("runway")
@pytest.mark.runway_emulator(generation_seconds=60)
def test_a_task_whose_state_cannot_be_read_is_left_alone(runway_connection: RunwayTestConnection, mode: str) -> None:
    task_id = create(runway_connection)
    runway_connection.emulator.set_faults(server_error={"count": 10, "status": 503, "route": "poll"})
    with pytest.raises(RunwayAPIError) as caught:
        cancel(mode, task_id)
    assert caught.value.status_code == 503
    assert deletes(runway_connection, task_id) == 0
