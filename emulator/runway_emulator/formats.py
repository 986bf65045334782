"""Which file a task's output is, and the media type it is served with.

The body's ``outputFormat`` (or ``format``, as ``video_to_audio`` and ``mirelo_sfx_2_0`` name
it) chooses, as the SDK's docstrings describe the values: ``mp4``, ``hdr10``, ``hlg`` and
``sdr_rec709_10bit`` are .mp4 files; ``prores``, ``mov``, ``hdr_prores`` and
``hdr_pq_12bit_master`` ProRes .mov files; ``png_sequence`` and ``hdr_png_sequence`` a .zip of
PNG frames; the ``hdr_exr_*`` profiles a .zip of OpenEXR frames; images ``png``, ``jpeg`` or
``webp``; audio ``mp3``, ``wav``, ``ogg_opus`` or ``flac``. Without one, the field's documented
default (``video_to_hdr``: ``hdr10``), else MP4 / PNG / MP3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VIDEO, IMAGE, AUDIO = "video", "image", "audio"

# Output kinds: what gets rendered. Most are also the file's extension.
MP4, MOV, PNG_FRAMES, EXR_FRAMES = "mp4", "mov", "png-frames", "exr-frames"
PNG, JPG, WEBP = "png", "jpg", "webp"
MP3, WAV, OGG, FLAC = "mp3", "wav", "ogg", "flac"
STILLS = (PNG, JPG, WEBP)
MOVIES = (MP4, MOV, PNG_FRAMES, EXR_FRAMES)
SOUNDS = (MP3, WAV, OGG, FLAC)

_FORMATS = {
    VIDEO: {
        "mp4": MP4,
        "hdr10": MP4,
        "hlg": MP4,
        "sdr_rec709_10bit": MP4,
        "prores": MOV,
        "mov": MOV,
        "hdr_prores": MOV,
        "hdr_pq_12bit_master": MOV,
        "png_sequence": PNG_FRAMES,
        "hdr_png_sequence": PNG_FRAMES,
        "hdr_exr_sequence": EXR_FRAMES,
        "hdr_exr_acescg_sequence_1_3": EXR_FRAMES,
        "hdr_exr_acescg_sequence_2_0": EXR_FRAMES,
    },
    IMAGE: {"png": PNG, "jpeg": JPG, "webp": WEBP},
    AUDIO: {"mp3": MP3, "wav": WAV, "ogg_opus": OGG, "flac": FLAC},
}
_DEFAULT = {VIDEO: MP4, IMAGE: PNG, AUDIO: MP3}
HDR_PREFIX = "hdr"

EXTENSIONS = {PNG_FRAMES: "zip", EXR_FRAMES: "zip"}
MEDIA_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
}


def requested_format(body: Mapping[str, Any], default: Any = None) -> str | None:
    """The format value a body asks for (``outputFormat`` or ``format``), else the documented default."""
    value = body.get("outputFormat", body.get("format", default))
    return value if isinstance(value, str) else None


def output_kind(medium: str, requested: str | None) -> str:
    """What to render for an output of this medium in the requested format."""
    return _FORMATS[medium].get(requested or "", _DEFAULT[medium])


def extension(kind: str) -> str:
    return EXTENSIONS.get(kind, kind)


def is_hdr(requested: str | None) -> bool:
    """HDR profiles (``hdr10``, ``hlg``, ``hdr_*``): their sequences carry a colorimetry sidecar."""
    return bool(requested) and (str(requested).startswith(HDR_PREFIX) or requested == "hlg")
