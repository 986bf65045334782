"""What a task's output looks like, and rendering it: blocking, CPU-bound, run in a worker thread.

Each rule goes from the most to the least specific source (a body's value, else the default
the model's docstring states, read through ``bodyview``):

- kind: the body's ``outputFormat``/``format`` (``formats.py``): MP4, ProRes .mov, a zip of
  PNG or OpenEXR frames, a PNG/JPEG/WebP still, MP3/WAV/Ogg/FLAC audio;
- picture: the task's resolved image input (or an input video's first frame); the marked
  placeholder when a remote input stood behind it; else a picture generated from the task id;
- ratio: the body's ``ratio`` (``W:H``); the documented default; the input picture's own
  shape; an ``aspectRatio``/``targetAspectRatio``; 1280:720;
- length of a video: the body's ``duration``; the documented default; the input video's
  length (its output follows it, at most 30 s); else 5 s brought within the model's range;
- length of audio: the body's ``duration``; the input audio's (or video's) length; else 3 s;
- size: longer side 320 px; upscale endpoints: the input's longer side times the factor
  (``scaleFactor``, else 2), at most 1280 px (640 px without a readable input).

The length rules also price the task (``prices.py``: credits per second of output).
"""

from __future__ import annotations

import functools
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runway_emulator import audio, ffmpeg, formats, video
from runway_emulator.bodyview import BodyView, view
from runway_emulator.task_endpoints import endpoint_named

if TYPE_CHECKING:
    from runway_emulator.state import Task, TaskInputs

PLACEHOLDER_CAPTION = "EMULATOR PLACEHOLDER - remote image not fetched"
DEFAULT_RATIO = "1280:720"
DEFAULT_DURATION = 5
DEFAULT_AUDIO_SECONDS = 3.0
MAX_FOLLOWED_SECONDS = 30.0
MAX_UPSCALED_SIDE = 1280
_RATIO = re.compile(r"^\d{1,6}:\d{1,6}$")
Probe = Callable[[], "ffmpeg.Probe | None"]


@dataclass(frozen=True)
class RenderPlan:
    """One output file to make: its kind (``formats``) and what goes into it."""

    kind: str
    image: bytes | None
    label: str
    ratio: str
    duration_s: float
    caption: str | None
    longest_side: int
    requested: str | None = None  # the outputFormat asked for (HDR sequences get a sidecar)


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _within(seen: BodyView, wire: str, fallback: float) -> float:
    """``fallback`` brought within the field's documented values or range."""
    choices = [c for c in seen.choices(wire) if _positive(c) is not None]
    if choices:
        return float(fallback if fallback in choices else choices[0])
    low, high = seen.bounds(wire)
    return min(max(fallback, low if low is not None else fallback), high if high is not None else fallback)


def _ratio(seen: BodyView, picture: Probe) -> str:
    given = seen.value("ratio")
    if isinstance(given, str) and _RATIO.match(given.strip()):
        return given.strip()
    probe = picture()
    if probe is not None and probe.width and probe.height:
        return f"{probe.width}:{probe.height}"
    for wire in ("aspectRatio", "targetAspectRatio"):
        aspect = seen.value(wire)
        if isinstance(aspect, str) and _RATIO.match(aspect):
            return aspect
    documented = [c for c in seen.choices("ratio") if isinstance(c, str) and _RATIO.match(c)]
    return DEFAULT_RATIO if not documented or DEFAULT_RATIO in documented else documented[0]


def _followed(timing: Probe, limit: float) -> float | None:
    try:
        followed = timing()
    except ffmpeg.VideoUnavailableError:
        return None  # nothing to measure the input with
    return min(followed.duration_s, limit) if followed is not None and followed.duration_s else None


def _video_seconds(seen: BodyView, timing: Probe) -> float:
    given = _positive(seen.value("duration"))
    if given is not None:
        return given
    return _followed(timing, MAX_FOLLOWED_SECONDS) or _within(seen, "duration", DEFAULT_DURATION)


def _audio_seconds(seen: BodyView, timing: Probe) -> float:
    given = _positive(seen.value("duration"))
    if given is not None:
        return min(given, audio.MAX_SECONDS)
    return _followed(timing, audio.MAX_SECONDS) or DEFAULT_AUDIO_SECONDS


def _probe(data: bytes | None) -> Probe:
    return functools.cache(lambda: ffmpeg.probe(data) if data else None)


def output_seconds(endpoint: str, flavor: str, body: dict[str, Any], inputs: TaskInputs) -> float:
    """How long the output of a video or audio task will be (0 for images); probes an input only
    when no duration is given or documented. Blocking: callers run it in a worker thread."""
    medium = endpoint_named(endpoint).medium
    seen = view(endpoint, flavor, body)
    if medium == formats.VIDEO:
        return _video_seconds(seen, _probe(inputs.timing))
    return _audio_seconds(seen, _probe(inputs.timing)) if medium == formats.AUDIO else 0.0


def plan(task: Task, index: int = 0) -> RenderPlan:
    """The output file ``index`` of ``task``; probes its inputs with ffmpeg only when a rule needs them."""
    endpoint = endpoint_named(task.endpoint)
    seen = view(task.endpoint, task.flavor, task.body)
    inputs = task.inputs
    picture, timing = _probe(inputs.picture), _probe(inputs.timing)
    kind = endpoint.output_file(task.flavor, task.body)
    duration = 0.0  # a still
    if kind in formats.MOVIES:
        duration = _video_seconds(seen, timing)
    elif kind in formats.SOUNDS:
        duration = _audio_seconds(seen, timing)
    longest = video.LONGEST_SIDE
    if endpoint.upscale > 1:
        probe = picture()
        factor = seen.value("scaleFactor") if isinstance(seen.value("scaleFactor"), int) else endpoint.upscale
        source = max(probe.width or 0, probe.height or 0) if probe is not None else 0
        longest = min((source or video.LONGEST_SIDE) * factor, MAX_UPSCALED_SIDE)
    return RenderPlan(
        kind=kind,
        image=inputs.picture,
        label=task.id if index == 0 else f"{task.id}_{index}",
        ratio=_ratio(seen, picture) if kind not in formats.SOUNDS else DEFAULT_RATIO,
        duration_s=duration,
        caption=PLACEHOLDER_CAPTION if inputs.placeholder else None,
        longest_side=longest,
        requested=formats.requested_format(seen.fields, seen.default("outputFormat")),
    )


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def _sidecar(requested: str | None) -> list[tuple[str, bytes]]:
    """HDR sequences come with a colorimetry.json (as Runway's do), saying what the frames hold."""
    if not formats.is_hdr(requested):
        return []
    linear = "exr" in str(requested)
    colorimetry = {
        "outputFormat": requested,
        "primaries": "ACEScg" if "acescg" in str(requested) else "bt2020",
        "transfer": "linear" if linear else "pq",
        "note": "made by the Runway emulator: a placeholder picture, not graded HDR",
    }
    return [("colorimetry.json", json.dumps(colorimetry, indent=2).encode())]


def render(task: Task, index: int = 0) -> bytes:
    """Blocking: make output file ``index`` of ``task`` (``video.py``, ``audio.py``)."""
    out = plan(task, index)
    picture: dict[str, Any] = {"label": out.label, "ratio": out.ratio, "caption": out.caption}
    picture["longest_side"] = out.longest_side
    if out.kind in (formats.MP4, formats.MOV):
        return video.render_mp4(out.image, duration_s=out.duration_s, container=out.kind, **picture)
    if out.kind in (formats.PNG_FRAMES, formats.EXR_FRAMES):
        frame = "exr" if out.kind == formats.EXR_FRAMES else "png"
        frames = video.render_frames(out.image, duration_s=out.duration_s, frame=frame, **picture)
        return _zip(frames + _sidecar(out.requested))
    if out.kind in formats.STILLS:
        return video.render_png(out.image, kind=out.kind, **picture)
    return audio.render_audio(label=out.label, duration_s=out.duration_s, kind=out.kind)
