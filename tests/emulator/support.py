"""Helpers shared by the emulator tests: request headers and bodies, waiting, probing media."""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway_emulator.pytest_plugin import TEST_API_KEY

VERSION = "2024-11-06"
IMAGE = "https://example.com/cat.jpg"
COMET = "/runwayml/v1"
RUNWAY = "/v1"


def headers(key: str = TEST_API_KEY, version: str | None = VERSION) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}"}
    if version is not None:
        out["X-Runway-Version"] = version
    return out


def comet_body(**extra: Any) -> dict[str, Any]:
    return {"promptImage": IMAGE, "model": "gen3a_turbo", **extra}


def runway_body(**extra: Any) -> dict[str, Any]:
    return {"promptImage": IMAGE, "model": "gen4_turbo", "ratio": "1280:720", **extra}


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def media_info(ffmpeg: str, data: bytes, suffix: str = ".mp4") -> str:
    """ffmpeg's description of a media file (``ffmpeg -i``'s stderr: codec, size, duration)."""
    with tempfile.TemporaryDirectory(prefix="emulator-test-") as tmp:
        path = Path(tmp) / f"media{suffix}"
        path.write_bytes(data)
        proc = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=60)
    return proc.stderr


def frame_size(info: str) -> tuple[int, int]:
    """(width, height) of the video stream in ``media_info`` output."""
    match = re.search(r"Video: .*?, (\d+)x(\d+)", info)
    assert match, info
    return int(match.group(1)), int(match.group(2))


def make_png(width: int, height: int, rgb: tuple[int, int, int], alpha: bool = False, comment: bytes = b"") -> bytes:
    """A solid-colour PNG built with zlib and struct only (no Pillow in the test deps).

    ``comment`` goes into a tEXt chunk: a way to make a file of a given size (uploads must be
    at least 512 bytes) that every decoder still reads as the same picture.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = bytes(rgb) + (b"\xff" if alpha else b"")
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\x00" + comment) if comment else b""
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def make_media(ffmpeg: str, source: str, output_args: list[str]) -> bytes:
    """A media file from one of ffmpeg's generated sources (``-f lavfi``), made independently of the emulator."""
    with tempfile.TemporaryDirectory(prefix="emulator-test-") as tmp:
        path = Path(tmp) / "out"
        cmd = [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", source, *output_args, "-y", str(path)]
        subprocess.run(cmd, capture_output=True, timeout=60, check=True)
        return path.read_bytes()


def make_mp4(ffmpeg: str, seconds: float, size: tuple[int, int], colour: str = "red") -> bytes:
    """An H.264 MP4 of one colour, its index at the end (no faststart), as most cameras write them."""
    source = f"color=c={colour}:s={size[0]}x{size[1]}:d={seconds}:r=10"
    return make_media(ffmpeg, source, ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mp4"])


def make_wav(ffmpeg: str, seconds: float) -> bytes:
    return make_media(ffmpeg, f"sine=frequency=440:duration={seconds}", ["-c:a", "pcm_s16le", "-f", "wav"])


def duration_of(info: str) -> float:
    """Length in seconds in ``media_info`` output."""
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", info)
    assert match, info
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def first_frame_mean_rgb(ffmpeg: str, data: bytes) -> tuple[float, float, float]:
    """Mean (R, G, B) of a media file's first frame, decoded by ffmpeg."""
    with tempfile.TemporaryDirectory(prefix="emulator-test-") as tmp:
        path = Path(tmp) / "media"
        path.write_bytes(data)
        cmd = [
            ffmpeg,
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]
        raw = subprocess.run(cmd, capture_output=True, timeout=60, check=True).stdout
    assert raw and len(raw) % 3 == 0
    count = len(raw) // 3
    return (sum(raw[0::3]) / count, sum(raw[1::3]) / count, sum(raw[2::3]) / count)


RED = (220, 30, 30)
INPUT_VIDEO_SIZE = (192, 108)
INPUT_SECONDS = 2.0
INPUT_AUDIO_SECONDS = 1.5


@dataclass(frozen=True)
class MediaInputs:
    """Input files made without the emulator: a red PNG (96x64), a red 2 s MP4 (192x108), a 1.5 s WAV."""

    png: bytes
    mp4: bytes
    wav: bytes

    @property
    def png_uri(self) -> str:
        return data_uri("image/png", self.png)

    @property
    def mp4_uri(self) -> str:
        return data_uri("video/mp4", self.mp4)

    @property
    def wav_uri(self) -> str:
        return data_uri("audio/wav", self.wav)


def make_inputs(ffmpeg: str) -> MediaInputs:
    return MediaInputs(
        png=make_png(96, 64, RED),
        mp4=make_mp4(ffmpeg, INPUT_SECONDS, INPUT_VIDEO_SIZE),
        wav=make_wav(ffmpeg, INPUT_AUDIO_SECONDS),
    )


def is_red(rgb: tuple[float, float, float]) -> bool:
    red, green, blue = rgb
    return red > 150 and green < 80 and blue < 80
