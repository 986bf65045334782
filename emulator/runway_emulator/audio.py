"""Real, playable audio for the emulator's audio endpoints: a short sine tone per task.

Runway's audio endpoints (sound effects, speech, dubbing, voice isolation) answer with an audio
file URL; the emulator serves a genuine MP3 (or the WAV / Ogg Opus / FLAC the body asks for)
so that code which downloads, probes or transcodes it handles real audio. The tone's pitch
derives from the task id, so two tasks never produce the same file.

ffmpeg's own ``sine`` source makes it (``ffmpeg.py``, the optional ``video`` extra).
"""

from __future__ import annotations

import hashlib
import math

from runway_emulator import ffmpeg
from runway_emulator.ffmpeg import VideoUnavailableError

SAMPLE_RATE = 22_050
MAX_SECONDS = 60.0
# output file kind -> ffmpeg's encoder arguments
ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
    "flac": ["-c:a", "flac", "-f", "flac"],
}


def tone_hz(label: str) -> int:
    """Pure: a pitch between 220 and 880 Hz derived from ``label``."""
    return 220 + int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:2], "big") % 661


def render_audio(*, label: str, duration_s: float, kind: str = "mp3") -> bytes:
    """A mono sine tone of ``duration_s`` seconds as ``kind`` (mp3, wav, ogg or flac).

    Blocking; callers run it in a thread. ValueError for a bad duration or kind,
    VideoUnavailableError without the ``video`` extra or when ffmpeg fails.
    """
    if not (math.isfinite(duration_s) and 0 < duration_s <= MAX_SECONDS):
        raise ValueError(f"duration_s must be a number of seconds in (0, {MAX_SECONDS:g}], got {duration_s!r}")
    if kind not in ENCODERS:
        raise ValueError(f"kind must be one of {', '.join(ENCODERS)}, got {kind!r}")
    source = f"sine=frequency={tone_hz(label)}:sample_rate={SAMPLE_RATE}:duration={duration_s:.3f}"
    data, complaint = ffmpeg.run(["-f", "lavfi", "-i", source], None, ["-ac", "1", *ENCODERS[kind]])
    if data is None:
        raise VideoUnavailableError(f"ffmpeg failed to encode audio: {complaint}")
    return data
