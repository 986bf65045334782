"""The emulator's MP4 renderer, checked with the very ffmpeg binary that imageio-ffmpeg bundles.

Tests that encode need the optional ``video`` extra and skip cleanly without it; the pure ones
(sizes, argument checks, the missing-extra error) always run.
"""

from __future__ import annotations

import logging
import struct
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from runway_emulator.video import (
    VideoUnavailableError,
    generated_picture,
    output_size,
    placeholder_picture,
    render_mp4,
    render_png,
)

from tests.emulator.support import duration_of, first_frame_mean_rgb, frame_size, make_png, media_info

if TYPE_CHECKING:
    from pathlib import Path


def top_level_boxes(mp4: bytes) -> list[bytes]:
    boxes, offset = [], 0
    while offset + 8 <= len(mp4):
        size, kind = struct.unpack(">I4s", mp4[offset : offset + 8])
        boxes.append(kind)
        if size < 8:  # 0 = "to end of file", 1 = 64-bit size: neither is used by ffmpeg here
            break
        offset += size
    return boxes


def probe(ffmpeg: str, mp4: bytes, tmp_path: Path) -> str:
    """Decode the whole file with ffmpeg; return its stream description (stderr)."""
    path = tmp_path / "out.mp4"
    path.write_bytes(mp4)
    proc = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def assert_playable(ffmpeg: str, mp4: bytes, tmp_path: Path, size: tuple[int, int], duration_s: float) -> None:
    boxes = top_level_boxes(mp4)
    assert boxes[0] == b"ftyp"
    assert boxes.index(b"moov") < boxes.index(b"mdat"), "faststart: moov must precede mdat"
    info = probe(ffmpeg, mp4, tmp_path)
    assert "Video: h264" in info
    assert "yuv420p" in info
    assert frame_size(info) == size
    assert duration_of(info) == pytest.approx(duration_s, abs=0.15)


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        ("1280:720", (320, 180)),
        ("720:1280", (180, 320)),
        ("960:960", (320, 320)),
        ("1104:832", (320, 242)),
        ("832:1104", (242, 320)),
        ("1584:672", (320, 136)),
        ("1280:768", (320, 192)),
        (" 16 : 9 ", (320, 180)),
        ("1:1000", (2, 320)),
    ],
)
def test_output_size(ratio: str, expected: tuple[int, int]) -> None:
    assert output_size(ratio) == expected


def test_output_size_other_longest_side_is_even() -> None:
    assert output_size("1280:720", longest_side=640) == (640, 360)
    assert output_size("1280:720", longest_side=101) == (100, 56)
    for ratio in ("1104:832", "1584:672", "3:7", "1000:999"):
        assert all(side % 2 == 0 and side > 0 for side in output_size(ratio, longest_side=99))


@pytest.mark.parametrize("ratio", ["", "1280x720", "1280:", "0:720", "-1:2", "a:b", "1:2:3"])
def test_output_size_rejects_malformed_ratios(ratio: str) -> None:
    with pytest.raises(ValueError, match="ratio"):
        output_size(ratio)


@pytest.mark.parametrize("duration", [0, -1, float("nan"), float("inf")])
def test_render_rejects_bad_duration(duration: float) -> None:
    with pytest.raises(ValueError, match="duration"):
        render_mp4(None, label="x", ratio="1280:720", duration_s=duration)


def test_missing_extra_raises_video_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # makes `import imageio_ffmpeg` fail
    with pytest.raises(VideoUnavailableError, match="video"):
        render_mp4(None, label="x", ratio="1280:720", duration_s=5)


def test_generated_picture_is_deterministic_per_label() -> None:
    picture = generated_picture("task-1")
    assert picture.startswith(b"P6\n")
    assert picture == generated_picture("task-1")
    assert picture != generated_picture("task-2")


@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize(("ratio", "duration"), [("1280:720", 5), ("720:1280", 10), ("960:960", 2.5)])
def test_png_becomes_playable_h264(ffmpeg: str, tmp_path: Path, ratio: str, duration: float, alpha: bool) -> None:
    png = make_png(96, 64, (220, 30, 30), alpha=alpha)
    mp4 = render_mp4(png, label="task-png", ratio=ratio, duration_s=duration)
    assert_playable(ffmpeg, mp4, tmp_path, output_size(ratio), duration)
    # The picture really came from the input image, not from the fallback.
    red, green, blue = first_frame_mean_rgb(ffmpeg, mp4)
    assert red > 180 and green < 70 and blue < 70


def test_no_image_renders_generated_picture(ffmpeg: str, tmp_path: Path) -> None:
    mp4 = render_mp4(None, label="task-none", ratio="1280:720", duration_s=5)
    assert_playable(ffmpeg, mp4, tmp_path, (320, 180), 5)
    assert mp4 == render_mp4(None, label="task-none", ratio="1280:720", duration_s=5)


def test_undecodable_image_falls_back_to_generated_picture(
    ffmpeg: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = b"definitely not an image \x00\x01\x02" * 50
    with caplog.at_level(logging.WARNING, logger="runway_emulator.video"):
        mp4 = render_mp4(garbage, label="task-garbage", ratio="720:1280", duration_s=5)
    assert_playable(ffmpeg, mp4, tmp_path, (180, 320), 5)
    assert "could not be decoded" in caplog.text
    assert "definitely" not in caplog.text  # the client's bytes are never logged
    assert mp4 == render_mp4(None, label="task-garbage", ratio="720:1280", duration_s=5)


def test_truncated_png_falls_back(ffmpeg: str, tmp_path: Path) -> None:
    png = make_png(96, 64, (220, 30, 30))
    mp4 = render_mp4(png[:40], label="task-truncated", ratio="1280:720", duration_s=5)
    assert_playable(ffmpeg, mp4, tmp_path, (320, 180), 5)


def test_placeholder_is_a_magenta_checkerboard() -> None:
    picture = placeholder_picture()
    header, _, pixels = picture.partition(b"255\n")
    assert header.startswith(b"P6\n")
    colours = {pixels[i : i + 3] for i in range(0, len(pixels), 3)}
    assert colours == {b"\xff\x00\xff", b"\x00\x00\x00"}


@pytest.mark.parametrize("ratio", ["1280:768", "768:1280"])
def test_captioned_placeholder_video(ffmpeg: str, tmp_path: Path, ratio: str) -> None:
    caption = "EMULATOR PLACEHOLDER - remote image not fetched"
    mp4 = render_mp4(None, label="task-remote", ratio=ratio, duration_s=2, caption=caption)
    assert_playable(ffmpeg, mp4, tmp_path, output_size(ratio), 2)
    red, green, blue = first_frame_mean_rgb(ffmpeg, mp4)
    assert red > 90 and blue > 90 and green < 60  # magenta and black, a little white caption
    assert mp4 != render_mp4(None, label="task-remote", ratio=ratio, duration_s=2)  # not the plain gradient


@pytest.mark.parametrize(("ratio", "size"), [("1280:720", (320, 180)), ("720:1280", (180, 320))])
def test_png_output(ffmpeg: str, ratio: str, size: tuple[int, int]) -> None:
    png = render_png(make_png(96, 64, (220, 30, 30)), label="task-image", ratio=ratio)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    info = media_info(ffmpeg, png, suffix=".png")
    assert "Video: png" in info and frame_size(info) == size
    red, green, blue = first_frame_mean_rgb(ffmpeg, png)
    assert red > 180 and green < 70 and blue < 70
