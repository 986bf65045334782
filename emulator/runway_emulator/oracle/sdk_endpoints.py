"""The task-creating endpoints of Runway's API as the official SDK (runwayml 5.24.0) defines them.

Each endpoint is ``POST /v1/<name>`` and its request type is the SDK's params type: a union of
one TypedDict per model (``image_to_video``...), a single TypedDict (``video_to_hdr``...), a
Model Router request (``generate/*``: ``{"configId", "input"}``, no model named) or a recipe
(``recipes/*``; ``multi_shot_video`` is a union told apart by ``mode``). Every one of them is
typed in the SDK as creating a task (``create_waitable_resource``: poll it at ``/v1/tasks/{id}``).
"""

from __future__ import annotations

import functools
import importlib

from runway_emulator.oracle.nodes import Node, Shape, shapes_of
from runway_emulator.oracle.reader import node_of

_TYPES = "runwayml.types"

# endpoint name (the path after /v1/) -> (module, params type)
SDK_ENDPOINTS: dict[str, tuple[str, str]] = {
    "image_to_video": (f"{_TYPES}.image_to_video_create_params", "ImageToVideoCreateParams"),
    "text_to_video": (f"{_TYPES}.text_to_video_create_params", "TextToVideoCreateParams"),
    "text_to_image": (f"{_TYPES}.text_to_image_create_params", "TextToImageCreateParams"),
    "video_to_video": (f"{_TYPES}.video_to_video_create_params", "VideoToVideoCreateParams"),
    "video_upscale": (f"{_TYPES}.video_upscale_create_params", "VideoUpscaleCreateParams"),
    "image_upscale": (f"{_TYPES}.image_upscale_create_params", "ImageUpscaleCreateParams"),
    "character_performance": (f"{_TYPES}.character_performance_create_params", "CharacterPerformanceCreateParams"),
    "sound_effect": (f"{_TYPES}.sound_effect_create_params", "SoundEffectCreateParams"),
    "text_to_speech": (f"{_TYPES}.text_to_speech_create_params", "TextToSpeechCreateParams"),
    "speech_to_speech": (f"{_TYPES}.speech_to_speech_create_params", "SpeechToSpeechCreateParams"),
    "voice_dubbing": (f"{_TYPES}.voice_dubbing_create_params", "VoiceDubbingCreateParams"),
    "voice_isolation": (f"{_TYPES}.voice_isolation_create_params", "VoiceIsolationCreateParams"),
    "video_to_audio": (f"{_TYPES}.video_to_audio_create_params", "VideoToAudioCreateParams"),
    "video_to_hdr": (f"{_TYPES}.video_to_hdr_create_params", "VideoToHdrCreateParams"),
    "avatar_videos": (f"{_TYPES}.avatar_video_create_params", "AvatarVideoCreateParams"),
    "generate/video": (f"{_TYPES}.generate.video_create_params", "VideoCreateParams"),
    "generate/image": (f"{_TYPES}.generate.image_create_params", "ImageCreateParams"),
    "generate/audio": (f"{_TYPES}.generate.audio_create_params", "AudioCreateParams"),
    "recipes/ad_localization": (f"{_TYPES}.recipe_ad_localization_params", "RecipeAdLocalizationParams"),
    "recipes/marketing_stock_image": (
        f"{_TYPES}.recipe_marketing_stock_image_params",
        "RecipeMarketingStockImageParams",
    ),
    "recipes/multi_shot_video": (f"{_TYPES}.recipe_multi_shot_video_params", "RecipeMultiShotVideoParams"),
    "recipes/product_ad": (f"{_TYPES}.recipe_product_ad_params", "RecipeProductAdParams"),
    "recipes/product_campaign_image": (
        f"{_TYPES}.recipe_product_campaign_image_params",
        "RecipeProductCampaignImageParams",
    ),
    "recipes/product_swap": (f"{_TYPES}.recipe_product_swap_params", "RecipeProductSwapParams"),
    "recipes/product_ugc": (f"{_TYPES}.recipe_product_ugc_params", "RecipeProductUgcParams"),
}


@functools.cache
def root_node(endpoint: str) -> Node:
    """The request type of one endpoint, read from the SDK on first use."""
    module_name, type_name = SDK_ENDPOINTS[endpoint]
    return node_of(getattr(importlib.import_module(module_name), type_name))


def root_shapes(endpoint: str) -> list[Shape]:
    """The TypedDicts a body of this endpoint may be: one per model (or per ``mode``)."""
    return shapes_of(root_node(endpoint))


def model_names(shapes: list[Shape]) -> list[str]:
    """The ``model`` values these TypedDicts require, in the SDK's order."""
    return [str(value) for shape in shapes for value in shape.literal("model") or ()]


def sdk_models(endpoint: str) -> list[str]:
    """Every model the SDK defines for an endpoint (empty for the router and recipes)."""
    return model_names(root_shapes(endpoint))
