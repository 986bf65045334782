"""Typed create operators for the endpoints a data platform chains most: text to image, text to
video, video to video and video upscale.

Each one is ``RunwayCreateTaskOperator`` on its endpoint with the body's common fields (as the
catalog lists them across the endpoint's models) as named, templated parameters in snake_case;
everything else (credits, retries and resume, the wait, ``output_path``) is the shared flow.
``model`` defaults to the flavor's model for the endpoint (``docs/models.md``). Media
parameters (``reference_images``, ``video_uri``) take what ``prompt_image`` takes: an https URL,
a data URI, a ``runway://`` upload (flavor runway) or a stored file (local path, ``file://``,
object storage URL with ``input_conn_id``) read when the task runs. Fields a model has beyond
these go in ``extra_body``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_runway.operators.runway import COMMON_TEMPLATE_FIELDS, RunwayCreateTaskOperator


def as_reference_items(value: Any) -> Any:
    """``reference_images`` as the API takes them: a path or URL (or a list of them) becomes
    ``[{"uri": ...}]``; ``{"uri", "tag"}`` items stay as given; anything else is left for validation."""
    if isinstance(value, str):
        return [{"uri": value}] if value.strip() else None  # an empty template: none given
    if isinstance(value, list):
        return [{"uri": item} if isinstance(item, str) else item for item in value]
    return value


class RunwayTextToImageOperator(RunwayCreateTaskOperator):
    """Create a Runway text-to-image task (``text_to_image``); returns its Runway task id.

    :param prompt_text: what the image shows (up to 1000 characters).
    :param ratio: output size such as ``1920:1080`` or ``1024:1024``; allowed values depend on the model.
    :param reference_images: images the prompt can refer to (``@tag`` in the text): a location, a
        list of locations, or ``{"uri": ..., "tag": ...}`` items. CometAPI needs at least one.
    :param model: default ``gen4_image`` (both flavors).
    :param seed: integer for reproducible results.
    :param content_moderation: e.g. ``{"publicFigureThreshold": "low"}``.

    Every other parameter is ``RunwayCreateTaskOperator``'s. With ``output_path`` the image is
    stored as ``.png``/``.jpg``/``.webp`` by what was made; XCom ``runway_output``.
    """

    default_endpoint = "text_to_image"
    body_fields = {
        "model": "model",
        "prompt_text": "promptText",
        "ratio": "ratio",
        "reference_images": "referenceImages",
        "seed": "seed",
        "content_moderation": "contentModeration",
    }
    template_fields: Sequence[str] = (*body_fields, *COMMON_TEMPLATE_FIELDS)

    def __init__(
        self,
        *,
        prompt_text: str,
        ratio: str | None = None,
        reference_images: str | list[Any] | None = None,
        model: str | None = None,
        seed: int | str | None = None,
        content_moderation: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep_body_fields(locals())

    def request_fields(self) -> dict[str, Any]:
        fields = super().request_fields()
        fields["referenceImages"] = as_reference_items(fields.get("referenceImages"))
        return fields


class RunwayTextToVideoOperator(RunwayCreateTaskOperator):
    """Create a Runway text-to-video task (``text_to_video``; Runway's own API only).

    :param prompt_text: what the video shows.
    :param ratio: e.g. ``1280:720`` or ``720:1280``.
    :param duration: seconds of video; allowed values depend on the model (gen4.5: 2-10, required).
    :param model: default ``gen4.5``.
    :param seed: integer for reproducible results.
    :param negative_prompt: what should not appear (veo3.1 models).
    :param audio: generate audio (models that take it; affects price).
    :param content_moderation: e.g. ``{"publicFigureThreshold": "low"}``.

    Every other parameter is ``RunwayCreateTaskOperator``'s; the stored video also goes to XCom
    ``runway_video``. Through CometAPI this fails before any request: CometAPI does not offer it.
    """

    default_endpoint = "text_to_video"
    body_fields = {
        "model": "model",
        "prompt_text": "promptText",
        "ratio": "ratio",
        "duration": "duration",
        "seed": "seed",
        "negative_prompt": "negativePrompt",
        "audio": "audio",
        "content_moderation": "contentModeration",
    }
    template_fields: Sequence[str] = (*body_fields, *COMMON_TEMPLATE_FIELDS)

    def __init__(
        self,
        *,
        prompt_text: str,
        ratio: str | None = None,
        duration: int | str | None = None,
        model: str | None = None,
        seed: int | str | None = None,
        negative_prompt: str | None = None,
        audio: bool | str | None = None,
        content_moderation: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep_body_fields(locals())


class RunwayVideoToVideoOperator(RunwayCreateTaskOperator):
    """Create a Runway video-to-video task (``video_to_video``): restyle or edit a video by prompt.

    :param video_uri: the input video (https URL, data URI, ``runway://`` or a stored file).
    :param prompt_text: how to change it.
    :param model: default ``gen4_aleph`` through CometAPI, ``aleph2`` through Runway.
    :param ratio: output ratio, e.g. ``1280:720`` (models that take it).
    :param seed: integer for reproducible results.
    :param references: reference images, e.g. ``[{"type": "image", "uri": ...}]`` (models that take them).
    :param content_moderation: e.g. ``{"publicFigureThreshold": "low"}``.

    Every other parameter is ``RunwayCreateTaskOperator``'s; the stored video also goes to XCom
    ``runway_video``. The price follows the input video's length, so ``max_credits`` cannot
    estimate it and refuses the task while it is set.
    """

    default_endpoint = "video_to_video"
    body_fields = {
        "model": "model",
        "video_uri": "videoUri",
        "prompt_text": "promptText",
        "ratio": "ratio",
        "seed": "seed",
        "references": "references",
        "content_moderation": "contentModeration",
    }
    template_fields: Sequence[str] = (*body_fields, *COMMON_TEMPLATE_FIELDS)

    def __init__(
        self,
        *,
        video_uri: str,
        prompt_text: str | None = None,
        model: str | None = None,
        ratio: str | None = None,
        seed: int | str | None = None,
        references: list[Mapping[str, Any]] | None = None,
        content_moderation: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep_body_fields(locals())


class RunwayVideoUpscaleOperator(RunwayCreateTaskOperator):
    """Create a Runway video upscale task (``video_upscale``).

    :param video_uri: the input video (https URL, data URI, ``runway://`` or a stored file).
    :param model: default ``upscale_v1`` through CometAPI, ``magnific_video_upscaler_creative``
        through Runway (its knobs, e.g. ``resolution``, go in ``extra_body``).

    Every other parameter is ``RunwayCreateTaskOperator``'s; the stored video also goes to XCom
    ``runway_video``. The price follows the input video's length, so ``max_credits`` cannot
    estimate it and refuses the task while it is set.
    """

    default_endpoint = "video_upscale"
    body_fields = {"model": "model", "video_uri": "videoUri"}
    template_fields: Sequence[str] = (*body_fields, *COMMON_TEMPLATE_FIELDS)

    def __init__(self, *, video_uri: str, model: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keep_body_fields(locals())
