"""Running the ffmpeg binary that the optional ``video`` extra bundles (``imageio-ffmpeg``).

Every medium the emulator makes or reads goes through here: one ffmpeg run per file, on one
thread (the emulator shares the CPU with the code under test), inputs written to a temporary
file rather than piped (an MP4 whose index sits at its end cannot be read from a pipe).
``probe`` reads a file's picture size and length from ffmpeg's own description of it.

``imageio_ffmpeg`` is imported lazily, so importing this module costs nothing without the extra.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 60.0
_SIZE = re.compile(r"Video: .*?, (\d{1,5})x(\d{1,5})")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


class VideoUnavailableError(RuntimeError):
    """The optional 'video' extra (imageio-ffmpeg) is not installed, or ffmpeg failed."""


@dataclass(frozen=True)
class Probe:
    """What ffmpeg says about a media file: picture size (None for audio) and length (None for stills)."""

    width: int | None
    height: int | None
    duration_s: float | None


def executable() -> str:
    """The bundled ffmpeg binary; ``VideoUnavailableError`` without the ``video`` extra."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise VideoUnavailableError(
            "MP4 rendering needs the optional 'video' extra: pip install 'runway-emulator[video]'"
        ) from exc
    try:
        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise VideoUnavailableError(f"imageio-ffmpeg found no ffmpeg binary: {exc}") from exc
    return exe


def _command(tmp: Path, inputs: list[str], data: bytes | None, output_args: list[str], out: Path) -> list[str]:
    cmd = [executable(), "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin"]
    cmd += ["-threads", "1", "-filter_threads", "1"]
    if data is not None:
        source = tmp / "in"
        source.write_bytes(data)
        cmd += ["-i", str(source)]
    return [*cmd, *inputs, *output_args, "-y", str(out)]


def _complaint(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stderr.decode("utf-8", "replace").strip()[-500:] or f"exit status {proc.returncode}"


def run(inputs: list[str], data: bytes | None, output_args: list[str]) -> tuple[bytes | None, str]:
    """One ffmpeg run: ``data`` (if any) as the first input, then ``inputs``; returns (output, complaint).

    The output is None when ffmpeg failed or wrote nothing; the complaint is the tail of its stderr.
    """
    with tempfile.TemporaryDirectory(prefix="runway-emulator-") as tmp:
        out = Path(tmp) / "out"  # MP4 faststart rewrites the file, so it must be seekable
        proc = _execute(_command(Path(tmp), inputs, data, output_args, out))
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            return None, _complaint(proc)
        return out.read_bytes(), ""


def run_frames(
    inputs: list[str], data: bytes | None, output_args: list[str], pattern: str
) -> tuple[list[tuple[str, bytes]] | None, str]:
    """As ``run``, writing an image sequence named by ``pattern`` (``frame.%04d.png``); returns
    the (name, bytes) of every frame in order, or None and the complaint."""
    with tempfile.TemporaryDirectory(prefix="runway-emulator-") as tmp:
        frames = Path(tmp) / "frames"
        frames.mkdir()
        proc = _execute(_command(Path(tmp), inputs, data, output_args, frames / pattern))
        files = sorted(frames.iterdir())
        if proc.returncode != 0 or not files:
            return None, _complaint(proc)
        return [(file.name, file.read_bytes()) for file in files], ""


def probe(data: bytes) -> Probe | None:
    """Size and length of a media file, or None when ffmpeg cannot read it."""
    exe = executable()
    with tempfile.TemporaryDirectory(prefix="runway-emulator-") as tmp:
        source = Path(tmp) / "in"
        source.write_bytes(data)
        # No output named: ffmpeg describes the input on stderr and exits 1, as intended.
        info = _execute([exe, "-hide_banner", "-nostdin", "-i", str(source)]).stderr.decode("utf-8", "replace")
    size = _SIZE.search(info)
    duration = _DURATION.search(info)
    if size is None and duration is None:
        return None
    seconds = None
    if duration is not None:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    width, height = (int(size.group(1)), int(size.group(2))) if size else (None, None)
    # A still image reports a frame's worth of "duration" (or none at all).
    return Probe(width, height, seconds if seconds and seconds >= 0.2 else None)


def _execute(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise VideoUnavailableError(f"ffmpeg did not finish within {TIMEOUT_S:.0f}s") from exc
    except OSError as exc:
        raise VideoUnavailableError(f"cannot run ffmpeg: {exc}") from exc
