"""Models CometAPI still documents that Runway's SDK (5.24.0) no longer defines, in the SDK's own style.

Written as TypedDicts with the SDK's alias marker and docstring phrasing so that the same reader
(``reader.py``) and checker read them as any SDK type. Sources:

- ``gen3a_turbo`` (``image_to_video``): https://apidoc.cometapi.com/api/video/runway (official
  format) and the seed page: promptImage required, promptText up to 512 characters, seed
  0-999999999, duration 5 or 10 (default 5), eight ratios (default 1280:720); the frame list and
  contentModeration as Runway's schema had them before runwayml 5.0 (commit d106617).
- ``gen4_aleph`` (``video_to_video``):
  https://apidoc.cometapi.com/api/video/runway/official-format/generate-a-video-from-a-video.
- ``upscale_v1`` (``video_upscale``):
  https://apidoc.cometapi.com/api/video/runway/official-format/upscale-a-video.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from runwayml._utils import PropertyInfo
from typing_extensions import Required, TypedDict


class Gen3aTurboPromptImage(TypedDict, total=False):
    position: Required[Literal["first", "last"]]
    """The position of the image in the output video."""

    uri: Required[str]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g.

    `data:image/png;base64,...`, up to 5MB) containing an encoded image.
    """


class ContentModeration(TypedDict, total=False):
    public_figure_threshold: Annotated[Literal["auto", "low"], PropertyInfo(alias="publicFigureThreshold")]


class Gen3aTurbo(TypedDict, total=False):
    model: Required[Literal["gen3a_turbo"]]

    prompt_image: Required[Annotated[str | Iterable[Gen3aTurboPromptImage], PropertyInfo(alias="promptImage")]]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g.

    `data:image/png;base64,...`, up to 5MB) containing an encoded image.
    """

    prompt_text: Annotated[str, PropertyInfo(alias="promptText")]
    """A string up to 512 characters describing what should appear in the output."""

    seed: int
    """An integer from 0 to 999999999. If unspecified, a random number is chosen."""

    duration: Literal[5, 10]
    """The duration of the output video in seconds. Defaults to 5."""

    ratio: Literal["1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "1280:768", "768:1280"]
    """The resolution of the output video. Defaults to `1280:720`."""

    content_moderation: Annotated[ContentModeration, PropertyInfo(alias="contentModeration")]


class Gen4AlephReference(TypedDict, total=False):
    type: Required[Literal["image"]]

    uri: Required[str]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g.

    `data:image/png;base64,...`, up to 5MB) containing an encoded image.
    """


class Gen4Aleph(TypedDict, total=False):
    model: Required[Literal["gen4_aleph"]]

    video_uri: Required[Annotated[str, PropertyInfo(alias="videoUri")]]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g.

    `data:video/mp4;base64,...`, up to 5MB) containing an encoded video.
    """

    prompt_text: Annotated[str, PropertyInfo(alias="promptText")]
    """A string up to 1000 characters describing what should appear in the output."""

    seed: int
    """An integer from 0 to 4294967295."""

    references: Iterable[Gen4AlephReference]
    """An array of references. Currently up to one reference is supported."""

    ratio: str
    """Ignored: the output follows the input video's shape."""

    content_moderation: Annotated[ContentModeration, PropertyInfo(alias="contentModeration")]


class UpscaleV1(TypedDict, total=False):
    model: Required[Literal["upscale_v1"]]

    video_uri: Required[Annotated[str, PropertyInfo(alias="videoUri")]]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g.

    `data:video/mp4;base64,...`, up to 5MB) containing an encoded video.
    """


# model name -> its TypedDict
COMETAPI_MODELS: dict[str, type] = {"gen3a_turbo": Gen3aTurbo, "gen4_aleph": Gen4Aleph, "upscale_v1": UpscaleV1}
