"""Endpoints other than image_to_video, the image-to-video builder, and credit estimates."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from airflow_provider_runway.runway.bodies import WIRE_NAMES, build_image_to_video_body, validate_body
from airflow_provider_runway.runway.credits import CreditEstimate, estimate_credits
from airflow_provider_runway.runway.errors import InvalidRequestError
from airflow_provider_runway.runway.flavors import COMETAPI, RUNWAY, check_endpoint, create_path, default_model

URL = "https://images.example.com/cat.png"
VIDEO = "https://media.example.com/clip.mp4"
AUDIO = "https://media.example.com/voice.mp3"


def refused(payload: dict[str, Any], flavor: str, endpoint: str, **kwargs: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        validate_body(payload, flavor, endpoint, **kwargs)
    return info.value


# --------------------------------------------------------------------------- which flavor offers what


@pytest.mark.parametrize(
    ("endpoint", "flavor", "path"),
    [
        ("image_to_video", COMETAPI, "/runwayml/v1/image_to_video"),
        ("image_to_video", RUNWAY, "/v1/image_to_video"),
        ("text_to_image", COMETAPI, "/runwayml/v1/text_to_image"),
        ("video_to_video", COMETAPI, "/runwayml/v1/video_to_video"),
        ("video_upscale", COMETAPI, "/runwayml/v1/video_upscale"),
        ("character_performance", COMETAPI, "/runwayml/v1/character_performance"),
        ("voice_isolation", RUNWAY, "/v1/voice_isolation"),
        ("future_thing", COMETAPI, "/runwayml/v1/future_thing"),  # unknown: passed through
    ],
)
def test_endpoint_paths(endpoint: str, flavor: str, path: str) -> None:
    assert create_path(endpoint, flavor) == path


@pytest.mark.parametrize("endpoint", ["text_to_video", "image_upscale", "sound_effect", "text_to_speech"])
def test_an_endpoint_cometapi_does_not_proxy_is_refused_naming_runway(endpoint: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        check_endpoint(endpoint, COMETAPI)
    assert info.value.field == "endpoint"
    assert f"{endpoint} is not offered through flavor cometapi; flavor(s) that offer it: runway" in str(info.value)
    check_endpoint(endpoint, RUNWAY)
    with pytest.raises(InvalidRequestError, match="not offered through flavor cometapi"):
        validate_body({"model": default_model(RUNWAY, endpoint)}, COMETAPI, endpoint)


def test_text_to_video_refusal_points_at_cometapis_reverse_format() -> None:
    with pytest.raises(InvalidRequestError, match="/runway/pro/generate"):
        check_endpoint("text_to_video", COMETAPI)


def test_unknown_endpoint_passes_through_with_a_warning() -> None:
    result = validate_body({"model": "x", "anything": [1]}, RUNWAY, "future_thing")
    assert result.body == {"model": "x", "anything": [1]}
    assert "future_thing" in result.warnings[0]


@pytest.mark.parametrize(
    ("endpoint", "flavor", "model"),
    [
        ("text_to_image", COMETAPI, "gen4_image"),
        ("text_to_video", RUNWAY, "gen4.5"),
        ("video_to_video", RUNWAY, "aleph2"),
        ("video_to_video", COMETAPI, "gen4_aleph"),
        ("video_upscale", COMETAPI, "upscale_v1"),
        ("character_performance", RUNWAY, "act_two"),
    ],
)
def test_default_models(endpoint: str, flavor: str, model: str) -> None:
    assert default_model(flavor, endpoint) == model


# --------------------------------------------------------------------------- other endpoints' fields


def test_text_to_image_through_cometapi_needs_a_reference_image() -> None:
    payload = {"model": "gen4_image", "promptText": "a cat", "ratio": "1920:1080"}
    assert validate_body(payload, RUNWAY, "text_to_image").warnings == ()
    err = refused(payload, COMETAPI, "text_to_image")
    assert str(err).startswith("reference_images (referenceImages): is required through flavor cometapi")
    with_ref = {**payload, "referenceImages": [{"uri": URL, "tag": "Cat1"}]}
    assert validate_body(with_ref, COMETAPI, "text_to_image").body == with_ref


def test_reference_image_tags_and_counts() -> None:
    payload = {"model": "gen4_image_turbo", "promptText": "@Cat1 sits", "ratio": "1920:1080"}
    assert "is required for model gen4_image_turbo" in str(
        refused({**payload, "referenceImages": []}, RUNWAY, "text_to_image")
    )
    four = [{"uri": URL}] * 4
    assert "at most 3 item(s)" in str(refused({**payload, "referenceImages": four}, RUNWAY, "text_to_image"))
    bad_tag = [{"uri": URL, "tag": "1-cat"}]
    assert "referenceImages[0].tag" in str(refused({**payload, "referenceImages": bad_tag}, RUNWAY, "text_to_image"))


def test_video_to_video_and_upscale_fields() -> None:
    aleph = {"model": "aleph2", "videoUri": VIDEO, "keyframes": [{"uri": URL, "at": "0.5"}]}
    assert validate_body(aleph, RUNWAY, "video_to_video").body["keyframes"] == [{"uri": URL, "at": 0.5}]
    late = {**aleph, "keyframes": [{"uri": URL, "at": 1.5}]}
    assert "keyframes[0].at: must be between 0 and 1" in str(refused(late, RUNWAY, "video_to_video"))
    upscale = {"model": "magnific_video_upscaler_creative", "videoUri": VIDEO, "creativity": "101"}
    assert str(refused(upscale, RUNWAY, "video_upscale")).startswith("creativity: must be between 0 and 100")
    image = {"model": "magnific_precision_upscaler_v2", "imageUri": URL, "scaleFactor": "3"}
    assert "allowed: 2, 4, 8, 16" in str(refused(image, RUNWAY, "image_upscale"))


def test_character_performance_media_references() -> None:
    payload = {
        "model": "act_two",
        "character": {"type": "image", "uri": URL},
        "reference": {"type": "video", "uri": VIDEO},
    }
    assert (
        validate_body({**payload, "expressionIntensity": "3"}, COMETAPI, "character_performance").body[
            "expressionIntensity"
        ]
        == 3
    )
    wrong = {**payload, "reference": {"type": "image", "uri": URL}}
    assert "type 'image' is not allowed" in str(refused(wrong, RUNWAY, "character_performance"))
    bad_video = {**payload, "reference": {"type": "video", "uri": "data:image/png;base64,AAAA"}}
    assert "reference.uri: data URI must look like data:video" in str(
        refused(bad_video, RUNWAY, "character_performance")
    )


def test_audio_endpoints() -> None:
    dub = {"model": "eleven_voice_dubbing", "audioUri": AUDIO, "targetLang": "es"}
    assert validate_body(dub, RUNWAY, "voice_dubbing").warnings == ()
    assert "'xx' is not allowed" in str(refused({**dub, "targetLang": "xx"}, RUNWAY, "voice_dubbing"))
    sfx = {"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": "0.5"}
    assert validate_body(sfx, RUNWAY, "sound_effect").body["duration"] == 0.5
    assert "between 0.5 and 30" in str(refused({**sfx, "duration": 31}, RUNWAY, "sound_effect"))
    tts = {
        "model": "eleven_multilingual_v2",
        "promptText": "hi",
        "voice": {"type": "runway-preset", "presetId": "Maya"},
    }
    assert validate_body(tts, RUNWAY, "text_to_speech").warnings == ()
    assert "voice.presetId" in str(
        refused({**tts, "voice": {"type": "runway-preset", "presetId": "Nobody"}}, RUNWAY, "text_to_speech")
    )


# --------------------------------------------------------------------------- the image-to-video builder


def test_builder_parameters_are_exactly_the_wire_table_plus_three() -> None:
    params = set(inspect.signature(build_image_to_video_body).parameters)
    assert params == set(WIRE_NAMES) | {"extra_body", "flavor", "lenient"}


def test_builder_maps_every_parameter_and_normalises() -> None:
    result = build_image_to_video_body(
        prompt_image=URL, model="veo3.1", prompt_text="a cat", ratio="720:1280", duration="6", seed="7",
        negative_prompt="blur", audio="false", flavor=RUNWAY,
    )  # fmt: skip
    assert result.body == {
        "promptImage": URL, "model": "veo3.1", "promptText": "a cat", "ratio": "720:1280", "duration": 6,
        "seed": 7, "negativePrompt": "blur", "audio": False,
    }  # fmt: skip


def test_builder_keeps_falsy_values_and_drops_none() -> None:
    result = build_image_to_video_body(prompt_image=URL, seed=0, watermark=False, prompt_text="", ratio=None)
    assert result.body == {"promptImage": URL, "model": "gen3a_turbo", "promptText": "", "seed": 0, "watermark": False}


@pytest.mark.parametrize(("extra", "named"), [({"promptText": "x"}, "promptText"), ({"audio": True, "x": 1}, "audio")])
def test_builder_refuses_extra_body_that_shadows_a_parameter(extra: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError, match=rf"^extra_body: sets {named}, which have their own parameters"):
        build_image_to_video_body(prompt_image=URL, extra_body=extra)


def test_builder_validates_extra_body_and_lenient_lets_it_through() -> None:
    with pytest.raises(InvalidRequestError, match="model gen4_turbo does not take futureKnob"):
        build_image_to_video_body(prompt_image=URL, ratio="960:960", flavor=RUNWAY, extra_body={"futureKnob": 1})
    result = build_image_to_video_body(
        prompt_image=URL, ratio="960:960", flavor=RUNWAY, extra_body={"futureKnob": 1}, lenient=True
    )
    assert result.body["futureKnob"] == 1 and len(result.warnings) == 1


def test_lenient_never_relaxes_model_independent_checks() -> None:
    with pytest.raises(InvalidRequestError, match="not an IP address"):
        build_image_to_video_body(prompt_image="https://10.0.0.1/a.png", lenient=True)
    with pytest.raises(InvalidRequestError, match="between 0 and 999999999"):
        build_image_to_video_body(prompt_image=URL, seed=10**10, lenient=True)


# --------------------------------------------------------------------------- credit estimates


@pytest.mark.parametrize(
    ("endpoint", "body", "flavor", "credits"),
    [
        ("image_to_video", {"model": "gen4_turbo", "duration": 5}, RUNWAY, 25.0),  # 5 s x 5 credits/s
        ("image_to_video", {"model": "gen4.5", "duration": "10"}, RUNWAY, 120.0),
        ("image_to_video", {"model": "veo3.1", "duration": 8}, RUNWAY, 320.0),  # audio defaults to on
        ("image_to_video", {"model": "veo3.1", "duration": 8, "audio": "false"}, RUNWAY, 160.0),
        ("image_to_video", {"model": "veo3.1_fast", "duration": 4, "audio": True}, RUNWAY, 60.0),
        ("image_to_video", {"model": "gen3a_turbo"}, COMETAPI, 25.0),  # CometAPI's default 5 s
        ("image_to_video", {"model": "seedance2", "duration": 5, "ratio": "1920:1080"}, RUNWAY, 200.0),
        ("image_to_video", {"model": "seedance2_mini", "duration": 2}, RUNWAY, 64.0),  # the minimum
        ("image_to_video", {"model": "gemini_omni_flash", "duration": 3}, RUNWAY, 31.0),  # + first frame
        ("text_to_image", {"model": "gen4_image_turbo", "outputCount": 1}, RUNWAY, 2.0),
        ("text_to_image", {"model": "gemini_image3_pro", "outputCount": 4, "ratio": "4096:4096"}, RUNWAY, 160.0),
        ("text_to_speech", {"model": "eleven_multilingual_v2", "promptText": "a" * 101}, RUNWAY, 3.0),
    ],
)
def test_estimates_follow_the_catalog_prices(endpoint: str, body: dict[str, Any], flavor: str, credits: float) -> None:
    estimate = estimate_credits(endpoint, body, flavor)
    assert isinstance(estimate, CreditEstimate)
    assert estimate.known and estimate.credits == credits, estimate.basis


def test_estimate_basis_reads_as_arithmetic_and_names_the_assumption() -> None:
    given = estimate_credits("image_to_video", {"model": "gen4_turbo", "duration": 5}, RUNWAY)
    assert given.basis.startswith("gen4_turbo: 5 s x 5 credits/s; price verified, checked ")
    assumed = estimate_credits("image_to_video", {"model": "gen4_turbo"}, RUNWAY)
    assert assumed.credits == 50.0 and "the longest assumed" in assumed.basis
    comet = estimate_credits("image_to_video", {"model": "gen3a_turbo"}, COMETAPI)
    assert "the API default" in comet.basis and "CometAPI bills its own" in comet.basis


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("image_to_video", {"model": "gen9_hyper"}),
        ("video_to_video", {"model": "aleph2", "videoUri": VIDEO}),  # output follows the input video
        ("text_to_image", {"model": "gpt_image_2"}),  # price not verified
        ("future_thing", {"model": "x"}),
    ],
)
def test_unknown_prices_are_said_to_be_unknown(endpoint: str, body: dict[str, Any]) -> None:
    estimate = estimate_credits(endpoint, body, RUNWAY)
    assert estimate.credits is None and not estimate.known and estimate.basis


def test_cometapis_seed_limit_is_its_image_to_video_rule_only() -> None:
    # CometAPI documents seed 0-999999999 on its image_to_video page; other endpoints take the API's range.
    body = {"character": {"type": "image", "uri": "https://a.com/i.png"}, "seed": 1_000_000_000}
    body["reference"] = {"type": "video", "uri": "https://a.com/v.mp4"}
    validate_body({"model": "act_two", **body}, COMETAPI, "character_performance")
    with pytest.raises(InvalidRequestError, match=r"seed: must be between 0 and 999999999 .*got 1000000000"):
        validate_body({"promptImage": "https://a.com/i.png", "model": "gen3a_turbo", "seed": 1_000_000_000}, COMETAPI)
