"""Helpers shared by the emulator tests: request headers and bodies, waiting, probing media."""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_provider_runway.emulator.pytest_plugin import TEST_API_KEY

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


def make_png(width: int, height: int, rgb: tuple[int, int, int], alpha: bool = False) -> bytes:
    """A solid-colour PNG built with zlib and struct only (no Pillow in the test deps)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = bytes(rgb) + (b"\xff" if alpha else b"")
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


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
