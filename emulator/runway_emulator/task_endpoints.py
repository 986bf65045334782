"""The task-creating endpoints the emulator serves: every one in the provider's model catalog.

Every Runway generation endpoint works the same way: ``POST /v1/<name>`` (CometAPI:
``/runwayml/v1/<name>``) validates a body and answers ``{"id"}``; the task is then polled at
``/tasks/{id}`` and, once SUCCEEDED, its ``output`` holds signed media URLs. Only what differs
lives here: the paths per flavor (a flavor the catalog gives no path for does not offer the
endpoint: its API answers 404) and the kind of output (both from ``catalog.json``), the
validator and the CometAPI envelope's ``action``. Outputs the emulator renders: video (H.264
MP4), image (PNG), audio (MP3, or WAV / Ogg Opus when ``outputFormat`` asks for them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.catalog import load_catalog
from airflow_provider_runway.models import ValidatedBody, validate_body

MP4 = "mp4"
PNG = "png"
MP3 = "mp3"
WAV = "wav"
OGG = "ogg"
MEDIA_TYPES = {MP4: "video/mp4", PNG: "image/png", MP3: "audio/mpeg", WAV: "audio/wav", OGG: "audio/ogg"}
# The catalog's output kind -> the file the emulator renders for it.
OUTPUT_FILES = {"video": MP4, "image": PNG, "audio": MP3}
# ``outputFormat`` values of audio models (seed_audio) -> the file rendered.
AUDIO_FORMATS = {"mp3": MP3, "wav": WAV, "ogg_opus": OGG}
# Endpoints whose output is a bigger copy of their input: how much bigger the emulator makes it.
UPSCALES = {"image_upscale": 2, "video_upscale": 2}
# More outputs than any model's documented outputCount allows (gpt_image_2: 10).
MAX_OUTPUTS = 16

Validator = Callable[[Mapping[str, Any], str], ValidatedBody]


@dataclass(frozen=True)
class TaskEndpoint:
    """One generation endpoint: paths per flavor, validator, CometAPI action and output."""

    name: str
    paths: Mapping[str, str]  # flavor -> create path
    action: str
    output: str  # the catalog's output kind: video, image or audio
    validate: Validator
    upscale: int = 1

    def output_file(self, body: Mapping[str, Any]) -> str:
        """The file a task's output is (MP4, PNG, MP3...): audio follows ``outputFormat``."""
        if self.output == "audio":
            return AUDIO_FORMATS.get(str(body.get("outputFormat")), MP3)
        return OUTPUT_FILES[self.output]


def _served(name: str) -> TaskEndpoint:
    spec = load_catalog().endpoints[name]
    if spec.output not in OUTPUT_FILES:
        raise ValueError(f"catalog endpoint {name}: the emulator cannot render {spec.output!r} outputs")
    return TaskEndpoint(
        name=name,
        paths=dict(spec.paths),
        action=name.upper(),
        output=spec.output,
        validate=functools.partial(validate_body, endpoint=name),
        upscale=UPSCALES.get(name, 1),
    )


SERVED = tuple(_served(name) for name in load_catalog().endpoints)
TASK_ENDPOINTS: dict[str, TaskEndpoint] = {endpoint.name: endpoint for endpoint in SERVED}


def output_count(body: Mapping[str, Any]) -> int:
    """How many output files a task has: its ``outputCount`` (image models that make several), else one."""
    count = body.get("outputCount")
    if isinstance(count, int) and not isinstance(count, bool) and count > 1:
        return min(count, MAX_OUTPUTS)
    return 1


def endpoint_named(name: str) -> TaskEndpoint:
    """The entry of a task's endpoint (tasks only ever store a served name)."""
    return TASK_ENDPOINTS[name]
