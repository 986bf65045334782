"""Finding a body's media inputs through the SDK's request types, and the https stand-ins that let
the emulator's own output URLs through the URI rule. Pure: no server."""

from __future__ import annotations

from runway_emulator.inputs import stand_in_own_outputs
from runway_emulator.mediarefs import MediaRef, media_refs
from runway_emulator.oracle import check_body

A, B, C = "https://e.com/a.png", "https://e.com/b.png", "https://e.com/c.mp4"


def test_key_frames_first_frame_first() -> None:
    frames = [{"uri": B, "position": "last"}, {"uri": A, "position": "first"}]
    body = {"model": "veo3.1", "promptImage": frames, "ratio": "1280:720"}
    assert media_refs("image_to_video", "runway", body) == [MediaRef("image", A), MediaRef("image", B)]


def test_nested_and_typed_media() -> None:
    act_two = {"model": "act_two", "character": {"type": "video", "uri": C}, "reference": {"type": "video", "uri": A}}
    assert media_refs("character_performance", "runway", act_two) == [MediaRef("video", C), MediaRef("video", A)]
    keyframes = {"model": "aleph2", "videoUri": C, "keyframes": [{"at": 0.5, "uri": A}]}
    assert media_refs("video_to_video", "runway", keyframes) == [MediaRef("video", C), MediaRef("image", A)]
    voice = {"model": "seed_audio", "promptText": "hi", "voice": {"type": "reference-audio", "audioUri": C}}
    assert media_refs("text_to_speech", "runway", voice) == [MediaRef("audio", C)]
    speech = {"model": "gwm1_avatars", "avatar": {"type": "custom", "avatarId": "x"}, "speech": {"type": "audio",
              "audio": C}}  # fmt: skip
    assert media_refs("avatar_videos", "runway", speech) == [MediaRef("audio", C)]


def test_loosely_typed_and_router_inputs() -> None:
    # hailuo3 types promptImage as ``str | Iterable[object]``: its name says what it holds.
    loose = {"model": "hailuo3", "promptText": "x", "promptImage": [{"uri": A}, {"uri": B, "position": "first"}]}
    assert media_refs("image_to_video", "runway", loose) == [MediaRef("image", B), MediaRef("image", A)]
    routed = {"configId": "r", "input": {"referenceVideos": [{"role": "source", "uri": C}]}}
    assert media_refs("generate/video", "runway", routed) == [MediaRef("video", C)]


def test_own_output_urls_pass_the_uri_rule_as_stand_ins() -> None:
    base = "http://127.0.0.1:8765"
    own = f"{base}/_emulator/outputs/0b5f1a52-6c1e-4ad0-9a53-3b1f3f0f2a11.png?exp=1&sig=ab"
    body = {"model": "gen4_turbo", "promptImage": own, "ratio": "1280:720", "promptText": A}
    checked = stand_in_own_outputs(body, base)
    assert checked["promptImage"].startswith("https://") and checked["promptText"] == A
    check_body("image_to_video", "runway", checked)  # the http://127.0.0.1 URL itself would be refused
    assert body["promptImage"] == own  # the task keeps the body as sent
