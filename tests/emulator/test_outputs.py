"""Output URLs: signed, expiring, and serving a real MP4 when the 'video' extra is installed."""

from __future__ import annotations

import base64
import importlib.util
import logging
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.runway.remote_task import parse_task
from tests.emulator.support import (
    COMET,
    RUNWAY,
    comet_body,
    first_frame_mean_rgb,
    frame_size,
    headers,
    make_png,
    media_info,
    runway_body,
)

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration
HAS_FFMPEG = importlib.util.find_spec("imageio_ffmpeg") is not None
needs_ffmpeg = pytest.mark.skipif(
    not HAS_FFMPEG, reason="imageio_ffmpeg is not installed (optional 'video' extra): no MP4 rendering"
)


def succeeded_output(http: requests.Session, emu: EmulatorHandle, **body: object) -> tuple[str, str]:
    resp = http.post(emu.url(f"{RUNWAY}/image_to_video"), json=runway_body(**body), headers=headers())
    task_id = str(resp.json()["id"])
    emu.complete(task_id)
    task = http.get(emu.url(f"{RUNWAY}/tasks/{task_id}"), headers=headers()).json()
    assert task["status"] == "SUCCEEDED", task
    return task_id, str(task["output"][0])


def test_expired_output_url_is_403(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(output_ttl_seconds=60)
    _task_id, url = succeeded_output(http, runway_emulator)
    assert http.head(url).status_code in (200, 503)  # 503 only without the video extra
    runway_emulator.advance(62)  # past exp on the emulator's clock
    resp = http.get(url)
    assert resp.status_code == 403
    assert b"Request has expired" in resp.content


def test_tampered_output_url_is_403(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    _task_id, url = succeeded_output(http, runway_emulator)
    exp = url.split("exp=")[1].split("&")[0]
    resp = http.get(url.replace(f"exp={exp}", f"exp={int(exp) + 3600}"))
    assert resp.status_code == 403 and b"Signature" in resp.content


def test_output_of_deleted_task_is_gone(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id, url = succeeded_output(http, runway_emulator)
    assert http.delete(runway_emulator.url(f"{RUNWAY}/tasks/{task_id}"), headers=headers()).status_code == 204
    assert http.get(url).status_code == 404


@needs_ffmpeg
def test_output_is_an_mp4(
    runway_emulator: EmulatorHandle, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway_emulator import rendering

    renders: list[str] = []
    render = rendering.render

    def counted(task: Any, index: int = 0) -> bytes:
        renders.append(task.id)
        return render(task, index)

    # The server runs in this process (thread mode) and looks render up at call time.
    monkeypatch.setattr(rendering, "render", counted)
    task_id, url = succeeded_output(http, runway_emulator)
    resp = http.get(url)  # no Authorization: signed URLs need no key
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.content[4:8] == b"ftyp"
    again = http.get(url)
    assert again.content == resp.content
    assert renders == [task_id]  # cached: rendered once per task
    head = http.head(url)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(resp.content)


@needs_ffmpeg
def test_output_from_data_uri_image(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    uri = "data:image/png;base64," + base64.b64encode(make_png(4, 4, (200, 40, 40))).decode()
    _task_id, url = succeeded_output(http, runway_emulator, promptImage=uri, ratio="960:960", duration=2)
    resp = http.get(url)
    assert resp.status_code == 200 and resp.content[4:8] == b"ftyp"


def test_output_without_video_extra_is_503(
    runway_emulator: EmulatorHandle, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway_emulator import video

    def unavailable(*_args: object, **_kwargs: object) -> bytes:
        raise video.VideoUnavailableError("MP4 rendering needs the optional 'video' extra")

    # The server runs in this process (thread mode) and imports render_mp4 at call time.
    monkeypatch.setattr(video, "render_mp4", unavailable)
    _task_id, url = succeeded_output(http, runway_emulator)
    resp = http.get(url)
    assert resp.status_code == 503 and "'video' extra" in resp.json()["error"]


def finished_task(http: requests.Session, emu: EmulatorHandle, prefix: str, body: dict[str, object]) -> dict[str, Any]:
    """Create, complete on demand and poll a task; returns the bare task object."""
    emu.configure(not_visible_seconds=0, comet_poll_shape="bare")
    resp = http.post(emu.url(f"{prefix}/image_to_video"), json=body, headers=headers())
    assert resp.status_code == 200, resp.text
    task_id = resp.json()["id"]
    emu.complete(task_id)
    task: dict[str, Any] = http.get(emu.url(f"{prefix}/tasks/{task_id}"), headers=headers()).json()
    assert task["status"] == "SUCCEEDED"
    return task


@pytest.mark.parametrize(
    ("prefix", "body", "size"),
    [
        (COMET, comet_body(ratio="1280:768"), (320, 192)),
        (COMET, comet_body(ratio="768:1280"), (192, 320)),
        (COMET, comet_body(), (320, 180)),  # none asked for: the documented default, 1280:720 (catalog.json)
        (COMET, comet_body(ratio="960:960"), (320, 320)),
        (RUNWAY, runway_body(ratio="720:1280"), (180, 320)),
        (RUNWAY, runway_body(model="veo3.1", ratio="1080:1920", duration=4), (180, 320)),
        (RUNWAY, runway_body(ratio="1584:672"), (320, 136)),
    ],
)
def test_video_has_the_requested_shape(
    runway_emulator: EmulatorHandle,
    http: requests.Session,
    ffmpeg: str,
    prefix: str,
    body: dict[str, object],
    size: tuple[int, int],
) -> None:
    task = finished_task(http, runway_emulator, prefix, body)
    video = http.get(task["output"][0])
    assert video.status_code == 200
    assert frame_size(media_info(ffmpeg, video.content)) == size


@pytest.mark.parametrize("prefix", [RUNWAY, COMET])
def test_a_remote_image_is_marked_as_not_fetched(
    runway_emulator: EmulatorHandle,
    http: requests.Session,
    ffmpeg: str,
    caplog: pytest.LogCaptureFixture,
    prefix: str,
) -> None:
    body = runway_body() if prefix == RUNWAY else comet_body()
    with caplog.at_level(logging.WARNING, logger="runway_emulator"):
        task = finished_task(http, runway_emulator, prefix, body)
        http.get(task["output"][0])
    # In the task the user's code sees, in the log (once per task), and in the video itself.
    assert task["emulator"] == {"input": "placeholder: remote URL not fetched"}
    warnings = [r.getMessage() for r in caplog.records if "not fetched" in r.getMessage()]
    assert len(warnings) == 1 and task["id"] in warnings[0] and "https://example.com/..." in warnings[0]
    red, green, blue = first_frame_mean_rgb(ffmpeg, http.get(task["output"][0]).content)
    assert red > 90 and blue > 90 and green < 60  # the magenta checkerboard, not a picture
    parsed = parse_task(task)  # the provider reads such a task as any other
    assert (parsed.status, parsed.output) == ("SUCCEEDED", tuple(task["output"]))
    assert runway_emulator.stats()["tasks"][task["id"]]["emulator"] == task["emulator"]


def test_an_inline_image_is_used_and_not_marked(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, caplog: pytest.LogCaptureFixture
) -> None:
    uri = "data:image/png;base64," + base64.b64encode(make_png(8, 8, (200, 40, 40))).decode()
    with caplog.at_level(logging.WARNING, logger="runway_emulator"):
        task = finished_task(http, runway_emulator, RUNWAY, runway_body(promptImage=uri))
    assert "emulator" not in task and "not fetched" not in caplog.text
    red, green, blue = first_frame_mean_rgb(ffmpeg, http.get(task["output"][0]).content)
    assert red > 150 and green < 80 and blue < 80
