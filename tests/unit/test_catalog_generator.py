"""How scripts/catalog reads SDK request types, on a small synthetic SDK written here.

The synthetic package mimics what Stainless generates (TypedDicts with ``PropertyInfo`` aliases,
``Required``, literals, unions, docstrings after each field, resources posting with
``create_waitable_resource``), so each rule of the reader is pinned without the real SDK.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from scripts.catalog.docstrings import item_count, numeric_range, stated_default, text_limit
from scripts.catalog.merge import OverlayError, merge
from scripts.catalog.schema import SdkSchema, read_schema
from scripts.catalog.sdk import sdk_routes
from scripts.catalog.shapes import UnknownAnnotation
from scripts.catalog.writer import render_json

HEADER = """\
from __future__ import annotations
from typing import Union, Iterable
from typing_extensions import Literal, Required, NotRequired, Annotated, TypeAlias, TypedDict
from .._utils import PropertyInfo
"""
WIDGET_TYPES = '''
from .shared_param import SharedRef

class Alpha(TypedDict, total=False):
    model: Required[Literal["alpha"]]

    prompt_text: Required[Annotated[str, PropertyInfo(alias="promptText")]]
    """A non-empty string up to 1000 characters (measured in UTF-16 code units)."""

    prompt_image: Required[Annotated[Union[str, Iterable[AlphaFrame]], PropertyInfo(alias="promptImage")]]
    """An image, or a first frame and optionally a last frame.

    This model does not support generating with only a last frame.
    """

    duration: int
    """Must be an integer from 2 to 10."""

    loudness: float
    """How loud, between 0.5 and 30 seconds. Aspect ratio must be between 0.4 and 4."""

    seed: Union[int, Literal["auto"]]
    """A seed (0\u20134294967295), or auto."""

    ratio: Literal["1280:720", "720:1280"]

    steps: Literal[4, 6, 8]
    """Defaults to 6."""

    quality: Literal["low", "high"]
    """Defaults to `high` when references are given and `low` otherwise."""

    resolution: Literal["720p", "2k"]
    """From 720p to 2k. Defaults to `2k`."""

    reference_images: Annotated[Iterable[AlphaReference], PropertyInfo(alias="referenceImages")]
    """An array of one to three images. Total duration must be between 3 and 15 seconds."""

    reference_audio: Annotated[Iterable[AlphaAudio], PropertyInfo(alias="referenceAudio")]
    """Up to 9 clips. Audio references require a text prompt."""

    character: Union[AlphaCharacterImage, AlphaCharacterVideo]

    voice: Union[AlphaPreset, AlphaCustom]

    shared: SharedRef

    keyframes: Iterable[object]
    """Up to 5 keyframes."""


class AlphaFrame(TypedDict, total=False):
    position: Required[Literal["first", "last"]]

    uri: Required[str]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g. `data:image/png;base64,...`, up to 5MB)."""


class AlphaReference(TypedDict, total=False):
    uri: Required[str]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g. `data:image/png;base64,...`, up to 5MB)."""

    tag: str
    """Must be 3-16 characters, start with a letter, and use only letters, digits, and underscores."""

    at: float
    """Position as a fraction [0.0, 1.0] of the input video duration."""


class AlphaAudio(TypedDict, total=False):
    type: Required[Literal["audio"]]

    uri: Required[str]
    """A HTTPS URL, Runway upload URI, or base64 data URI (e.g. `data:audio/mp3;base64,...`, up to 5MB)."""


class AlphaCharacterImage(TypedDict, total=False):
    type: Required[Literal["image"]]
    uri: Required[str]


class AlphaCharacterVideo(TypedDict, total=False):
    type: Required[Literal["video"]]
    uri: Required[str]


class AlphaPreset(TypedDict, total=False):
    preset_id: Required[Annotated[Literal["Maya"], PropertyInfo(alias="presetId")]]
    type: Required[Literal["preset"]]


class AlphaCustom(TypedDict, total=False):
    id: Required[str]
    type: Required[Literal["custom"]]


class Beta(TypedDict):
    model: Literal["beta"]
    video_uri: Annotated[str, PropertyInfo(alias="videoUri")]
    note: NotRequired[str]


WidgetCreateParams: TypeAlias = Union[Alpha, Beta]
'''
SHARED_TYPES = """
class SharedRef(TypedDict, total=False):
    audio_uri: Required[Annotated[str, PropertyInfo(alias="audioUri")]]
"""
ROUTED_TYPES = '''
class RoutedCreateParams(TypedDict, total=False):
    config_id: Required[Annotated[str, PropertyInfo(alias="configId")]]
    """The slug of a saved config."""

    output_count: Annotated[int, PropertyInfo(alias="outputCount")]
    """Number of images to generate (1-10)."""
'''
RESOURCES = """
from ..types import widget_create_params, routed_create_params, session_params


class Widgets:
    def create(self, **body):
        return self._post(
            "/v1/widget",
            body=maybe_transform(body, widget_create_params.WidgetCreateParams),
            cast_to=create_waitable_resource(WidgetCreateResponse, self._client),
        )

    def routed(self, **body):
        return self._post(
            "/v1/generate/widget",
            body=maybe_transform(body, routed_create_params.RoutedCreateParams),
            cast_to=create_waitable_resource(RoutedResponse, self._client),
        )

    def session(self, **body):
        return self._post("/v1/sessions", body=maybe_transform(body, session_params.SessionParams), cast_to=Session)
"""


def write_sdk(root: Path, widget_types: str = WIDGET_TYPES) -> Path:
    package = root / "runwayml"
    files = {
        "_version.py": '__version__ = "9.9.9"\n',
        "types/__init__.py": "",
        "types/widget_create_params.py": HEADER + dedent(widget_types),
        "types/shared_param.py": HEADER + dedent(SHARED_TYPES),
        "types/routed_create_params.py": HEADER + dedent(ROUTED_TYPES),
        "types/session_params.py": HEADER + "class SessionParams(TypedDict):\n    model: Literal['live']\n",
        "resources/__init__.py": "",
        "resources/widgets.py": dedent(RESOURCES),
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package


@pytest.fixture
def schema(tmp_path: Path) -> SdkSchema:
    return read_schema(write_sdk(tmp_path))


def alpha(schema: SdkSchema) -> dict[str, Any]:
    return schema.endpoints["widget"].models["alpha"].fields


def test_routes_are_the_posts_that_create_tasks(tmp_path: Path) -> None:
    routes = sdk_routes(write_sdk(tmp_path))
    assert {name: r.creates_task for name, r in routes.items()} == {
        "generate/widget": True,
        "sessions": False,
        "widget": True,
    }
    assert read_schema(tmp_path / "runwayml").version == "9.9.9"


def test_models_come_from_the_model_literal_and_aliases_name_the_fields(schema: SdkSchema) -> None:
    assert set(schema.endpoints["widget"].models) == {"alpha", "beta"}
    assert "model" not in alpha(schema)
    assert {"promptText", "promptImage", "referenceImages", "referenceAudio"} <= set(alpha(schema))
    assert schema.endpoints["widget"].models["alpha"].type_name == "Alpha"


def test_required_follows_required_and_total(schema: SdkSchema) -> None:
    fields = alpha(schema)
    assert fields["promptText"]["required"] and "required" not in fields["duration"]
    beta = schema.endpoints["widget"].models["beta"].fields
    assert beta["videoUri"] == {"type": "uri", "media": "video", "required": True}  # total=True
    assert "required" not in beta["note"]  # NotRequired


def test_literals_become_enums_and_int_or_auto_an_integer_that_also_takes_auto(schema: SdkSchema) -> None:
    fields = alpha(schema)
    assert fields["ratio"] == {"type": "enum", "values": ["1280:720", "720:1280"]}
    assert fields["steps"] == {"type": "enum", "values": [4, 6, 8], "default": 6}
    assert fields["seed"] == {"type": "integer", "also": ["auto"], "min": 0, "max": 4294967295}


def test_docstring_ranges_and_text_limits(schema: SdkSchema) -> None:
    fields = alpha(schema)
    assert fields["duration"] == {"type": "integer", "min": 2, "max": 10}
    assert fields["loudness"] == {"type": "number", "min": 0.5, "max": 30.0}  # the first range stated
    assert fields["promptText"] == {"type": "text", "max": 1000, "count": "utf16", "non_empty": True, "required": True}
    reference = fields["referenceImages"]["items"]["fields"]
    assert reference["at"] == {"type": "number", "min": 0.0, "max": 1.0}
    assert reference["tag"] == {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{2,15}$"}


def test_defaults_only_when_unconditional_and_a_value_the_field_takes(schema: SdkSchema) -> None:
    fields = alpha(schema)
    assert fields["resolution"]["default"] == "2k"
    assert "default" not in fields["quality"]  # depends on the references


def test_nested_lists_media_and_unions(schema: SdkSchema) -> None:
    fields = alpha(schema)
    assert fields["referenceImages"]["min_items"] == 1 and fields["referenceImages"]["max_items"] == 3
    assert fields["referenceImages"]["items"]["fields"]["uri"] == {"type": "uri", "media": "image", "required": True}
    assert fields["referenceAudio"] == {
        "type": "list",
        "items": {"type": "media", "kinds": ["audio"]},
        "max_items": 9,
        "requires": ["promptText"],
    }
    assert fields["character"] == {"type": "media", "kinds": ["image", "video"]}
    assert [alt["fields"]["type"]["values"] for alt in fields["voice"]["one_of"]] == [["preset"], ["custom"]]
    assert fields["voice"]["one_of"][0]["fields"]["presetId"] == {"type": "enum", "values": ["Maya"], "required": True}
    assert fields["shared"] == {
        "type": "object",
        "fields": {"audioUri": {"type": "uri", "media": "audio", "required": True}},
    }
    assert fields["keyframes"] == {"type": "list", "max_items": 5}  # items the SDK leaves open


def test_an_image_or_frame_list_becomes_frames(schema: SdkSchema) -> None:
    assert alpha(schema)["promptImage"] == {
        "type": "frames",
        "media": "image",
        "positions": ["first", "last"],
        "position_required": True,
        "first_required": True,
        "required": True,
    }


def test_a_body_without_a_model_is_kept_whole(schema: SdkSchema) -> None:
    routed = schema.endpoints["generate/widget"]
    assert routed.models == {} and routed.body is not None
    assert routed.body["fields"]["outputCount"] == {"type": "integer", "min": 1, "max": 10}
    assert schema.pairs() == [("widget", "alpha"), ("widget", "beta")]


def test_an_unknown_annotation_is_refused_not_guessed(tmp_path: Path) -> None:
    odd = WIDGET_TYPES.replace("    ratio: Literal[", "    extra: Dict[str, int]\n\n    ratio: Literal[")
    with pytest.raises(UnknownAnnotation, match="Dict"):
        read_schema(write_sdk(tmp_path, odd))


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Total duration across all segments must be between 3 and 15 seconds.", (3.0, 15.0)),
        ("from 0 (faithful) to 100.", (0.0, 100.0)),
        ("Speech speed multiplier (0.7\u20131.2).", (0.7, 1.2)),
        ("Target output resolution from 720p to 4k.", None),
        ("If unspecified, a random number is chosen.", None),
    ],
)
def test_numeric_range_phrasings(doc: str, expected: tuple[float, float] | None) -> None:
    assert numeric_range(doc) == expected


def test_counts_lengths_and_defaults_phrasings() -> None:
    assert text_limit("A non-empty string up to 32,000 characters.") == (32000, "characters")
    assert item_count("Product images (1-10). Multiple angles.") == (1, 10)
    assert item_count("A HTTPS URL ... up to 5MB) containing an encoded image.") == (None, None)
    assert stated_default("Defaults to 0.5.") == "0.5"
    assert stated_default("`mp4` (default) returns an H.264 .mp4.") == "mp4"
    assert stated_default('Defaults to "customize" when multiPrompt is provided.') is None


# --------------------------------------------------------------------------- merging the overlay


def overlay(**endpoint: Any) -> dict[str, Any]:
    facts = {"output": "video", "paths": {"cometapi": "/runwayml/v1/widget"}, "defaults": {"runway": "alpha"}}
    return {
        "checked": "2026-12-03",
        "sdk_source": "runwayml {version}",
        "sources": {},
        "flavors": {},
        "inputs": {},
        "left_out": {"sessions": "a live session, not a task"},
        "new_models": {
            "checked": "2026-12-03",
            "unlisted": {"cometapi": "not on CometAPI's pages ({model}, {endpoint})"},
            "price": {"credits": None, "status": "unverified", "checked": "2026-12-03", "source": "none"},
            "price_per_output": {"video": "second", "image": "image", "audio": "input"},
        },
        "endpoints": {"widget": {**facts, **endpoint}, "generate/widget": {"output": "image"}},
    }


def test_a_model_the_overlay_does_not_name_is_runway_only_and_unpriced(schema: SdkSchema) -> None:
    catalog = merge(schema, overlay())
    beta = catalog["endpoints"]["widget"]["models"]["beta"]
    assert beta["flavors"] == ["runway"]
    assert beta["unlisted"] == {"cometapi": "not on CometAPI's pages (beta, widget)"}
    assert beta["price"]["per"] == "second" and beta["price"]["credits"] is None
    assert beta["source"] == "runwayml 9.9.9 types/widget_create_params.py (Beta)"
    assert catalog["endpoints"]["widget"]["paths"] == {"runway": "/v1/widget", "cometapi": "/runwayml/v1/widget"}
    assert catalog["modelless"]["generate/widget"]["paths"] == {"runway": "/v1/generate/widget"}


def test_overlay_patches_a_field_and_keeps_hand_kept_models(schema: SdkSchema) -> None:
    models = {
        "alpha": {"flavors": ["runway", "cometapi"], "fields": {"duration": {"default": 5}}},
        "gamma": {"outside_sdk": "CometAPI only", "flavors": ["cometapi"], "fields": {}},
    }
    catalog = merge(schema, overlay(models=models))
    widget = catalog["endpoints"]["widget"]["models"]
    assert widget["alpha"]["fields"]["duration"] == {"type": "integer", "min": 2, "max": 10, "default": 5}
    assert widget["gamma"] == {"flavors": ["cometapi"], "fields": {}}


@pytest.mark.parametrize(
    ("models", "says"),
    [
        ({"gone": {"flavors": ["runway"]}}, "not in the SDK"),
        ({"alpha": {"flavors": ["runway"], "fields": {"nope": {"default": 1}}}}, "does not define"),
        ({"alpha": {"outside_sdk": "was CometAPI only", "flavors": ["cometapi"]}}, "the SDK defines it now"),
        ({"alpha": {"flavors": ["cometapi"]}}, "Runway direct offers every SDK model"),
    ],
)
def test_overlay_contradicting_the_sdk_is_refused(schema: SdkSchema, models: dict[str, Any], says: str) -> None:
    with pytest.raises(OverlayError, match=says):
        merge(schema, overlay(models=models))


def test_an_sdk_endpoint_without_overlay_facts_is_refused(schema: SdkSchema) -> None:
    facts = overlay()
    del facts["endpoints"]["generate/widget"]
    with pytest.raises(OverlayError, match="generate/widget"):
        merge(schema, facts)


def test_the_written_json_does_not_depend_on_key_order() -> None:
    one = {"b": [1, 2], "a": {"y": [{"k": 1}], "x": "s"}}
    two = json.loads(json.dumps({"a": {"x": "s", "y": [{"k": 1}]}, "b": [1, 2]}))
    assert render_json(one) == render_json(two)
    assert json.loads(render_json(one)) == one
    assert '"b": [1, 2]' in render_json(one)  # flat lists stay on one line
