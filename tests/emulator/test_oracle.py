"""The oracle against the runwayml SDK's request types: every pair's smallest body passes, and each
kind of mistake is refused with the field named by its wire path. Pure: no server."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from runway_emulator.oracle import Refusal, check_body, endpoint_models
from runway_emulator.oracle.docstrings import default_of, item_range, limits_for, number_range
from runway_emulator.oracle.sdk_endpoints import SDK_ENDPOINTS

from tests.emulator.sdk_bodies import SDK_BODIES, SdkBody

IMAGE = "https://example.com/a.png"
VIDEO = "https://example.com/v.mp4"
I2V = {"model": "gen4.5", "promptImage": IMAGE, "promptText": "a fox", "ratio": "1280:720", "duration": 5}
GEN3 = {"model": "gen3a_turbo", "promptImage": IMAGE}
ACT_TWO = {
    "model": "act_two",
    "character": {"type": "image", "uri": IMAGE},
    "reference": {"type": "video", "uri": VIDEO},
}


def refusal(endpoint: str, body: Any, flavor: str = "runway") -> Refusal:
    with pytest.raises(Refusal) as caught:
        check_body(endpoint, flavor, body)
    return caught.value


@pytest.mark.parametrize("case", SDK_BODIES, ids=lambda case: case.case_id)
def test_the_smallest_body_of_every_sdk_pair_is_accepted(case: SdkBody) -> None:
    checked = check_body(case.endpoint, "runway", case.wire)
    if "model" in case.wire:
        assert checked.shape.literal("model") == (case.label,)  # the model's own TypedDict was used


def test_the_pairs_are_every_model_of_every_endpoint() -> None:
    # The bodies come from the SDK's types directly; the oracle reads the same types its own way.
    assert {case.endpoint for case in SDK_BODIES} == set(SDK_ENDPOINTS)
    for endpoint in SDK_ENDPOINTS:
        labels = [case.label for case in SDK_BODIES if case.endpoint == endpoint]
        models = endpoint_models(endpoint, "runway")
        assert labels == models or not models, endpoint
    assert len(SDK_BODIES) >= 100
    assert len(endpoint_models("image_to_video", "runway")) == 25


@pytest.mark.parametrize(
    ("endpoint", "body", "field", "says"),
    [
        ("image_to_video", {**I2V, "model": "gen9_hyper"}, "model", "must be one of 'gen4.5'"),
        ("image_to_video", {k: v for k, v in I2V.items() if k != "model"}, "model", "model is required"),
        ("image_to_video", {k: v for k, v in I2V.items() if k != "duration"}, "duration", "duration is required"),
        ("image_to_video", {**I2V, "watermark": True}, "watermark", "unknown field"),
        ("image_to_video", {**I2V, "duration": "5"}, "duration", "an integer"),
        ("image_to_video", {**I2V, "duration": 11}, "duration", "between 2 and 10"),
        ("image_to_video", {**I2V, "duration": 5.5}, "duration", "an integer"),
        ("image_to_video", {**I2V, "seed": True}, "seed", "an integer"),
        ("image_to_video", {**I2V, "ratio": "1280:768"}, "ratio", "'1280:720'"),
        ("image_to_video", {**I2V, "promptText": ""}, "promptText", "must not be empty"),
        ("image_to_video", {**I2V, "promptText": "😀" * 501}, "promptText", "1000 UTF-16 code units"),
        ("image_to_video", {**I2V, "contentModeration": {"x": 1}}, "contentModeration.x", "unknown field"),
        ("image_to_video", {**I2V, "promptImage": [{"uri": IMAGE, "position": "last"}]}, "promptImage[0].position",
         "'first'"),
        ("image_to_video", {**I2V, "promptImage": [{"position": "first"}]}, "promptImage[0].uri", "is required"),
        ("image_to_video", {**I2V, "promptImage": 7}, "promptImage", "a string or an array"),
        ("character_performance", {**ACT_TWO, "character": {"type": "photo", "uri": IMAGE}}, "character.type",
         "'image', 'video'"),
        ("character_performance", {**ACT_TWO, "expressionIntensity": 6}, "expressionIntensity", "between 1 and 5"),
        ("text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "1920:1080",
                           "referenceImages": [{"uri": IMAGE}] * 4}, "referenceImages", "at most 3"),
        ("text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "1920:1080",
                           "referenceImages": [{"uri": IMAGE, "tag": "1st"}]}, "referenceImages[0].tag", "form"),
        ("sound_effect", {"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": 31}, "duration",
         "between 0.5 and 30"),
        ("generate/video", {"configId": "c", "input": {"keyframes": [{"at": 0.5, "uri": IMAGE, "x": 1}]}},
         "input.keyframes[0].x", "unknown field"),
        ("generate/image", {"configId": "c", "input": {}}, "input.promptText", "is required"),
        ("recipes/multi_shot_video", {"mode": "custom", "version": "2026-06", "shots": [{"duration": 5,
                                      "prompt": "a"}]}, "shots", "at least 3"),
        ("recipes/multi_shot_video", {"mode": "manual", "version": "2026-06"}, "mode", "'auto', 'custom'"),
        ("avatar_videos", {"model": "gwm1_avatars", "avatar": {"type": "custom", "avatarId": "a"},
                           "speech": {"type": "text"}}, "speech.text", "is required"),
    ],
)  # fmt: skip
def test_mistakes_are_refused_naming_the_field(endpoint: str, body: Any, field: str, says: str) -> None:
    problem = refusal(endpoint, body)
    assert problem.field == field
    assert str(problem).startswith(field) and says in str(problem)


def test_lengths_count_what_the_docstring_says() -> None:
    check_body("image_to_video", "runway", {**I2V, "promptText": "x" * 1000})  # 1000 UTF-16 code units
    check_body("image_to_video", "runway", {**I2V, "promptText": "😀" * 500})  # 500 characters, 1000 units
    check_body("image_to_video", "runway", {**I2V, "duration": 5.0})  # JSON has one number type


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("http://example.com/a.png", "https://"),
        ("https://10.0.0.1/a.png", "not an IP address"),
        ("https://example.com/" + "a" * 2048, "at most 2048"),
        ("data:image/gif;base64,R0lGODlh", "image/gif is not accepted"),
        ("data:video/mp4;base64,AAAA", "data:image/"),
        ("data:image/png;base64,not base64!", "not valid base64"),
        ("data:image/png;base64," + "A" * (5 * 1024 * 1024), "at most 5242880"),
        ("", "must not be empty"),
    ],
)
def test_media_uris_follow_the_input_rules(uri: str, says: str) -> None:
    problem = refusal("image_to_video", {**I2V, "promptImage": uri})
    assert problem.field == "promptImage" and says in str(problem)


def test_accepted_media_uris() -> None:
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    for uri in (IMAGE, png, "runway://uploads/abc/frame.png"):
        check_body("image_to_video", "runway", {**I2V, "promptImage": uri})
    video = {"model": "aleph2", "videoUri": "data:video/mp4;base64,AAAA"}
    check_body("video_to_video", "runway", video)
    assert refusal("video_to_video", {**video, "videoUri": "data:image/png;base64,AAAA"}).field == "videoUri"


@pytest.mark.parametrize(
    ("endpoint", "body", "field", "says"),
    [
        ("image_to_video", {**GEN3, "seed": 1_000_000_000}, "seed", "between 0 and 999999999"),
        ("image_to_video", {**GEN3, "promptText": "x" * 513}, "promptText", "512 characters"),
        ("image_to_video", {**GEN3, "watermark": "yes"}, "watermark", "true or false"),
        ("image_to_video", {**GEN3, "duration": 7}, "duration", "5, 10"),
        ("image_to_video", {**GEN3, "promptImage": "runway://uploads/abc/a.png"}, "promptImage", "Runway's own API"),
        ("image_to_video", {**I2V, "model": "kling_4"}, "model", "'gen3a_turbo'"),  # not offered by CometAPI
        ("text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "1920:1080"}, "referenceImages",
         "required by CometAPI"),
        ("text_to_image", {"model": "gen4_image_turbo", "promptText": "x", "ratio": "1920:1080"}, "model",
         "'gen4_image'"),
        ("video_to_video", {"model": "aleph2", "videoUri": VIDEO}, "model", "'gen4_aleph'"),
    ],
)  # fmt: skip
def test_cometapi_rules(endpoint: str, body: dict[str, Any], field: str, says: str) -> None:
    problem = refusal(endpoint, body, "cometapi")
    assert problem.field == field and says in str(problem)


def test_cometapi_takes_its_own_models_and_fields() -> None:
    check_body("image_to_video", "cometapi", {**GEN3, "watermark": True, "seed": 999_999_999, "ratio": "768:1280"})
    check_body("image_to_video", "cometapi", {**I2V, "watermark": False})  # a forwarded Runway model
    check_body("video_upscale", "cometapi", {"model": "upscale_v1", "videoUri": VIDEO})
    check_body("video_to_video", "cometapi", {"model": "gen4_aleph", "videoUri": VIDEO, "promptText": "rain"})
    assert refusal("image_to_video", GEN3).field == "model"  # Runway's SDK no longer has gen3a_turbo


def test_a_body_must_be_an_object() -> None:
    assert "JSON object" in str(refusal("image_to_video", [I2V]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Must be an integer from 2 to 10.", (2.0, 10.0)),
        ("Sharpness intensity from 0 (none) to 100.", (0.0, 100.0)),
        ("between 0.5 and 30 seconds.", (0.5, 30.0)),
        ("Speech speed multiplier (0.7\u20131.2). 1.0 is default", (0.7, 1.2)),
        ("Position as a fraction [0.0, 1.0] of the input", (0.0, 1.0)),
        ("Target output resolution from 720p to 4k.", None),
    ],
)
def test_number_ranges_in_docstrings(text: str, expected: tuple[float, float] | None) -> None:
    assert number_range(text) == expected


def test_counts_defaults_and_media_in_docstrings() -> None:
    assert item_range("An optional array of image references (up to 10).") == (None, 10)
    assert item_range("Up to three reference audio clips.") == (None, 3)
    assert item_range("Shot list for custom mode (3-5 shots).") == (3, 5)
    assert item_range("A string up to 1000 characters") == (None, None)
    assert default_of("`mp4` (default) returns an H.264 .mp4. ... defaults to `422 HQ`") == "mp4"
    assert default_of("Total duration of the output video in seconds. Defaults to 10 seconds.") == 10
    uri = limits_for(
        "A HTTPS URL, Runway upload URI, or base64 data URI (e.g. `data:audio/mp3;base64,...`, up to 5MB)",
        "audioUri",
        numeric=False,
        text=True,
        array=False,
    )
    assert (uri.media, uri.data_uri_max) == ("audio", 5 * 1024 * 1024)
