"""What a task's output looks like, and rendering it: blocking, CPU-bound, run in a worker thread.

Each rule goes from the most to the least specific source:

- picture: the task's resolved image input (or an input video's first frame); the marked
  placeholder when a remote input stood behind it; else a picture generated from the task id.
- ratio: the body's ``ratio`` (``W:H``); the model's documented default (``catalog.json``); the
  input picture's own shape; 1280:720.
- length of a video: the body's ``duration``; the model's documented default; the input
  video's length (video_to_video, character_performance: their output follows it, at most
  30 s); else 5 s brought within the model's range.
- length of audio: the body's ``duration``; the input audio's (or video's) length; else 3 s.
- size: longer side 320 px; upscale endpoints: twice the input's longer side, at most 1280 px
  (640 px without a readable input), so an upscale is visibly bigger than what went in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.catalog import FieldSpec, load_catalog
from runway_emulator import audio, ffmpeg, video
from runway_emulator.task_endpoints import MP4, PNG, endpoint_named

if TYPE_CHECKING:
    from runway_emulator.state import Task

PLACEHOLDER_CAPTION = "EMULATOR PLACEHOLDER - remote image not fetched"
DEFAULT_RATIO = "1280:720"
DEFAULT_DURATION = 5
DEFAULT_AUDIO_SECONDS = 3.0
MAX_FOLLOWED_SECONDS = 30.0
MAX_UPSCALED_SIDE = 1280
_RATIO = re.compile(r"^\d{1,6}:\d{1,6}$")


@dataclass(frozen=True)
class RenderPlan:
    """One output file to make: its kind (``mp4``, ``png``, ``mp3``...) and what goes into it."""

    kind: str
    image: bytes | None
    label: str
    ratio: str
    duration_s: float
    caption: str | None
    longest_side: int


def _default(field: FieldSpec | None, fallback: Any) -> Any:
    """What the API uses when a field is omitted: its documented default, else ``fallback``
    brought within the allowed values or range."""
    if field is None:
        return fallback
    if field.default is not None:
        return field.default
    if field.values:
        return fallback if fallback in field.values else field.values[0]
    low = fallback if field.minimum is None else field.minimum
    high = fallback if field.maximum is None else field.maximum
    return min(max(fallback, low), high)


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _ratio(body: Mapping[str, Any], field: FieldSpec | None, picture: Callable[[], ffmpeg.Probe | None]) -> str:
    given = body.get("ratio")
    if isinstance(given, str) and _RATIO.match(given.strip()):
        return given
    if field is not None and isinstance(field.default, str):
        return field.default
    probe = picture()
    if probe is not None and probe.width and probe.height:
        return f"{probe.width}:{probe.height}"
    fallback = str(_default(field, DEFAULT_RATIO))
    return fallback if _RATIO.match(fallback) else DEFAULT_RATIO


def _video_seconds(
    body: Mapping[str, Any], field: FieldSpec | None, timing: Callable[[], ffmpeg.Probe | None]
) -> float:
    given = _positive(body.get("duration"))
    if given is not None:
        return given
    if field is not None and _positive(field.default) is not None:
        return float(field.default)
    followed = timing()
    if followed is not None and followed.duration_s:
        return min(followed.duration_s, MAX_FOLLOWED_SECONDS)
    return _positive(_default(field, DEFAULT_DURATION)) or float(DEFAULT_DURATION)


def _audio_seconds(body: Mapping[str, Any], timing: Callable[[], ffmpeg.Probe | None]) -> float:
    given = _positive(body.get("duration"))
    if given is not None:
        return given
    followed = timing()
    if followed is not None and followed.duration_s:
        return min(followed.duration_s, audio.MAX_SECONDS)
    return DEFAULT_AUDIO_SECONDS


def plan(task: Task, index: int = 0) -> RenderPlan:
    """The output file ``index`` of ``task``; probes its inputs with ffmpeg only when a rule needs them."""
    endpoint = endpoint_named(task.endpoint)
    spec = load_catalog().endpoint(task.endpoint)
    model = spec.models.get(task.model) if spec is not None else None
    fields = model.fields if model is not None else {}
    inputs = task.inputs
    picture = functools.cache(lambda: ffmpeg.probe(inputs.picture) if inputs.picture else None)
    timing = functools.cache(lambda: ffmpeg.probe(inputs.timing) if inputs.timing else None)
    kind = endpoint.output_file(task.body)
    if kind == PNG:
        duration = 0.0  # a still
    elif kind == MP4:
        duration = _video_seconds(task.body, fields.get("duration"), timing)
    else:
        duration = _audio_seconds(task.body, timing)
    longest = video.LONGEST_SIDE
    if endpoint.upscale > 1:
        probe = picture()
        source = max(probe.width or 0, probe.height or 0) if probe is not None else 0
        longest = min((source or video.LONGEST_SIDE) * endpoint.upscale, MAX_UPSCALED_SIDE)
    return RenderPlan(
        kind=kind,
        image=inputs.picture,
        label=task.id if index == 0 else f"{task.id}_{index}",
        ratio=_ratio(task.body, fields.get("ratio"), picture) if kind in (MP4, PNG) else DEFAULT_RATIO,
        duration_s=duration,
        caption=PLACEHOLDER_CAPTION if inputs.placeholder else None,
        longest_side=longest,
    )


def render(task: Task, index: int = 0) -> bytes:
    """Blocking: make output file ``index`` of ``task`` (``video.py``, ``audio.py``)."""
    out = plan(task, index)
    if out.kind == MP4:
        return video.render_mp4(
            out.image,
            label=out.label,
            ratio=out.ratio,
            duration_s=out.duration_s,
            caption=out.caption,
            longest_side=out.longest_side,
        )
    if out.kind == PNG:
        return video.render_png(
            out.image, label=out.label, ratio=out.ratio, caption=out.caption, longest_side=out.longest_side
        )
    return audio.render_audio(label=out.label, duration_s=out.duration_s, kind=out.kind)
