"""Every generation endpoint, in every flavor that offers it: create, complete, poll, download, and
the downloaded file is real media of the expected kind, size and length; the task costs what the
emulator's own price table says for what it made."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from runway_emulator.protocol import FLAVORS, PATH_PREFIXES
from runway_emulator.task_endpoints import task_endpoints

from tests.emulator.flows import create, create_answer, finish, poll
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

VOICE = {"type": "runway-preset", "presetId": "Maya"}
MEDIA = {"mp4": "video/mp4", "png": "image/png", "mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac"}
# The red input PNG is 96x64: a picture that follows it is 320x214 (longer side 320, even sides).
FOLLOWS_PNG = (320, 214)


@dataclass(frozen=True)
class Case:
    """A valid body (built from the input media), what its output must be, and its price."""

    body: Callable[[MediaInputs], dict[str, Any]]
    kind: str  # mp4, png, mp3...
    credits: float  # prices.json applied to what the emulator makes
    size: tuple[int, int] | None = None
    seconds: float | None = None
    red: bool = False  # the picture came from the red input
    outputs: int = 1


def _video_to_video(model: str, credits: float) -> Case:
    return Case(
        lambda i: {"model": model, "videoUri": i.mp4_uri, "promptText": "in the rain"},
        "mp4",
        credits,
        (320, 180),
        INPUT_SECONDS,
        True,
    )


def _upscale(model: str) -> Case:
    # The input is 192x108: twice its longer side. No price in prices.json: the video fallback, 5/s.
    return Case(lambda i: {"model": model, "videoUri": i.mp4_uri}, "mp4", 10, (384, 216), INPUT_SECONDS, True)


def _act_two(i: MediaInputs) -> dict[str, Any]:
    character, reference = {"type": "image", "uri": i.png_uri}, {"type": "video", "uri": i.mp4_uri}
    return {"model": "act_two", "character": character, "reference": reference, "ratio": "960:960"}


CASES: dict[tuple[str, str], Case] = {
    ("image_to_video", "runway"): Case(  # gen4_turbo: 5 credits/s
        lambda i: {"model": "gen4_turbo", "promptImage": i.png_uri, "ratio": "1280:720", "duration": 2},
        "mp4", 10, (320, 180), 2, True,
    ),
    ("image_to_video", "cometapi"): Case(  # gen3a_turbo's documented default: 5 s, at 5 credits/s
        lambda i: {"model": "gen3a_turbo", "promptImage": i.png_uri, "ratio": "768:1280"}, "mp4", 25, (192, 320), 5,
        True,
    ),
    ("text_to_image", "runway"): Case(
        lambda i: {"model": "gen4_image", "promptText": "a lighthouse", "ratio": "1920:1080"}, "png", 8, (320, 180)
    ),
    ("text_to_image", "cometapi"): Case(  # CometAPI needs a reference image; the output starts from it
        lambda i: {
            "model": "gen4_image",
            "promptText": "@red as a poster",
            "ratio": "1080:1920",
            "referenceImages": [{"uri": i.png_uri, "tag": "red"}],
        },
        "png", 8, (180, 320), red=True,
    ),
    ("text_to_video", "runway"): Case(  # gen4.5: 12 credits/s
        lambda i: {"model": "gen4.5", "promptText": "waves", "ratio": "720:1280", "duration": 2}, "mp4", 24,
        (180, 320), 2,
    ),
    ("video_to_video", "runway"): _video_to_video("aleph2", 56),  # 28/s x 2 s, the 56-credit minimum
    ("video_to_video", "cometapi"): _video_to_video("gen4_aleph", 30),  # 15/s x 2 s
    ("video_upscale", "runway"): _upscale("magnific_video_upscaler_creative"),
    ("video_upscale", "cometapi"): _upscale("upscale_v1"),
    ("image_upscale", "runway"): Case(  # the input is 96x64; the image fallback, 5 per image
        lambda i: {"model": "magnific_precision_upscaler_v2", "imageUri": i.png_uri}, "png", 5, (192, 128), red=True
    ),
    ("character_performance", "runway"): Case(_act_two, "mp4", 10, (320, 320), INPUT_SECONDS, True),
    ("character_performance", "cometapi"): Case(_act_two, "mp4", 10, (320, 320), INPUT_SECONDS, True),
    ("sound_effect", "runway"): Case(
        lambda i: {"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": 1.5}, "mp3", 1.5, seconds=1.5
    ),
    ("text_to_speech", "runway"): Case(  # 1 credit per started 50 characters
        lambda i: {"model": "eleven_multilingual_v2", "promptText": "Hello there", "voice": VOICE}, "mp3", 1,
        seconds=3,
    ),
    ("speech_to_speech", "runway"): Case(  # 1 credit per started 3 s
        lambda i: {"model": "eleven_multilingual_sts_v2", "media": {"type": "audio", "uri": i.wav_uri}, "voice": VOICE},
        "mp3", 1, seconds=INPUT_AUDIO_SECONDS,
    ),
    ("voice_dubbing", "runway"): Case(
        lambda i: {"model": "eleven_voice_dubbing", "audioUri": i.wav_uri, "targetLang": "fr"}, "mp3", 1,
        seconds=INPUT_AUDIO_SECONDS,
    ),
    ("voice_isolation", "runway"): Case(
        lambda i: {"model": "eleven_voice_isolation", "audioUri": i.wav_uri}, "mp3", 1, seconds=INPUT_AUDIO_SECONDS
    ),
    ("video_to_audio", "runway"): Case(  # the audio fallback, 1 credit/s
        lambda i: {"model": "mirelo_sfx_2_0", "videoUri": i.mp4_uri, "duration": 1.5, "format": "flac"}, "flac", 1.5,
        seconds=1.5,
    ),
    ("video_to_hdr", "runway"): Case(  # ruby: 20 credits/s; hdr10 (the default) is an .mp4
        lambda i: {"model": "ruby", "videoUri": i.mp4_uri}, "mp4", 40, (320, 180), INPUT_SECONDS, True
    ),
    ("avatar_videos", "runway"): Case(  # as long as the speech; the video fallback, 5 credits/s
        lambda i: {
            "model": "gwm1_avatars",
            "avatar": {"type": "runway-preset", "presetId": "influencer"},
            "speech": {"type": "audio", "audio": i.wav_uri},
        },
        "mp4", 7.5, (320, 180), INPUT_AUDIO_SECONDS,
    ),
    ("generate/video", "runway"): Case(  # routed to gen4.5: 12 credits/s
        lambda i: {"configId": "my-router", "input": {"promptText": "waves", "aspectRatio": "9:16", "duration": 2}},
        "mp4", 24, (180, 320), 2,
    ),
    ("generate/image", "runway"): Case(  # routed to gen4_image: 8 per image
        lambda i: {"configId": "my-router", "input": {"promptText": "a cat", "aspectRatio": "1:1", "outputCount": 2}},
        "png", 16, (320, 320), outputs=2,
    ),
    ("generate/audio", "runway"): Case(  # routed to eleven_text_to_sound_v2: 1 credit/s
        lambda i: {"configId": "my-router", "input": {"promptText": "rain", "type": "audio", "duration": 1.5}},
        "mp3", 1.5, seconds=1.5,
    ),
    ("recipes/ad_localization", "runway"): Case(
        lambda i: {"referenceImage": {"uri": i.png_uri}, "targetLanguage": "ja", "version": "2026-06"},
        "png", 5, FOLLOWS_PNG, red=True,
    ),
    ("recipes/marketing_stock_image", "runway"): Case(
        lambda i: {"prompt": "summer sale", "version": "2026-06", "outputCount": 2}, "png", 10, (320, 180), outputs=2
    ),
    ("recipes/multi_shot_video", "runway"): Case(
        lambda i: {"mode": "auto", "prompt": "a day at the beach", "version": "2026-06", "duration": 5,
                   "ratio": "960:960"},
        "mp4", 25, (320, 320), 5,
    ),
    ("recipes/product_ad", "runway"): Case(
        lambda i: {"productImages": [{"uri": i.png_uri}], "version": "2026-07", "duration": 4, "ratio": "720:1280"},
        "mp4", 20, (180, 320), 4, True,
    ),
    ("recipes/product_campaign_image", "runway"): Case(
        lambda i: {"image": {"uri": i.png_uri}, "prompt": "editorial", "version": "2026-06"}, "png", 5, FOLLOWS_PNG,
        red=True,
    ),
    ("recipes/product_swap", "runway"): Case(
        lambda i: {
            "newProductImages": [{"uri": i.png_uri}],
            "originalProductImage": {"uri": i.png_uri},
            "referenceVideo": {"uri": i.mp4_uri},
            "version": "2026-06",
            "duration": 4,
        },
        "mp4", 20, FOLLOWS_PNG, 4, True,
    ),
    ("recipes/product_ugc", "runway"): Case(
        lambda i: {"characterImage": {"uri": i.png_uri}, "productImage": {"uri": i.png_uri}, "version": "2026-06",
                   "duration": 4, "ratio": "720:1280"},
        "mp4", 20, (180, 320), 4, True,
    ),
}  # fmt: skip
OFFERED = {(name, flavor) for name, endpoint in task_endpoints().items() for flavor in endpoint.paths}
NOT_OFFERED = sorted((name, flavor) for name in task_endpoints() for flavor in FLAVORS if (name, flavor) not in OFFERED)


def test_every_offered_endpoint_has_a_case() -> None:
    assert set(CASES) == OFFERED
    assert {name for name, flavor in OFFERED if flavor == "cometapi"} == {
        "image_to_video",
        "text_to_image",
        "video_to_video",
        "video_upscale",
        "character_performance",
    }


def assert_media(ffmpeg: str, data: bytes, case: Case) -> None:
    """The file's signature, then ffmpeg's own reading of it: codec, picture size, length, colour."""
    info = media_info(ffmpeg, data, suffix=f".{case.kind}")
    if case.kind == "mp4":
        assert data[4:8] == b"ftyp" and "Video: h264" in info, info
    elif case.kind == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and "Video: png" in info, info
    elif case.kind == "flac":
        assert data[:4] == b"fLaC" and "Audio: flac" in info, info
    else:
        assert data[:3] == b"ID3" or data[:2] == b"\xff\xfb", data[:16]
        assert "Audio: mp3" in info and "Video:" not in info, info
    if case.size is not None:
        assert frame_size(info) == case.size
    if case.seconds is not None:
        assert duration_of(info) == pytest.approx(case.seconds, abs=0.2)
    if case.red:  # (a picture generated from the task id may happen to be red too: only this way holds)
        assert is_red(first_frame_mean_rgb(ffmpeg, data))


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
    task = finish(http, runway_emulator, endpoint, flavor, case.body(inputs))
    assert "emulator" not in task  # every input was inline: nothing stands in for it
    assert len(task["output"]) == case.outputs
    url = task["output"][-1]
    name = task["id"] + (f"_{case.outputs - 1}" if case.outputs > 1 else "")
    assert url.startswith(f"{runway_emulator.base_url}/_emulator/outputs/{name}.{case.kind}?")
    download = http.get(url)  # no Authorization: output URLs are signed
    assert download.status_code == 200
    assert download.headers["Content-Type"] == MEDIA[case.kind]
    assert_media(ffmpeg, download.content, case)
    assert task["cost"] == {"credits": math.ceil(case.credits)}  # whole credits, rounded up
    stats = runway_emulator.stats()
    assert stats["tasks"][task["id"]]["endpoint"] == endpoint
    assert stats["creates"]["items"][0]["path"] == task_endpoints()[endpoint].paths[flavor]


@pytest.mark.parametrize(("endpoint", "flavor"), sorted(CASES))
def test_the_create_answers_as_the_sdk_types_it(
    runway_emulator: EmulatorHandle, http: requests.Session, inputs: MediaInputs, endpoint: str, flavor: str
) -> None:
    case = CASES[(endpoint, flavor)]
    answer = create_answer(http, runway_emulator, endpoint, flavor, case.body(inputs))
    if endpoint == "avatar_videos":  # AvatarVideoCreateResponse: the id alone
        assert list(answer) == ["id"]
    elif endpoint.startswith("generate/"):  # the Model Router: where it routed, and the estimate there
        assert set(answer) == {"id", "routing"}
        assert answer["routing"]["estimatedCost"] == {"credits": case.credits}
        assert answer["routing"]["configId"] == "my-router"
    else:
        assert answer == {"id": answer["id"], "estimatedCost": {"credits": case.credits}}
    task = poll(http, runway_emulator, flavor, answer["id"]) if flavor == "runway" else None
    if task is not None:
        assert task["estimatedCost"] == {"credits": case.credits}


@pytest.mark.parametrize(("endpoint", "flavor"), NOT_OFFERED)
def test_an_endpoint_the_flavor_does_not_offer_is_404(
    runway_emulator: EmulatorHandle, http: requests.Session, endpoint: str, flavor: str
) -> None:
    path = f"{PATH_PREFIXES[flavor]}/{endpoint}"
    resp = http.post(runway_emulator.url(path), json={"model": "any", "promptText": "x"}, headers=headers())
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html") and b"404 Not Found" in resp.content
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
    assert data["data"]["cost"] == {"credits": 25}  # CometAPI passes Runway's task on, cost included


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
    assert task["cost"] == {"credits": 15}  # gpt_image_2 has no price: the image fallback, 5 x 3
