"""Media inputs: URLs, data URIs and runway:// uploads (Runway's inputs page), and key-frame lists.

URI rules are model-independent: they apply to every model, known or not, and to lenient
requests too. Frame rules (which positions, whether first is needed, mixing) are the model's.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.runway.bodies import MAX_DATA_URI_CHARS, MAX_URL_CHARS, check_image_uri, validate_body
from airflow_provider_runway.runway.errors import InvalidRequestError
from airflow_provider_runway.runway.flavors import COMETAPI, FLAVORS, RUNWAY

URL = "https://images.example.com/cat.png"
PNG = "data:image/png;base64,iVBORw0KGgo="


def i2v(prompt_image: Any, model: str = "gen3a_turbo", **fields: Any) -> dict[str, Any]:
    extra = {"ratio": "1280:720"} if model in ("gen4_turbo", "veo3.1", "veo3.1_fast") else {}
    return {"model": model, "promptImage": prompt_image, **extra, **fields}


def refused(payload: dict[str, Any], flavor: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidRequestError) as info:
        validate_body(payload, flavor, **kwargs)
    return str(info.value)


def frame(position: str | None, uri: str = URL) -> dict[str, str]:
    return {"uri": uri} if position is None else {"uri": uri, "position": position}


def png_data_uri(total: int) -> str:
    """The longest valid ``data:image/png`` URI of at most ``total`` characters."""
    prefix = "data:image/png;base64,"
    return prefix + "A" * ((total - len(prefix)) // 4 * 4)


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("uri", [URL, "https://example.com", "https://example.com:8443/a.png?x=1#f"])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_https_domain_urls_are_accepted(flavor: str, uri: str) -> None:
    assert validate_body(i2v(uri, "veo3.1"), flavor).body["promptImage"] == uri


@pytest.mark.parametrize(
    "uri", ["http://example.com/a.png", "ftp://example.com/a", "example.com/a.png", "https:///a.png", "HTTP://e.com/a"]
)
def test_non_https_urls_are_refused(uri: str) -> None:
    assert refused(i2v(uri), COMETAPI).startswith("prompt_image (promptImage): must be an https:// URL")


@pytest.mark.parametrize("uri", ["https://192.168.0.10/a.png", "https://[::1]/a.png", "https://8.8.8.8:443/a"])
def test_ip_address_urls_are_refused(uri: str) -> None:
    assert "domain name, not an IP address" in refused(i2v(uri), RUNWAY, lenient=True)


def test_url_length_limit_is_2048_characters() -> None:
    base = "https://example.com/"
    exact = base + "a" * (MAX_URL_CHARS - len(base))
    assert len(exact) == 2048 and validate_body(i2v(exact), COMETAPI).body["promptImage"] == exact
    assert "2049 characters; at most 2048 allowed" in refused(i2v(exact + "a"), COMETAPI)


@pytest.mark.parametrize("uri", ["https://[::1/a.png", "https://[not-an-ip]/a.png"])
def test_malformed_urls_name_the_field(uri: str) -> None:
    assert refused(i2v(uri), COMETAPI).startswith("prompt_image (promptImage):")


# --------------------------------------------------------------------------- runway:// and data URIs


def test_runway_uploads_work_only_with_runway() -> None:
    upload = "runway://uploads/abc123"
    assert validate_body(i2v(upload, "veo3.1"), RUNWAY).body["promptImage"] == upload
    assert "only with flavor 'runway'" in refused(i2v(upload), COMETAPI)


@pytest.mark.parametrize("subtype", ["png", "jpeg", "jpg", "webp", "PNG"])
def test_data_uri_image_types_runway_accepts(subtype: str) -> None:
    uri = f"data:image/{subtype};base64,iVBORw0KGgo="
    assert validate_body(i2v(uri), COMETAPI).body["promptImage"] == uri


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("data:image/gif;base64,R0lGODlh", "image/gif is not accepted; allowed: image/jpeg"),
        ("data:image/svg+xml;base64,AAAA", "image/svg+xml is not accepted"),
        ("data:text/plain;base64,aGk=", "data:image/<type>;base64,<data>"),
        ("data:video/mp4;base64,AAAA", "data:image/<type>;base64,<data>"),
        ("data:image/png,AAAA", "data:image/<type>;base64,<data>"),
        ("data:image/png;base64,@@@@", "not valid base64"),
        ("data:image/png;base64,AAA", "not valid base64"),
    ],
)
def test_bad_data_uris_are_refused_whatever_the_model(uri: str, fragment: str) -> None:
    assert fragment in refused({"model": "gen9_hyper", "promptImage": uri}, RUNWAY)


def test_image_data_uri_limit_is_5_mib() -> None:
    assert MAX_DATA_URI_CHARS == 5 * 1024 * 1024
    largest = png_data_uri(MAX_DATA_URI_CHARS)
    assert validate_body(i2v(largest), COMETAPI).body["promptImage"] is largest
    message = refused(i2v(largest + "AAAA"), COMETAPI)
    assert f"{len(largest) + 4} characters; at most {MAX_DATA_URI_CHARS} (5 MiB)" in message


def test_video_data_uri_limit_is_16_mib() -> None:
    prefix = "data:video/mp4;base64,"
    video = prefix + "A" * ((16 * 1024 * 1024 - len(prefix)) // 4 * 4)
    payload = {"model": "magnific_video_upscaler_creative", "videoUri": video}
    assert validate_body(payload, RUNWAY, "video_upscale").body["videoUri"] is video
    assert "(16 MiB)" in refused({**payload, "videoUri": video + "AAAA"}, RUNWAY, endpoint="video_upscale")


@pytest.mark.parametrize("value", [123, {"uri": URL}, ("https://example.com/a.png",), b"https://e.com/a"])
def test_prompt_image_of_the_wrong_type_is_refused(value: Any) -> None:
    assert "non-empty string" in refused(i2v(value), RUNWAY, lenient=True)


@pytest.mark.parametrize("value", ["<absent>", None, "", []])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_prompt_image_is_required(flavor: str, value: Any) -> None:
    payload = i2v(value, "veo3.1")
    if value == "<absent>":
        del payload["promptImage"]
    assert refused(payload, flavor).startswith("prompt_image (promptImage): is required")


def test_check_image_uri_labels_errors_with_the_given_wire_name() -> None:
    with pytest.raises(InvalidRequestError, match=r"^some_field \(someField\): must be an https:// URL"):
        check_image_uri("http://example.com/a.png", FLAVORS[COMETAPI], wire="someField")
    check_image_uri(URL, FLAVORS[COMETAPI])


# --------------------------------------------------------------------------- key frames per model


@pytest.mark.parametrize("model", ["veo3.1", "veo3.1_fast"])
def test_veo31_takes_a_last_frame_with_a_first_one(model: str) -> None:
    both = [frame("last"), frame("first", PNG)]
    assert validate_body(i2v(both, model), RUNWAY).body["promptImage"] == both
    assert f"model {model} needs a 'first' frame" in refused(i2v([frame("last")], model), RUNWAY)


@pytest.mark.parametrize("model", ["gen4_turbo", "gen4.5", "happyhorse_1_0", "gemini_omni_flash"])
def test_first_frame_only_models_refuse_a_last_frame(model: str) -> None:
    payload = i2v([frame("first"), frame("last")], model, promptText="a cat", duration=5)
    assert f"position must be one of: first for model {model}" in refused(payload, RUNWAY, lenient=False)


def test_gen3a_turbo_takes_first_and_last_frames_through_cometapi() -> None:
    for frames in ([frame("first")], [frame("last")], [frame("first"), frame("last")]):
        assert validate_body(i2v(frames), COMETAPI).body["promptImage"] == frames


@pytest.mark.parametrize("model", ["seedance2", "seedance2_fast", "seedance2_mini"])
def test_seedance_takes_key_frames_or_references_but_not_both(model: str) -> None:
    keyframes = [frame("first"), frame("last")]
    references = [frame(None), frame(None, PNG), frame(None)]
    assert validate_body(i2v(keyframes, model), RUNWAY).body["promptImage"] == keyframes
    assert validate_body(i2v(references, model), RUNWAY).body["promptImage"] == references
    assert "key frames (with position) or reference images (without), not both" in refused(
        i2v([frame("first"), frame(None)], model), RUNWAY
    )


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ([frame("first"), frame("first")], "each position may appear once"),
        ([frame("middle")], "position must be one of: first, last"),
        ([frame(None)], "each frame needs a position (first, last)"),
        ([{"uri": URL, "position": "first", "extra": 1}], "has unknown keys extra"),
        ([URL], 'must be {"uri": ..., "position": "first"|"last"}'),
        ([frame("first", "http://example.com/a.png")], "promptImage[0].uri: must be an https:// URL"),
        ([frame("first", "")], "promptImage[0].uri: must be a non-empty string"),
    ],
)
def test_bad_frame_lists_are_refused_naming_the_field(frames: list[Any], fragment: str) -> None:
    message = refused(i2v(frames), COMETAPI)
    assert message.startswith("prompt_image (promptImage):") and fragment in message


def test_reference_audio_needs_a_prompt_and_audio_uris() -> None:
    clip = {"type": "audio", "uri": "https://media.example.com/a.mp3"}
    ok = i2v(URL, "seedance2", referenceAudio=[clip], promptText="sing")
    assert validate_body(ok, RUNWAY).body["referenceAudio"] == [clip]
    assert "needs promptText as well" in refused(i2v(URL, "seedance2", referenceAudio=[clip]), RUNWAY)
    wrong = {"type": "video", "uri": "https://media.example.com/a.mp4"}
    assert "type 'video' is not allowed" in refused({**ok, "referenceAudio": [wrong]}, RUNWAY)
    audio_uri = {"type": "audio", "uri": "data:image/png;base64,AAAA"}
    assert "data:audio/<type>;base64" in refused({**ok, "referenceAudio": [audio_uri]}, RUNWAY, lenient=True)


# --------------------------------------------------------------------------- contentModeration


@pytest.mark.parametrize("value", [{"publicFigureThreshold": "auto"}, {"publicFigureThreshold": "low"}, {}])
def test_content_moderation_accepted(value: dict[str, str]) -> None:
    assert validate_body(i2v(URL, contentModeration=value), COMETAPI).body["contentModeration"] == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"publicFigureThreshold": "high"}, "contentModeration.publicFigureThreshold: 'high' is not allowed"),
        ({"publicFigureThreshold": "auto", "other": 1}, "does not take contentModeration.other"),
        ("auto", "must be an object, got str"),
        (["auto"], "must be an object, got list"),
    ],
)
def test_content_moderation_refused(value: Any, fragment: str) -> None:
    message = refused(i2v(URL, contentModeration=value), COMETAPI)
    assert message.startswith("content_moderation (contentModeration):") and fragment in message


def test_the_image_types_read_from_files_are_the_ones_the_catalog_lets_through() -> None:
    # A file is sent as a data URI of its sniffed type: each accepted type must pass the catalog's check.
    from airflow_provider_runway.media.inputs import ACCEPTED
    from airflow_provider_runway.runway.catalog import load_catalog

    allowed = set(load_catalog().media["image"].data_uri_types)
    assert {media_type.split("/", 1)[1] for media_type in ACCEPTED["image"]} <= allowed
