"""Real, playable pictures and videos for the local emulator, made from each task's input image.

Runway returns an MP4 URL for every finished video task (an image for image tasks). The emulator
serves a genuine H.264 file (yuv420p, ``+faststart``), a ProRes .mov, an image sequence (PNG or
half-float OpenEXR frames) or a PNG/JPEG/WebP still instead of a placeholder file, so that
downstream tasks which download, probe or transcode the output exercise real media, without
paying for a real generation.

The video is deliberately small (longer side 320 px, in the requested ratio, 10 fps, fast x264
preset, one thread) so that one render takes well under a second or two of CPU: the emulator
must stay cheap in tests. A slow zoom and pan makes it look like a video rather than a still.

When the input could not be used as given (a remote URL the emulator does not fetch), the
picture is a magenta-and-black checkerboard with a caption: impossible to mistake for a
real result. The caption needs a font (ffmpeg's drawtext via fontconfig); without one the
checkerboard alone marks it.

ffmpeg comes from the optional ``video`` extra (``imageio-ffmpeg``, which bundles a static
binary), run through ``ffmpeg.py``; importing this module costs nothing without the extra.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable
from typing import TypeVar

from runway_emulator import ffmpeg
from runway_emulator.ffmpeg import VideoUnavailableError

T = TypeVar("T")

log = logging.getLogger(__name__)

FPS = 10
SEQUENCE_FPS = 2  # image sequences: few frames, so a zip of EXR frames stays small
LONGEST_SIDE = 320
ZOOM = 0.12  # total zoom over the clip: gentle enough to look like a slow camera move
# Zoompan crops whole input pixels; working on a 3x larger picture hides the stair-stepping.
_OVERSAMPLE = 3
_GRID = 6  # the generated picture is a tiny colour grid that ffmpeg smooths when scaling up
_CHECKER_SQUARES, _CHECKER_PX = 8, 16
_RATIO = re.compile(r"^\s*(\d{1,6})\s*:\s*(\d{1,6})\s*$")
_MP4_ARGS = [
    "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-profile:v", "main",
    "-pix_fmt", "yuv420p", "-x264-params", "threads=1:log-level=error", "-movflags", "+faststart", "-f", "mp4",
]  # fmt: skip
_MOV_ARGS = ["-an", "-c:v", "prores_ks", "-profile:v", "0", "-pix_fmt", "yuv422p10le", "-threads", "1", "-f", "mov"]
STILL_ARGS = {
    "png": ["-frames:v", "1", "-f", "image2", "-c:v", "png"],
    "jpg": ["-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-q:v", "4"],
    "webp": ["-frames:v", "1", "-f", "webp", "-c:v", "libwebp"],
}
# frame file extension -> ffmpeg's arguments for one frame file (half-float EXR, as Runway's HDR sequences)
FRAME_ARGS = {
    "png": ["-c:v", "png"],
    "exr": ["-c:v", "exr", "-format", "half", "-compression", "zip1", "-pix_fmt", "gbrpf32le"],
}


def output_size(ratio: str, longest_side: int = LONGEST_SIDE) -> tuple[int, int]:
    """Pure: scale W:H down so the longer side is longest_side, both even.

    H.264 in yuv420p needs even dimensions, hence the rounding to multiples of two (and at
    least 2, so that extreme ratios still produce a valid frame).
    """
    match = _RATIO.match(ratio)
    if match is None:
        raise ValueError(f"ratio must look like 'W:H', got {ratio!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if width <= 0 or height <= 0:
        raise ValueError(f"ratio sides must be positive, got {ratio!r}")
    if longest_side < 2:
        raise ValueError(f"longest_side must be at least 2, got {longest_side}")
    scale = longest_side / max(width, height)

    def even(value: float) -> int:
        return max(2, 2 * math.floor(value / 2 + 0.5))

    return min(even(width * scale), longest_side // 2 * 2), min(even(height * scale), longest_side // 2 * 2)


def generated_picture(label: str) -> bytes:
    """A small binary PPM whose colours derive from a hash of ``label``.

    Used when there is no input image or it cannot be decoded, so every task still gets a
    distinct, deterministic video. PPM needs no imaging library and every ffmpeg reads it; the
    grid is tiny because ffmpeg's bicubic upscaling turns it into soft colour blobs, which
    gives the zoom and pan something visible to move over.
    """
    digest = hashlib.shake_256(label.encode("utf-8")).digest(6 + _GRID * _GRID)
    start, end = digest[0:3], digest[3:6]
    jitter = digest[6:]
    pixels = bytearray()
    for y in range(_GRID):
        for x in range(_GRID):
            t = (x + y) / (2 * (_GRID - 1))
            j = jitter[y * _GRID + x] - 128
            for a, b in zip(start, end, strict=True):
                value = a + (b - a) * t + j * 0.5
                pixels.append(max(0, min(255, round(value))))
    return b"P6\n%d %d\n255\n" % (_GRID, _GRID) + bytes(pixels)


def placeholder_picture() -> bytes:
    """A magenta-and-black checkerboard PPM: the universal "this is not your picture" mark."""
    side = _CHECKER_SQUARES * _CHECKER_PX
    row_pixels = []
    for y in range(side):
        row = bytearray()
        for x in range(side):
            magenta = (x // _CHECKER_PX + y // _CHECKER_PX) % 2 == 0
            row += b"\xff\x00\xff" if magenta else b"\x00\x00\x00"
        row_pixels.append(bytes(row))
    return b"P6\n%d %d\n255\n" % (side, side) + b"".join(row_pixels)


def _caption_filters(caption: str, width: int) -> list[str]:
    """drawtext, one filter per line, centred on a dark band."""
    size = max(8, width // 14)
    lines = [part.strip() for part in caption.split(" - ")]
    filters = []
    for index, line in enumerate(lines):
        offset = f"(h-{len(lines)}*(th+6))/2+{index}*(th+6)"
        filters.append(
            f"drawtext=text='{line}':fontcolor=white:fontsize={size}:box=1:boxcolor=black@0.8:boxborderw=3"
            f":x=(w-tw)/2:y={offset}"
        )
    return filters


def _filtergraph(
    width: int, height: int, frames: int, *, crisp: bool, caption: str | None, fps: int = FPS, pixels: str = "yuv420p"
) -> str:
    """Cover-crop to the target ratio, then a slow zoom-in while drifting left to right."""
    # Oversampling only pays off for small frames; large ones (upscales) would just be slow.
    factor = max(1, _OVERSAMPLE * LONGEST_SIDE // max(width, height))
    big_w, big_h = width * factor, height * factor
    last = max(frames - 1, 1)
    steps = [
        "trim=end_frame=1",  # animated GIFs or videos: keep the first frame only
        f"scale={big_w}:{big_h}:force_original_aspect_ratio=increase:flags={'neighbor' if crisp else 'bicubic'}",
        f"crop={big_w}:{big_h}",
        f"zoompan=z='1+{ZOOM}*on/{last}'"
        f":x='(iw-iw/zoom)*(0.25+0.5*on/{last})':y='(ih-ih/zoom)/2'"
        f":d={frames}:s={width}x{height}:fps={fps}",
    ]
    if caption:
        steps += _caption_filters(caption, width)
    steps.append(f"format={pixels}")
    return ",".join(steps)


def _render(
    image: bytes | None,
    label: str,
    caption: str | None,
    graph: Callable[..., str],
    run: Callable[[list[str], bytes | None], tuple[T | None, str]],
) -> T:
    """The input image (or a video's first frame) if ffmpeg decodes it, else the generated
    (or placeholder) picture. ``graph(crisp=, caption=)`` builds the filtergraph, ``run`` runs ffmpeg."""
    if image:
        data, complaint = run(["-vf", graph(crisp=False, caption=None)], image)
        if data is not None:
            return data
        # The bytes are the client's; only their size is worth logging.
        log.warning("Input image (%d bytes) could not be decoded; rendering a generated picture", len(image))
        log.debug("ffmpeg said: %s", complaint)
    picture = placeholder_picture() if caption else generated_picture(label)
    data, complaint = run(["-vf", graph(crisp=bool(caption), caption=caption)], picture)
    if data is None and caption:
        log.debug("caption not drawn (no font for drawtext?): %s", complaint)
        data, complaint = run(["-vf", graph(crisp=True, caption=None)], picture)
    if data is None:
        raise VideoUnavailableError(f"ffmpeg failed to encode: {complaint}")
    return data


def _one_file(output_args: list[str]) -> Callable[[list[str], bytes | None], tuple[bytes | None, str]]:
    return lambda inputs, data: ffmpeg.run(inputs, data, output_args)


def _frames_count(duration_s: float, fps: int) -> int:
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration_s must be a positive number, got {duration_s!r}")
    return max(1, round(duration_s * fps))


def render_mp4(
    image: bytes | None,
    *,
    label: str,
    ratio: str,
    duration_s: float,
    caption: str | None = None,
    longest_side: int = LONGEST_SIDE,
    container: str = "mp4",
) -> bytes:
    """Encode an H.264 MP4 (``container="mov"``: a ProRes .mov) from image bytes (any format
    ffmpeg decodes: JPEG, PNG, WebP, GIF, or a video, whose first frame is used).

    image=None or undecodable bytes -> a generated picture instead (deterministic from `label`);
    with a ``caption`` (the input could not be used) -> the captioned placeholder checkerboard.
    ratio is "W:H" like "1280:720"; the longer side is ``longest_side`` px. Blocking and
    CPU-bound; callers run it in a thread. Raises ValueError for a malformed ratio or duration,
    VideoUnavailableError when the ``video`` extra is missing or ffmpeg cannot produce a file
    even from the generated picture.
    """
    width, height = output_size(ratio, longest_side)
    frames = _frames_count(duration_s, FPS)
    codec = _MOV_ARGS if container == "mov" else _MP4_ARGS

    def graph(*, crisp: bool, caption: str | None) -> str:
        return _filtergraph(width, height, frames, crisp=crisp, caption=caption)

    return _render(image, label, caption, graph, _one_file(["-frames:v", str(frames), *codec]))


def render_png(
    image: bytes | None,
    *,
    label: str,
    ratio: str,
    caption: str | None = None,
    longest_side: int = LONGEST_SIDE,
    kind: str = "png",
) -> bytes:
    """One still (``kind``: png, jpg or webp) in the requested ratio (longer side ``longest_side``).

    Same picture rules as ``render_mp4``; blocking, callers run it in a thread.
    """
    width, height = output_size(ratio, longest_side)
    if kind not in STILL_ARGS:
        raise ValueError(f"kind must be one of {', '.join(STILL_ARGS)}, got {kind!r}")

    def graph(*, crisp: bool, caption: str | None) -> str:
        return _filtergraph(width, height, 1, crisp=crisp, caption=caption)

    return _render(image, label, caption, graph, _one_file(STILL_ARGS[kind]))


def render_frames(
    image: bytes | None,
    *,
    label: str,
    ratio: str,
    duration_s: float,
    frame: str = "png",
    caption: str | None = None,
    longest_side: int = LONGEST_SIDE,
) -> list[tuple[str, bytes]]:
    """An image sequence, ``SEQUENCE_FPS`` frames per second, named ``frame.0001.<frame>``.

    ``frame`` is ``png`` or ``exr`` (half-float OpenEXR); same picture rules as ``render_mp4``.
    """
    width, height = output_size(ratio, longest_side)
    frames = _frames_count(duration_s, SEQUENCE_FPS)
    pixels = "gbrpf32le" if frame == "exr" else "rgb24"

    def graph(*, crisp: bool, caption: str | None) -> str:
        return _filtergraph(width, height, frames, crisp=crisp, caption=caption, fps=SEQUENCE_FPS, pixels=pixels)

    def run(inputs: list[str], data: bytes | None) -> tuple[list[tuple[str, bytes]] | None, str]:
        return ffmpeg.run_frames(inputs, data, ["-frames:v", str(frames), *FRAME_ARGS[frame]], f"frame.%04d.{frame}")

    return _render(image, label, caption, graph, run)
