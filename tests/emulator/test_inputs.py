"""Finding a body's media inputs through the catalog's field types, and the https stand-ins that let
the emulator's own output URLs through validation. Pure: no server."""

from __future__ import annotations

from runway_emulator.inputs import (
    MediaRef,
    media_refs,
    restore_own_outputs,
    stand_in_own_outputs,
)
from airflow_provider_runway.models import validate_body

A, B, C = "https://e.com/a.png", "https://e.com/b.png", "https://e.com/c.mp4"


def test_key_frames_first_frame_first() -> None:
    frames = [{"uri": B, "position": "last"}, {"uri": A, "position": "first"}]
    assert media_refs("image_to_video", {"model": "veo3.1", "promptImage": frames}) == [
        MediaRef("image", A),
        MediaRef("image", B),
    ]


def test_nested_and_typed_media() -> None:
    act_two = {"model": "act_two", "character": {"type": "video", "uri": C}, "reference": {"type": "video", "uri": A}}
    assert media_refs("character_performance", act_two) == [MediaRef("video", C), MediaRef("video", A)]
    keyframes = {"model": "aleph2", "videoUri": C, "keyframes": [{"at": 0.5, "uri": A}]}
    assert media_refs("video_to_video", keyframes) == [MediaRef("video", C), MediaRef("image", A)]
    voice = {"model": "seed_audio", "promptText": "hi", "voice": {"type": "reference-audio", "audioUri": C}}
    assert media_refs("text_to_speech", voice) == [MediaRef("audio", C)]


def test_unknown_models_use_any_models_fields() -> None:
    body = {"model": "kling_4", "promptImage": A}  # listed by the SDK, fields not catalogued
    assert media_refs("image_to_video", body) == [MediaRef("image", A)]
    assert media_refs("no_such_endpoint", body) == []


def test_own_output_urls_pass_validation_as_stand_ins_and_come_back() -> None:
    base = "http://127.0.0.1:8765"
    own = f"{base}/_emulator/outputs/0b5f1a52-6c1e-4ad0-9a53-3b1f3f0f2a11.png?exp=1&sig=ab"
    body = {"model": "gen4_turbo", "promptImage": own, "ratio": "1280:720", "promptText": A}
    checked, originals = stand_in_own_outputs(body, base)
    assert checked["promptImage"].startswith("https://") and checked["promptText"] == A
    validated = validate_body(checked, "runway").body  # the http://127.0.0.1 URL itself would be refused
    assert restore_own_outputs(validated, originals)["promptImage"] == own
