"""The task-creating endpoints the emulator serves, taken from the provider's model catalog.

Every Runway generation endpoint works the same way: ``POST /v1/<name>`` (CometAPI:
``/runwayml/v1/<name>``) validates a body and answers ``{"id"}``; the task is then polled at
``/tasks/{id}`` and, once SUCCEEDED, its ``output`` holds signed media URLs. Only what differs
lives here: the paths per flavor and the kind of output (both from ``catalog.json``), the
validator and the CometAPI envelope's ``action``. Serving ``text_to_image`` or
``video_upscale`` means adding its name to ``SERVED`` (with a validator taking
``endpoint=<name>``); routes, lifecycle, polls, faults and accounting follow. Outputs the
emulator can render: video (MP4) and image (PNG).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.catalog import load_catalog
from airflow_provider_runway.models import IMAGE_TO_VIDEO, ValidatedBody, validate_body

MP4 = "mp4"
PNG = "png"
MEDIA_TYPES = {MP4: "video/mp4", PNG: "image/png"}
# The catalog's output kind -> the file the emulator renders for it.
OUTPUT_FILES = {"video": MP4, "image": PNG}

Validator = Callable[[Mapping[str, Any], str], ValidatedBody]


@dataclass(frozen=True)
class TaskEndpoint:
    """One generation endpoint: paths per flavor, validator, CometAPI action and output file."""

    name: str
    paths: Mapping[str, str]  # flavor -> create path
    action: str
    output: str
    validate: Validator


def _served(name: str, validate: Validator) -> TaskEndpoint:
    spec = load_catalog().endpoints[name]
    return TaskEndpoint(
        name=name, paths=dict(spec.paths), action=name.upper(), output=OUTPUT_FILES[spec.output], validate=validate
    )


SERVED = (_served(IMAGE_TO_VIDEO, validate_body),)
TASK_ENDPOINTS: dict[str, TaskEndpoint] = {endpoint.name: endpoint for endpoint in SERVED}


def endpoint_named(name: str) -> TaskEndpoint:
    """The entry of a task's endpoint (tasks only ever store a served name)."""
    return TASK_ENDPOINTS[name]
