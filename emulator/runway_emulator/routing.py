"""The Model Router (``POST /v1/generate/{video,image,audio}``) as the emulator plays it.

A router request names a saved config (``configId``) and a model-agnostic ``input``; the API
picks a model and answers ``{"id", "routing": {...}}`` (runwayml 5.24.0,
``types/generate/*_create_response.py``): the config, the chosen model and provider, the
estimated cost and the input as resolved. The emulator keeps no router configs (any slug is
taken) and routes by rule, so a test can predict the answer:

- video: ``gen4.5`` (``image_to_video`` with a ``first`` reference image, else
  ``text_to_video``), or ``aleph2`` (``video_to_video``) with a ``source`` reference video;
- image: ``gen4_image`` (``text_to_image``);
- audio: ``eleven_multilingual_v2`` (``text_to_speech``) for ``speech``,
  ``eleven_text_to_sound_v2`` (``sound_effect``) for ``audio``.

The chosen model's price is what the task costs (``prices.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROVIDER = "runway"
OPTIMIZE_FOR = "quality"
DEFAULT_VIDEO_SECONDS = 5
VIDEO_RATIOS = {
    "16:9": "1280:720",
    "9:16": "720:1280",
    "1:1": "960:960",
    "4:3": "1104:832",
    "3:4": "832:1104",
    "21:9": "1584:672",
}
IMAGE_RATIOS = {
    "16:9": "1920:1080",
    "9:16": "1080:1920",
    "1:1": "1024:1024",
    "4:3": "1440:1080",
    "3:4": "1080:1440",
    "21:9": "2112:912",
    "2:3": "1024:1536",
    "3:2": "1536:1024",
    "4:5": "1024:1280",
    "5:4": "1280:1024",
}


@dataclass(frozen=True)
class Route:
    """Where the router sent a request: the endpoint and model it priced and rendered as."""

    endpoint: str
    model: str
    resolved_input: dict[str, Any] = field(hash=False)
    # The fields rendering and pricing read, as the chosen model would see them.
    fields: dict[str, Any] = field(hash=False)


def _roles(items: Any) -> set[str]:
    return {str(item.get("role")) for item in items if isinstance(item, Mapping)} if isinstance(items, list) else set()


def _video(given: Mapping[str, Any]) -> Route:
    if "source" in _roles(given.get("referenceVideos")):
        endpoint, model = "video_to_video", "aleph2"
    elif "first" in _roles(given.get("referenceImages")):
        endpoint, model = "image_to_video", "gen4.5"
    else:
        endpoint, model = "text_to_video", "gen4.5"
    ratio = VIDEO_RATIOS.get(str(given.get("aspectRatio")), VIDEO_RATIOS["16:9"])
    seconds = given.get("duration", DEFAULT_VIDEO_SECONDS)
    resolution = str(given.get("resolution", "720p"))
    resolved = {"duration": float(seconds), "ratio": ratio, "resolution": resolution}
    return Route(
        endpoint, model, resolved, {"ratio": ratio, "duration": seconds, "promptText": given.get("promptText")}
    )


def _image(given: Mapping[str, Any]) -> Route:
    aspect = str(given.get("aspectRatio", "16:9"))
    ratio = IMAGE_RATIOS.get(aspect, IMAGE_RATIOS["16:9"])
    resolved = {"aspectRatio": aspect, "ratio": ratio, "resolution": str(given.get("resolution", "1k"))}
    return Route("text_to_image", "gen4_image", resolved, {"ratio": ratio, "outputCount": given.get("outputCount", 1)})


def _audio(given: Mapping[str, Any]) -> Route:
    kind = str(given.get("type"))
    voice = given.get("voice")
    voice_type = voice.get("type") if isinstance(voice, Mapping) else None
    if kind == "speech":
        endpoint, model = "text_to_speech", "eleven_multilingual_v2"
        how = "reference-audio" if voice_type == "reference-audio" else "preset" if voice_type else "default"
    else:
        endpoint, model = "sound_effect", "eleven_text_to_sound_v2"
        how = "none"
    fields = {"promptText": given.get("promptText"), "duration": given.get("duration")}
    return Route(endpoint, model, {"type": kind, "voice": how}, {k: v for k, v in fields.items() if v is not None})


_ROUTERS = {"generate/video": _video, "generate/image": _image, "generate/audio": _audio}


def route(endpoint: str, body: Mapping[str, Any]) -> Route | None:
    """The route of a router request (None for any other endpoint)."""
    router = _ROUTERS.get(endpoint)
    given = body.get("input")
    return router(given if isinstance(given, Mapping) else {}) if router is not None else None


def routing_answer(chosen: Route, config_id: str, estimate: float) -> dict[str, Any]:
    """The ``routing`` object of a router create's answer."""
    return {
        "configId": config_id,
        "estimatedCost": {"credits": estimate},
        "model": chosen.model,
        "provider": PROVIDER,
        "resolvedInput": dict(chosen.resolved_input),
        "resolvedSettings": {"optimizeFor": OPTIMIZE_FOR, "priceCeiling": None},
    }
