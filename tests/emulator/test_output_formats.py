"""Outputs in the format a body asks for (``outputFormat``/``format``), each a real file of its kind,
served with its media type: ProRes .mov, zips of PNG or OpenEXR frames, JPEG/WebP stills, Ogg/FLAC
audio."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator.flows import finish
from tests.emulator.support import IMAGE, frame_size, media_info

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration

GEN45 = {"model": "gen4.5", "promptImage": IMAGE, "promptText": "a slow pan", "ratio": "1280:720", "duration": 2}


def download(
    http: requests.Session, emu: EmulatorHandle, endpoint: str, body: dict[str, Any], extension: str, media_type: str
) -> bytes:
    task = finish(http, emu, endpoint, "runway", body)
    [url] = task["output"]
    assert url.split("?")[0].endswith(f"/{task['id']}.{extension}")
    resp = http.get(url)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == media_type
    return resp.content


def test_prores_is_a_mov(runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str) -> None:
    data = download(
        http, runway_emulator, "image_to_video", {**GEN45, "outputFormat": "prores"}, "mov", "video/quicktime"
    )
    info = media_info(ffmpeg, data, suffix=".mov")
    assert data[4:8] == b"ftyp" and "Video: prores" in info, info
    assert frame_size(info) == (320, 180)


@pytest.mark.parametrize("requested", ["png_sequence", "hdr_png_sequence"])
def test_png_sequences_are_zips_of_png_frames(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, requested: str
) -> None:
    body = {key: value for key, value in GEN45.items() if key != "promptImage"}
    data = download(
        http, runway_emulator, "text_to_video", {**body, "outputFormat": requested}, "zip", "application/zip"
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        frames = [n for n in names if n.endswith(".png")]
        assert frames == [f"frame.{i:04d}.png" for i in range(1, 5)]  # 2 s at 2 frames per second
        first = archive.read(frames[0])
        assert ("colorimetry.json" in names) == (requested == "hdr_png_sequence")
    assert first.startswith(b"\x89PNG") and frame_size(media_info(ffmpeg, first, suffix=".png")) == (320, 180)


def test_hdr_exr_sequence_of_video_to_hdr(runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str) -> None:
    body = {"model": "ruby", "videoUri": "https://example.com/clip.mp4", "outputFormat": "hdr_exr_sequence"}
    data = download(http, runway_emulator, "video_to_hdr", body, "zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        frames = sorted(n for n in archive.namelist() if n.endswith(".exr"))
        exr = archive.read(frames[0])
        colorimetry = json.loads(archive.read("colorimetry.json"))
    assert len(frames) == 10  # no duration: 5 s (the default), 2 frames per second
    assert exr[:4] == b"\x76\x2f\x31\x01"  # OpenEXR's magic number
    assert "Video: exr" in media_info(ffmpeg, exr, suffix=".exr")
    assert (colorimetry["outputFormat"], colorimetry["transfer"]) == ("hdr_exr_sequence", "linear")


@pytest.mark.parametrize(
    ("model", "ratio", "requested", "extension", "media_type", "signature"),
    [
        ("muse_image", "1600:1600", "jpeg", "jpg", "image/jpeg", b"\xff\xd8\xff"),
        ("muse_image", "1600:1600", "webp", "webp", "image/webp", b"RIFF"),
        ("seedream5_lite", "2048:2048", "png", "png", "image/png", b"\x89PNG"),
    ],
)
def test_stills_in_the_requested_format(
    runway_emulator: EmulatorHandle,
    http: requests.Session,
    model: str,
    ratio: str,
    requested: str,
    extension: str,
    media_type: str,
    signature: bytes,
) -> None:
    body = {"model": model, "promptText": "a lighthouse", "ratio": ratio, "outputFormat": requested}
    assert download(http, runway_emulator, "text_to_image", body, extension, media_type).startswith(signature)


@pytest.mark.parametrize(
    ("endpoint", "body", "extension", "media_type", "codec"),
    [
        ("sound_effect", {"model": "seed_audio", "promptText": "a bell", "outputFormat": "ogg_opus"}, "ogg",
         "audio/ogg", "Audio: opus"),
        ("sound_effect", {"model": "seed_audio", "promptText": "a bell", "outputFormat": "wav"}, "wav",
         "audio/wav", "Audio: pcm_s16le"),
        ("text_to_speech", {"model": "seed_audio", "promptText": "Hello", "outputFormat": "wav"}, "wav",
         "audio/wav", "Audio: pcm_s16le"),
        ("sound_effect", {"model": "mirelo_sfx_2_0", "promptText": "rain", "duration": 2, "format": "flac"}, "flac",
         "audio/flac", "Audio: flac"),
    ],
)  # fmt: skip
def test_audio_in_the_requested_format(
    runway_emulator: EmulatorHandle,
    http: requests.Session,
    ffmpeg: str,
    endpoint: str,
    body: dict[str, Any],
    extension: str,
    media_type: str,
    codec: str,
) -> None:
    data = download(http, runway_emulator, endpoint, body, extension, media_type)
    assert codec in media_info(ffmpeg, data, suffix=f".{extension}")
