"""The task-creating endpoints the emulator serves, one entry per endpoint name.

Every Runway generation endpoint works the same way: ``POST /v1/<name>`` (CometAPI:
``/runwayml/v1/<name>``) validates a body and answers ``{"id"}``; the task is then polled at
``/tasks/{id}`` and, once SUCCEEDED, its ``output`` holds signed media URLs. Only what differs
lives here: the validator, the CometAPI envelope's ``action`` and the kind of media produced.
Adding ``text_to_image`` or ``video_upscale`` means adding an entry; the routes, lifecycle,
faults and accounting follow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.models import COMETAPI, RUNWAY, ValidatedBody, validate_body

MP4 = "mp4"
PNG = "png"
MEDIA_TYPES = {MP4: "video/mp4", PNG: "image/png"}

Validator = Callable[[Mapping[str, Any], str], ValidatedBody]


@dataclass(frozen=True)
class TaskEndpoint:
    """One generation endpoint: path segment, validator, CometAPI action and output media."""

    name: str
    action: str
    output: str
    validate: Validator
    flavors: tuple[str, ...] = (COMETAPI, RUNWAY)


IMAGE_TO_VIDEO = TaskEndpoint(name="image_to_video", action="IMAGE_TO_VIDEO", output=MP4, validate=validate_body)

TASK_ENDPOINTS: dict[str, TaskEndpoint] = {endpoint.name: endpoint for endpoint in (IMAGE_TO_VIDEO,)}


def endpoint_named(name: str) -> TaskEndpoint:
    """The catalog entry of a task's endpoint (tasks only ever store a registered name)."""
    return TASK_ENDPOINTS[name]
