"""Downloads and uploads: signed storage URLs get the file, never the API key."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.runway.errors import OutputUnavailableError, RunwayError
from airflow_provider_runway.runway.retry_policy import RetryPolicy

if TYPE_CHECKING:
    from pathlib import Path

    from runway_emulator.pytest_plugin import RunwayTestConnection

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
FAST = RetryPolicy(max_retries=2, initial_delay=0.05, max_delay=0.1, jitter=0.1)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runway_connection("runway"),
    pytest.mark.runway_emulator(generation_seconds=0.2, pending_seconds=0, not_visible_seconds=0),
]


@pytest.fixture
def succeeded(runway_connection: RunwayTestConnection) -> str:
    """A SUCCEEDED task's id (Runway flavor)."""
    pytest.importorskip("imageio_ffmpeg")
    hook = RunwayHook(retry_policy=FAST)
    task_id = hook.create_task("image_to_video", {"promptImage": CAT, "model": "gen4_turbo", "ratio": "1280:720"})
    deadline = time.monotonic() + 10
    while hook.get_task(task_id).status != "SUCCEEDED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return task_id


@pytest.fixture
def expired_url(runway_connection: RunwayTestConnection, succeeded: str) -> str:
    """The task's output URL, signed to expire within a second, after it expired."""
    runway_connection.emulator.configure(output_ttl_seconds=1)
    [url] = RunwayHook(retry_policy=FAST).get_task(succeeded).output
    runway_connection.emulator.advance(2.1)  # the signature's expiry is a whole second
    runway_connection.emulator.configure(output_ttl_seconds=600)  # fresh URLs live long enough to be used
    return url


def downloads(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith(".mp4")]


def assert_no_key_sent(requests: list[dict[str, Any]]) -> None:
    assert requests
    for request in requests:
        assert "authorization" not in {k.lower() for k in request["headers"]}


def test_download_writes_the_video_without_sending_the_key(
    runway_connection: RunwayTestConnection, succeeded: str, tmp_path: Path
) -> None:
    hook = RunwayHook(retry_policy=FAST)
    [url] = hook.get_task(succeeded).output
    size = hook.download_output(url, str(tmp_path / "v.mp4"))
    data = (tmp_path / "v.mp4").read_bytes()
    assert size == len(data) > 1000
    assert data[4:8] == b"ftyp"
    assert_no_key_sent(downloads(runway_connection.emulator))


def test_download_streams_to_an_object_storage_url(succeeded: str, tmp_path: Path) -> None:
    hook = RunwayHook(retry_policy=FAST)
    [url] = hook.get_task(succeeded).output
    target = tmp_path / "nested" / "v.mp4"
    size = hook.download_output(url, f"file://{target}")
    assert size == target.stat().st_size > 1000


def test_an_expired_url_is_renewed_from_the_task_once(
    runway_connection: RunwayTestConnection,
    succeeded: str,
    expired_url: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    emulator = runway_connection.emulator
    emulator.clear_requests()
    size = RunwayHook(retry_policy=FAST).download_output(expired_url, str(tmp_path / "v.mp4"), runway_task_id=succeeded)
    assert size == (tmp_path / "v.mp4").stat().st_size > 1000
    assert [r["status"] for r in downloads(emulator)] == [403, 200]
    assert_no_key_sent(downloads(emulator))
    assert len([r for r in emulator.requests() if r["path"] == f"/v1/tasks/{succeeded}"]) == 1
    assert f"Output URL of Runway task {succeeded} answered 403; fetching a fresh one" in "".join(capfd.readouterr())


def test_an_expired_url_without_a_task_id_fails_clearly(expired_url: str, tmp_path: Path) -> None:
    with pytest.raises(OutputUnavailableError, match="expired") as caught:
        RunwayHook(retry_policy=FAST).download_output(expired_url, str(tmp_path / "v.mp4"))
    assert caught.value.status_code == 403
    assert not (tmp_path / "v.mp4").exists()


def test_a_missing_output_index_is_named(succeeded: str, expired_url: str, tmp_path: Path) -> None:
    hook = RunwayHook(retry_policy=FAST)
    with pytest.raises(RunwayError, match=rf"Runway task {succeeded} has no output #3 \(1 outputs\)"):
        hook.download_output(expired_url, str(tmp_path / "v.mp4"), runway_task_id=succeeded, output_index=3)


def test_upload_ephemeral_returns_a_runway_uri_and_sends_the_file_without_the_key(
    runway_connection: RunwayTestConnection,
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600  # Runway takes files of 512 bytes or more
    uri = RunwayHook(retry_policy=FAST).upload_ephemeral("frame.png", png, "image/png")
    assert uri.startswith("runway://")
    requests = runway_connection.emulator.requests()
    [create] = [r for r in requests if r["method"] == "POST" and r["path"] == "/v1/uploads"]
    assert create["body"] == {"filename": "frame.png", "type": "ephemeral"}
    storage = [r for r in requests if r["method"] == "POST" and r is not create]
    assert_no_key_sent(storage)
