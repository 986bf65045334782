"""Outputs fed forward: one task's output URL as the next task's input, offline.

Runway takes its own output URLs as inputs; the emulator resolves its own from its cache (or
renders them on the spot), so text -> image -> video -> upscale runs without any network and
the picture really flows from step to step (a red reference image stays red to the end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator.flows import create, finish, poll
from tests.emulator.support import first_frame_mean_rgb, frame_size, headers, is_red, media_info

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

    from tests.emulator.support import MediaInputs

pytestmark = pytest.mark.integration

UPSCALERS = {"runway": "magnific_video_upscaler_creative", "cometapi": "upscale_v1"}


@pytest.mark.parametrize("flavor", ["runway", "cometapi"])
def test_text_image_video_upscale(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, inputs: MediaInputs, flavor: str
) -> None:
    still = finish(
        http,
        runway_emulator,
        "text_to_image",
        flavor,
        {
            "model": "gen4_image",
            "promptText": "@red as a poster",
            "ratio": "1920:1080",
            "referenceImages": [{"uri": inputs.png_uri, "tag": "red"}],
        },
    )
    # Not downloaded by anyone before it is used: the emulator renders it for the next step.
    clip = finish(
        http,
        runway_emulator,
        "image_to_video",
        flavor,
        {"model": "gen4_turbo", "promptImage": still["output"][0], "ratio": "1280:720", "duration": 2},
    )
    upscaled = finish(
        http, runway_emulator, "video_upscale", flavor, {"model": UPSCALERS[flavor], "videoUri": clip["output"][0]}
    )
    for task in (clip, upscaled):
        assert "emulator" not in task  # a real input, not a placeholder
    video = http.get(upscaled["output"][0]).content
    info = media_info(ffmpeg, video)
    assert frame_size(info) == (640, 360)  # twice the 320x180 clip it was made from
    assert is_red(first_frame_mean_rgb(ffmpeg, video))
    creates = runway_emulator.stats()["creates"]["items"]
    assert [c["path"].rsplit("/", 1)[1] for c in creates] == ["text_to_image", "image_to_video", "video_upscale"]


def test_a_video_output_feeds_video_to_video(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, inputs: MediaInputs
) -> None:
    clip = finish(
        http,
        runway_emulator,
        "image_to_video",
        "runway",
        {"model": "gen4_turbo", "promptImage": inputs.png_uri, "ratio": "720:1280", "duration": 3},
    )
    http.get(clip["output"][0])  # downloaded first: served from the cache
    restyled = finish(
        http, runway_emulator, "video_to_video", "runway", {"model": "aleph2", "videoUri": clip["output"][0]}
    )
    info = media_info(ffmpeg, http.get(restyled["output"][0]).content)
    assert frame_size(info) == (180, 320)  # the input's shape
    assert "00:00:03.0" in info  # and its length


def failed(http: requests.Session, emu: EmulatorHandle, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    task_id = create(http, emu, endpoint, "runway", body)
    emu.advance(1)  # past PENDING: the input is read and found unusable
    task = poll(http, emu, "runway", task_id)
    assert task["status"] == "FAILED", task
    return task


def expire(http: requests.Session, emu: EmulatorHandle, clip: dict[str, Any]) -> str:
    emu.advance(48 * 3600 + 1)  # output URLs are valid for 48 h
    return str(clip["output"][0])


def delete(http: requests.Session, emu: EmulatorHandle, clip: dict[str, Any]) -> str:
    assert http.delete(emu.url(f"/v1/tasks/{clip['id']}"), headers=headers()).status_code == 204
    return str(clip["output"][0])


def tamper(http: requests.Session, emu: EmulatorHandle, clip: dict[str, Any]) -> str:
    return str(clip["output"][0]).replace("sig=", "sig=0")


@pytest.mark.parametrize(("spoil", "why"), [(expire, "has expired"), (delete, "gone"), (tamper, "not genuine")])
def test_an_unusable_output_url_fails_the_next_task(
    runway_emulator: EmulatorHandle, http: requests.Session, inputs: MediaInputs, spoil: Any, why: str
) -> None:
    body = {"model": "gen4_turbo", "promptImage": inputs.png_uri, "ratio": "1280:720", "duration": 2}
    clip = finish(http, runway_emulator, "image_to_video", "runway", body)
    upscale = {"model": "magnific_video_upscaler_creative", "videoUri": spoil(http, runway_emulator, clip)}
    task = failed(http, runway_emulator, "video_upscale", upscale)
    assert task["failureCode"] == "ASSET.INVALID" and why in task["failure"]


@pytest.mark.parametrize(
    ("uri", "note"),
    [
        ("https://example.com/clip.mp4", "placeholder: remote URL not fetched"),
        (
            "runway://uploads/not-from-this-emulator/clip.mp4",
            "placeholder: runway:// URI not uploaded to this emulator",
        ),
    ],
)
def test_inputs_the_emulator_cannot_read_give_a_marked_placeholder(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, uri: str, note: str
) -> None:
    task = finish(
        http, runway_emulator, "video_upscale", "runway", {"model": "magnific_video_upscaler_creative", "videoUri": uri}
    )
    assert task["emulator"] == {"input": note}
    video = http.get(task["output"][0]).content
    assert frame_size(media_info(ffmpeg, video)) == (640, 360)  # 1280:720 at twice the emulator's size
    red, green, blue = first_frame_mean_rgb(ffmpeg, video)
    assert red > 90 and blue > 90 and green < 60  # the magenta checkerboard
