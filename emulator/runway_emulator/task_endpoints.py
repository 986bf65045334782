"""The task-creating endpoints the emulator serves: every one Runway's SDK defines (``oracle``).

Every Runway generation endpoint works the same way: ``POST /v1/<name>`` checks a body and
answers with the new task's id; the task is then polled at ``/tasks/{id}`` and, once SUCCEEDED,
its ``output`` holds signed media URLs. Only what differs lives here:

- the paths per flavor (Runway: all; CometAPI: the endpoints its documentation lists, see
  ``oracle/cometapi.json``; elsewhere its edge answers 404);
- the medium of the output (video, image, audio) and which input's length it follows;
- the create answer, as the SDK types it: ``{"id", "estimatedCost"}`` for most,
  ``{"id"}`` for ``avatar_videos`` (``AvatarVideoCreateResponse``), ``{"id", "routing"}``
  for the Model Router (``generate/*``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runway_emulator import formats
from runway_emulator.bodyview import view
from runway_emulator.formats import AUDIO, IMAGE, VIDEO
from runway_emulator.oracle import create_path, offered
from runway_emulator.oracle.sdk_endpoints import SDK_ENDPOINTS
from runway_emulator.protocol import FLAVORS

if TYPE_CHECKING:
    from runway_emulator.state import Task

ESTIMATE, ID_ONLY, ROUTING = "estimate", "id", "routing"

_MEDIUM = {
    "text_to_image": IMAGE,
    "image_upscale": IMAGE,
    "generate/image": IMAGE,
    "recipes/ad_localization": IMAGE,
    "recipes/marketing_stock_image": IMAGE,
    "recipes/product_campaign_image": IMAGE,
    "sound_effect": AUDIO,
    "text_to_speech": AUDIO,
    "speech_to_speech": AUDIO,
    "voice_dubbing": AUDIO,
    "voice_isolation": AUDIO,
    "video_to_audio": AUDIO,
    "generate/audio": AUDIO,
}  # every other endpoint makes a video
_ANSWERS = {"avatar_videos": ID_ONLY, "generate/video": ROUTING, "generate/image": ROUTING, "generate/audio": ROUTING}
# Endpoints whose output is a bigger copy of their input: how much bigger (image_upscale: scaleFactor).
UPSCALES = {"image_upscale": 2, "video_upscale": 2}
# Which inputs' length an output follows: an input video; audio outputs and avatars: audio too.
_TIMING = {VIDEO: ("video",), IMAGE: (), AUDIO: ("audio", "video")}


@dataclass(frozen=True)
class TaskEndpoint:
    """One generation endpoint: paths per flavor, output medium, create answer."""

    name: str
    medium: str
    paths: Mapping[str, str]  # flavor -> create path
    answer: str = ESTIMATE
    upscale: int = 1
    timing: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """CometAPI's envelope names the endpoint in capitals (``IMAGE_TO_VIDEO``)."""
        return self.name.replace("/", "_").upper()

    def output_file(self, flavor: str, body: Mapping[str, Any]) -> str:
        """What the output is rendered as (``formats``: mp4, mov, png-frames, png, mp3...)."""
        seen = view(self.name, flavor, body)
        requested = formats.requested_format(seen.fields, seen.default("outputFormat") or seen.default("format"))
        return formats.output_kind(self.medium, requested)

    def extension(self, flavor: str, body: Mapping[str, Any]) -> str:
        return formats.extension(self.output_file(flavor, body))

    def output_count(self, flavor: str, body: Mapping[str, Any]) -> int:
        return view(self.name, flavor, body).output_count()


def _served(name: str) -> TaskEndpoint:
    medium = _MEDIUM.get(name, VIDEO)
    timing = ("audio", "video") if name == "avatar_videos" else _TIMING[medium]
    return TaskEndpoint(
        name=name,
        medium=medium,
        paths={flavor: create_path(name, flavor) for flavor in FLAVORS if offered(name, flavor)},
        answer=_ANSWERS.get(name, ESTIMATE),
        upscale=UPSCALES.get(name, 1),
        timing=timing,
    )


@functools.cache
def task_endpoints() -> dict[str, TaskEndpoint]:
    return {name: _served(name) for name in SDK_ENDPOINTS}


def endpoint_named(name: str) -> TaskEndpoint:
    """The entry of a task's endpoint (tasks only ever store a served name)."""
    return task_endpoints()[name]


def output_facts(task: Task) -> tuple[str, int]:
    """(file extension, number of output files) of a task, worked out once (every poll asks)."""
    facts = task.facts.get("outputs")
    if facts is None:
        endpoint = endpoint_named(task.endpoint)
        facts = task.facts["outputs"] = (
            endpoint.extension(task.flavor, task.body),
            endpoint.output_count(task.flavor, task.body),
        )
    return facts


def outputs_of(task: Task) -> int:
    """How many output files a task has."""
    return output_facts(task)[1]
