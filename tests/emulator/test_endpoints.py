"""Every generation endpoint of the catalog, in every flavor that offers it: create, complete,
poll, download, and the downloaded file is real media of the expected kind, size and length."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.catalog import load_catalog
from airflow_provider_runway.credits import estimate_credits
from runway_emulator.state import UNPRICED_CREDITS
from tests.emulator.support import (
    INPUT_AUDIO_SECONDS,
    INPUT_SECONDS,
    MediaInputs,
    duration_of,
    first_frame_mean_rgb,
    frame_size,
    headers,
    is_red,
    media_info,
)

if TYPE_CHECKING:
    import requests

    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration

CATALOG = load_catalog()
VOICE = {"type": "runway-preset", "presetId": "Maya"}
MEDIA = {"mp4": "video/mp4", "png": "image/png", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg"}


@dataclass(frozen=True)
class Case:
    """A valid body (built from the input media) and what its output must be."""

    body: Callable[[MediaInputs], dict[str, Any]]
    kind: str  # mp4, png, mp3...
    size: tuple[int, int] | None = None
    seconds: float | None = None
    red: bool = False  # the picture came from the red input


def _video_to_video(model: str) -> Case:
    return Case(
        lambda i: {"model": model, "videoUri": i.mp4_uri, "promptText": "in the rain"}, "mp4", (320, 180), 2, True
    )


def _upscale(model: str) -> Case:
    # The input is 192x108: twice its longer side.
    return Case(lambda i: {"model": model, "videoUri": i.mp4_uri}, "mp4", (384, 216), INPUT_SECONDS, True)


def _act_two(i: MediaInputs) -> dict[str, Any]:
    character, reference = {"type": "image", "uri": i.png_uri}, {"type": "video", "uri": i.mp4_uri}
    return {"model": "act_two", "character": character, "reference": reference, "ratio": "960:960"}


CASES: dict[tuple[str, str], Case] = {
    ("image_to_video", "runway"): Case(
        lambda i: {"model": "gen4_turbo", "promptImage": i.png_uri, "ratio": "1280:720", "duration": 2},
        "mp4",
        (320, 180),
        2,
        True,
    ),
    ("image_to_video", "cometapi"): Case(
        lambda i: {"model": "gen3a_turbo", "promptImage": i.png_uri, "ratio": "768:1280"}, "mp4", (192, 320), 5, True
    ),
    ("text_to_image", "runway"): Case(
        lambda i: {"model": "gen4_image", "promptText": "a lighthouse", "ratio": "1920:1080"}, "png", (320, 180)
    ),
    ("text_to_image", "cometapi"): Case(  # CometAPI needs a reference image; the output starts from it
        lambda i: {
            "model": "gen4_image",
            "promptText": "@red as a poster",
            "ratio": "1080:1920",
            "referenceImages": [{"uri": i.png_uri, "tag": "red"}],
        },
        "png",
        (180, 320),
        red=True,
    ),
    ("text_to_video", "runway"): Case(
        lambda i: {"model": "gen4.5", "promptText": "waves", "ratio": "720:1280", "duration": 2}, "mp4", (180, 320), 2
    ),
    ("video_to_video", "runway"): _video_to_video("aleph2"),
    ("video_to_video", "cometapi"): _video_to_video("gen4_aleph"),
    ("video_upscale", "runway"): _upscale("magnific_video_upscaler_creative"),
    ("video_upscale", "cometapi"): _upscale("upscale_v1"),
    ("image_upscale", "runway"): Case(  # the input is 96x64
        lambda i: {"model": "magnific_precision_upscaler_v2", "imageUri": i.png_uri}, "png", (192, 128), red=True
    ),
    ("character_performance", "runway"): Case(_act_two, "mp4", (320, 320), INPUT_SECONDS, True),
    ("character_performance", "cometapi"): Case(_act_two, "mp4", (320, 320), INPUT_SECONDS, True),
    ("sound_effect", "runway"): Case(
        lambda i: {"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": 1.5}, "mp3", seconds=1.5
    ),
    ("text_to_speech", "runway"): Case(
        lambda i: {"model": "eleven_multilingual_v2", "promptText": "Hello there", "voice": VOICE}, "mp3", seconds=3
    ),
    ("speech_to_speech", "runway"): Case(
        lambda i: {"model": "eleven_multilingual_sts_v2", "media": {"type": "audio", "uri": i.wav_uri}, "voice": VOICE},
        "mp3",
        seconds=INPUT_AUDIO_SECONDS,
    ),
    ("voice_dubbing", "runway"): Case(
        lambda i: {"model": "eleven_voice_dubbing", "audioUri": i.wav_uri, "targetLang": "fr"},
        "mp3",
        seconds=INPUT_AUDIO_SECONDS,
    ),
    ("voice_isolation", "runway"): Case(
        lambda i: {"model": "eleven_voice_isolation", "audioUri": i.wav_uri}, "mp3", seconds=INPUT_AUDIO_SECONDS
    ),
}
OFFERED = {(name, flavor) for name, spec in CATALOG.endpoints.items() for flavor in spec.paths}
NOT_OFFERED = sorted(
    (name, flavor) for name in CATALOG.endpoints for flavor in CATALOG.flavors if (name, flavor) not in OFFERED
)


def create(http: requests.Session, emu: EmulatorHandle, endpoint: str, flavor: str, body: dict[str, Any]) -> str:
    resp = http.post(emu.url(CATALOG.endpoints[endpoint].paths[flavor]), json=body, headers=headers())
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def poll(http: requests.Session, emu: EmulatorHandle, flavor: str, task_id: str) -> dict[str, Any]:
    prefix = CATALOG.flavors[flavor].path_prefix
    resp = http.get(emu.url(f"{prefix}/tasks/{task_id}"), headers=headers())
    assert resp.status_code == 200, resp.text
    task: dict[str, Any] = resp.json()
    return task


def finish(
    http: requests.Session, emu: EmulatorHandle, endpoint: str, flavor: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create, complete through the admin API (no waiting), poll: the SUCCEEDED bare task."""
    emu.configure(not_visible_seconds=0, comet_poll_shape="bare")
    task_id = create(http, emu, endpoint, flavor, body)
    assert poll(http, emu, flavor, task_id)["status"] in ("PENDING", "THROTTLED", "RUNNING")
    emu.complete(task_id)
    task = poll(http, emu, flavor, task_id)
    assert task["status"] == "SUCCEEDED", task
    return task


def test_every_offered_endpoint_has_a_case() -> None:
    assert set(CASES) == OFFERED


def assert_media(ffmpeg: str, data: bytes, case: Case) -> None:
    """The file's signature, then ffmpeg's own reading of it: codec, picture size, length, colour."""
    info = media_info(ffmpeg, data, suffix=f".{case.kind}")
    if case.kind == "mp4":
        assert data[4:8] == b"ftyp" and "Video: h264" in info, info
    elif case.kind == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and "Video: png" in info, info
    else:
        assert data[:3] == b"ID3" or data[:2] == b"\xff\xfb", data[:16]
        assert "Audio: mp3" in info and "Video:" not in info, info
    if case.size is not None:
        assert frame_size(info) == case.size
    if case.seconds is not None:
        assert duration_of(info) == pytest.approx(case.seconds, abs=0.2)
    if case.size is not None:
        assert is_red(first_frame_mean_rgb(ffmpeg, data)) == case.red


@pytest.mark.parametrize(("endpoint", "flavor"), sorted(CASES))
def test_create_complete_poll_download(
    runway_emulator: EmulatorHandle,
    http: requests.Session,
    ffmpeg: str,
    inputs: MediaInputs,
    endpoint: str,
    flavor: str,
) -> None:
    case = CASES[(endpoint, flavor)]
    body = case.body(inputs)
    task = finish(http, runway_emulator, endpoint, flavor, body)
    assert "emulator" not in task  # every input was inline: nothing stands in for it
    [url] = task["output"]
    assert url.startswith(f"{runway_emulator.base_url}/_emulator/outputs/{task['id']}.{case.kind}?")
    download = http.get(url)  # no Authorization: output URLs are signed
    assert download.status_code == 200
    assert download.headers["Content-Type"] == MEDIA[case.kind]
    assert_media(ffmpeg, download.content, case)
    if flavor == "runway":  # Runway reports what the task cost: the catalog's price
        estimate = estimate_credits(endpoint, body, flavor)
        expected = math.ceil(estimate.credits) if estimate.credits is not None else UNPRICED_CREDITS
        assert task["cost"] == {"credits": expected}
    else:
        assert "cost" not in task
    stats = runway_emulator.stats()
    assert stats["tasks"][task["id"]]["endpoint"] == endpoint
    assert stats["creates"]["items"][0]["path"] == CATALOG.endpoints[endpoint].paths[flavor]


@pytest.mark.parametrize(("endpoint", "flavor"), NOT_OFFERED)
def test_an_endpoint_the_flavor_does_not_offer_is_404(
    runway_emulator: EmulatorHandle, http: requests.Session, endpoint: str, flavor: str
) -> None:
    path = f"{CATALOG.flavors[flavor].path_prefix}/{endpoint}"
    resp = http.post(runway_emulator.url(path), json={"model": "any", "promptText": "x"}, headers=headers())
    assert resp.status_code == 404
    if flavor == "cometapi":  # CometAPI's edge answers unknown paths with a web page
        assert resp.headers["Content-Type"].startswith("text/html") and b"404 Not Found" in resp.content
    else:
        assert resp.json() == {"error": f"Not found: {path}"}
    assert runway_emulator.stats()["creates"]["attempts"] == 0
    assert runway_emulator.requests()[-1]["status"] == 404


@pytest.mark.parametrize(
    "path", ["/runwayml/v1/organization", "/runwayml/v1/organization/usage", "/runwayml/v1/uploads"]
)
def test_cometapi_has_no_account_or_upload_endpoints(
    runway_emulator: EmulatorHandle, http: requests.Session, path: str
) -> None:
    resp = http.post(runway_emulator.url(path), json={}, headers=headers())
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")


def test_cometapi_envelope_names_the_endpoint(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(
        http, runway_emulator, "video_upscale", "cometapi", {"model": "upscale_v1", "videoUri": "https://e.com/v.mp4"}
    )
    runway_emulator.configure(not_visible_seconds=0)
    runway_emulator.complete(task_id)
    data = poll(http, runway_emulator, "cometapi", task_id)["data"]
    assert (data["action"], data["status"]) == ("VIDEO_UPSCALE", "SUCCESS")
    assert data["result_url"].split("?")[0].endswith(f"/{task_id}.mp4")


def test_several_outputs_when_the_body_asks_for_them(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str
) -> None:
    body = {"model": "gpt_image_2", "promptText": "three takes", "ratio": "1920:1088", "outputCount": 3}
    task = finish(http, runway_emulator, "text_to_image", "runway", body)
    assert len(task["output"]) == 3
    files = [http.get(url) for url in task["output"]]
    assert all(f.status_code == 200 and f.content.startswith(b"\x89PNG") for f in files)
    assert len({f.content for f in files}) == 3  # three pictures, not one served thrice
    assert frame_size(media_info(ffmpeg, files[2].content, suffix=".png")) == (320, 182)
    assert task["cost"] == {"credits": UNPRICED_CREDITS}  # gpt_image_2's price is not in the catalog


def test_audio_output_format_follows_the_body(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    body = {"model": "seed_audio", "promptText": "a bell", "outputFormat": "wav"}
    task = finish(http, runway_emulator, "sound_effect", "runway", body)
    [url] = task["output"]
    download = http.get(url)
    assert download.headers["Content-Type"] == "audio/wav"
    assert download.content[:4] == b"RIFF" and download.content[8:12] == b"WAVE"
