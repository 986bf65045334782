"""The smallest valid request of every (endpoint, model) pair the runwayml SDK defines, built
from the SDK's own request TypedDicts, independently of the emulator's oracle.

Only required keys are filled: a ``Literal`` with its first value, a string with a prompt or,
for a media field, an https URL of the medium its name (or its class's name) says, a number
with 5, an array with one item (``SHORTEST`` lists arrays the docstrings ask to be longer), a
union with its first member (a string before an array). The SDK's own transform
(``runwayml._utils.maybe_transform``) turns the Python names into wire names, as the client
does before it sends a request.
"""

from __future__ import annotations

import collections.abc
import importlib
import typing
from dataclasses import dataclass
from typing import Any

import typing_extensions as te
from runwayml._utils import maybe_transform

TEXT = "a red fox crossing a snowy field"
MEDIA_URLS = {
    "video": "https://example.com/input.mp4",
    "audio": "https://example.com/input.mp3",
    "image": "https://example.com/input.png",
}
# Arrays whose docstring asks for more than one item ("Shot list for custom mode (3-5 shots)").
SHORTEST = {"shots": 3}
_MEDIA_WORDS = (("video", "video"), ("audio", "audio"), ("image", "image"), ("frame", "image"))

# endpoint -> (module, params type, how the client is called: attribute path under the client)
ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "image_to_video": ("image_to_video_create_params", "ImageToVideoCreateParams", "image_to_video.create"),
    "text_to_video": ("text_to_video_create_params", "TextToVideoCreateParams", "text_to_video.create"),
    "text_to_image": ("text_to_image_create_params", "TextToImageCreateParams", "text_to_image.create"),
    "video_to_video": ("video_to_video_create_params", "VideoToVideoCreateParams", "video_to_video.create"),
    "video_upscale": ("video_upscale_create_params", "VideoUpscaleCreateParams", "video_upscale.create"),
    "image_upscale": ("image_upscale_create_params", "ImageUpscaleCreateParams", "image_upscale.create"),
    "character_performance": (
        "character_performance_create_params",
        "CharacterPerformanceCreateParams",
        "character_performance.create",
    ),
    "sound_effect": ("sound_effect_create_params", "SoundEffectCreateParams", "sound_effect.create"),
    "text_to_speech": ("text_to_speech_create_params", "TextToSpeechCreateParams", "text_to_speech.create"),
    "speech_to_speech": ("speech_to_speech_create_params", "SpeechToSpeechCreateParams", "speech_to_speech.create"),
    "voice_dubbing": ("voice_dubbing_create_params", "VoiceDubbingCreateParams", "voice_dubbing.create"),
    "voice_isolation": ("voice_isolation_create_params", "VoiceIsolationCreateParams", "voice_isolation.create"),
    "video_to_audio": ("video_to_audio_create_params", "VideoToAudioCreateParams", "video_to_audio.create"),
    "video_to_hdr": ("video_to_hdr_create_params", "VideoToHdrCreateParams", "video_to_hdr.create"),
    "avatar_videos": ("avatar_video_create_params", "AvatarVideoCreateParams", "avatar_videos.create"),
    "generate/video": ("generate.video_create_params", "VideoCreateParams", "generate.video.create"),
    "generate/image": ("generate.image_create_params", "ImageCreateParams", "generate.image.create"),
    "generate/audio": ("generate.audio_create_params", "AudioCreateParams", "generate.audio.create"),
    **{
        f"recipes/{name}": (f"recipe_{name}_params", f"Recipe{params}Params", f"recipes.{name}")
        for name, params in (
            ("ad_localization", "AdLocalization"),
            ("marketing_stock_image", "MarketingStockImage"),
            ("multi_shot_video", "MultiShotVideo"),
            ("product_ad", "ProductAd"),
            ("product_campaign_image", "ProductCampaignImage"),
            ("product_swap", "ProductSwap"),
            ("product_ugc", "ProductUgc"),
        )
    },
}


@dataclass(frozen=True)
class SdkBody:
    """One smallest valid request: the SDK's keyword arguments and the JSON body they become."""

    endpoint: str
    label: str  # the model, the recipe mode, or the params type
    kwargs: dict[str, Any]
    wire: dict[str, Any]
    method: str  # the client's method, e.g. "image_to_video.create"

    @property
    def case_id(self) -> str:
        return f"{self.endpoint}:{self.label}"


def _strip(hint: Any) -> tuple[Any, bool]:
    """(the type under Required/Annotated, whether Required marked it)."""
    required = False
    while True:
        origin = te.get_origin(hint)
        if origin in (te.Required, getattr(typing, "Required", te.Required)):
            required, hint = True, te.get_args(hint)[0]
        elif origin in (te.Annotated, typing.Annotated):
            hint = te.get_args(hint)[0]
        else:
            return hint, required


def _media(name: str, context: str) -> str:
    """The medium of a string field by its name (``video_uri``, ``prompt_image``, ``audio``); a bare
    ``uri`` takes its class's (``CharacterVideo.uri``), else an image."""

    def word_in(text: str) -> str:
        return next((media for word, media in _MEDIA_WORDS if word in text.lower()), "")

    return word_in(name) or ((word_in(context) or "image") if "uri" in name else "")


def _value(hint: Any, name: str, context: str) -> Any:
    hint, _ = _strip(hint)
    origin, args = te.get_origin(hint), te.get_args(hint)
    if te.is_typeddict(hint):
        return smallest(hint)
    if origin in (typing.Literal, te.Literal):
        return args[0]
    if origin is typing.Union:
        ordered = sorted(args, key=lambda a: 0 if a is str else 1)
        return _value(ordered[0], name, context)
    if origin in (collections.abc.Iterable, collections.abc.Sequence, list):
        return [_value(args[0], name, context) for _ in range(SHORTEST.get(name, 1))]
    if hint is bool:
        return False
    if hint in (int, float):
        return 5
    media = _media(name, context) if hint in (str, object) else ""
    return MEDIA_URLS[media] if media else TEXT


def smallest(cls: type) -> dict[str, Any]:
    """The required keys of a TypedDict, filled (Python names)."""
    out: dict[str, Any] = {}
    total = getattr(cls, "__total__", True)
    for name, hint in te.get_type_hints(cls, include_extras=True).items():
        _bare, required = _strip(hint)
        if required or total:
            out[name] = _value(hint, name, cls.__name__)
    return out


def _label(member: type, kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("model") or kwargs.get("mode") or member.__name__)


def sdk_bodies() -> list[SdkBody]:
    """Every (endpoint, model) pair of the SDK, each with its smallest valid request."""
    bodies = []
    for endpoint, (module, params, method) in ENDPOINTS.items():
        root = getattr(importlib.import_module(f"runwayml.types.{module}"), params)
        members = te.get_args(root) if te.get_origin(root) is typing.Union else (root,)
        for member in members:
            kwargs = smallest(member)
            wire: dict[str, Any] = maybe_transform(kwargs, member) or {}
            bodies.append(SdkBody(endpoint, _label(member, kwargs), kwargs, wire, method))
    return bodies


SDK_BODIES = sdk_bodies()
