"""Unit tests for image-to-video request validation and the wire body (pure, no server).

Expected values are written from the sources the catalog cites (runwayml SDK request types,
CometAPI's image-to-video page, Runway's inputs page), not read back from the catalog, so the
code and the data are both checked against them.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.runway.bodies import PARAM_NAMES, build_image_to_video_body, validate_body
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.errors import InvalidRequestError
from airflow_provider_runway.runway.flavors import (
    COMETAPI,
    DEFAULT_MODEL,
    FLAVORS,
    MODELS,
    RUNWAY,
    default_model,
    default_ratio,
    flavor_spec,
)

URL = "https://images.example.com/cat.png"
PNG = "data:image/png;base64,iVBORw0KGgo="
GRIN = "\U0001f600"  # one code point, two UTF-16 code units
GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")


def body(model: str = "gen3a_turbo", **fields: Any) -> dict[str, Any]:
    """A minimal valid body for the model (through either flavor), with ``fields`` on top."""
    base: dict[str, Any] = {"model": model, "promptImage": URL}
    if model in ("gen4_turbo", "gen4.5"):
        base["ratio"] = "1280:720"
    if model in ("veo3.1", "veo3.1_fast"):
        base["ratio"] = "1280:720"
    if model == "gen4.5":
        base.update(promptText="a cat walks", duration=5)
    return {**base, **fields}


def refused(payload: dict[str, Any], flavor: str, **kwargs: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        validate_body(payload, flavor, **kwargs)
    return info.value


def frame(position: str | None, uri: str = URL) -> dict[str, str]:
    return {"uri": uri} if position is None else {"uri": uri, "position": position}


# --------------------------------------------------------------------------- flavors and defaults


def test_flavors_carry_no_model_lists() -> None:
    assert set(FLAVORS) == {COMETAPI, RUNWAY}
    comet, runway = flavor_spec(COMETAPI), flavor_spec(RUNWAY)
    assert (comet.path_prefix, comet.seed_max, comet.prompt_text_max) == ("/runwayml/v1", 999_999_999, 512)
    assert (runway.path_prefix, runway.seed_max, runway.prompt_text_max) == ("/v1", 4_294_967_295, None)
    assert not hasattr(comet, "ratios") and not hasattr(comet, "durations")
    assert flavor_spec(RUNWAY).path("//tasks/abc") == "/v1/tasks/abc"


@pytest.mark.parametrize("name", ["openai", "", "CometAPI"])
def test_unknown_flavor_is_refused_listing_the_allowed_ones(name: str) -> None:
    with pytest.raises(ValueError, match="allowed: cometapi, runway"):
        validate_body(body(), name)


def test_default_model_per_flavor() -> None:
    assert DEFAULT_MODEL == default_model(COMETAPI) == "gen3a_turbo"
    assert default_model(RUNWAY) == "gen4_turbo"  # in Runway's current schema, 5 credits/s
    assert build_image_to_video_body(prompt_image=URL).body == {"promptImage": URL, "model": "gen3a_turbo"}
    runway = build_image_to_video_body(prompt_image=URL, ratio="960:960", flavor=RUNWAY)
    assert runway.body == {"promptImage": URL, "model": "gen4_turbo", "ratio": "960:960"}


def test_models_mapping_keeps_ratios_and_durations_for_runway_models() -> None:
    assert MODELS["gen4_turbo"].ratios == GEN4_RATIOS
    assert MODELS["gen4_turbo"].durations == tuple(range(2, 11))
    assert MODELS["veo3.1"].durations == (4, 6, 8)
    assert "gen3a_turbo" not in MODELS and "veo3" not in MODELS
    assert all(limits.ratios for limits in MODELS.values())


# --------------------------------------------------------------------------- model


@pytest.mark.parametrize("model", [None, "", "   ", 42, ["gen3a_turbo"]])
def test_model_is_required_and_the_error_lists_the_flavors_models(model: Any) -> None:
    payload: dict[str, Any] = {"promptImage": URL}
    if model is not None:
        payload["model"] = model
    err = refused(payload, RUNWAY)
    assert str(err).startswith("model: is required")
    assert "gen4_turbo" in str(err) and "gen3a_turbo" not in str(err)


def test_gen3a_turbo_is_cometapi_only_and_lenient_sends_it_anyway() -> None:
    assert validate_body(body(), COMETAPI).warnings == ()
    err = refused(body(), RUNWAY)
    assert "gen3a_turbo is not offered through flavor runway" in str(err)
    assert "runwayml 5.0" in str(err)
    relaxed = validate_body(body(), RUNWAY, lenient=True)
    assert relaxed.body == body() and "lenient" in relaxed.warnings[0]


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_veo3_left_runways_schema_and_is_refused_naming_why(flavor: str) -> None:
    err = refused(body("veo3", ratio="1280:720", duration=8), flavor)
    assert "veo3 is not offered" in str(err)


# --------------------------------------------------------------------------- unknown models


def test_unknown_model_gets_only_model_independent_checks_and_a_warning() -> None:
    payload = {"model": "gen9_hyper", "promptImage": URL, "ratio": "1:1", "duration": "7", "audio": "true"}
    payload["promptText"] = "x" * 3000  # over every model's limit Runway documents: only the model could say
    payload["futureOption"] = {"nested": [1]}
    result = validate_body(payload, RUNWAY)
    assert result.body == {**payload, "duration": 7, "audio": True}
    assert len(result.warnings) == 1 and "gen9_hyper" in result.warnings[0]
    assert f"catalog checked {load_catalog().checked}" in result.warnings[0]


def test_unknown_model_through_cometapi_keeps_cometapis_own_prompt_limit() -> None:
    err = refused({"model": "gen9_hyper", "promptImage": URL, "promptText": "x" * 513}, COMETAPI)
    assert err.field == "prompt_text" and "cometapi takes at most 512" in str(err)


@pytest.mark.parametrize(
    ("endpoint", "payload"),
    [
        # what older models require is not required of a new one (each once refused here)
        ("text_to_video", {"model": "gen9_text_video_4k", "ratio": "3840:2160"}),  # no promptText
        ("text_to_image", {"model": "gen9_text_image", "promptText": "a red fox"}),  # no ratio
        ("image_to_video", {"model": "gen9_hyper", "promptText": "from text alone"}),  # no promptImage
    ],
)
def test_unknown_models_are_never_refused_for_what_other_models_require(endpoint: str, payload: dict[str, Any]) -> None:
    result = validate_body(payload, RUNWAY, endpoint)
    assert result.body == payload
    assert "only model-independent checks" in result.warnings[0]


def test_every_model_the_sdk_lists_is_checked_against_its_own_schema() -> None:
    """kling_4 (once listed as not catalogued): its ratios are auto_720p and auto_1080p (runwayml 5.24.0)."""
    assert validate_body({"model": "kling_4", "promptImage": URL, "ratio": "auto_720p"}, RUNWAY).warnings == ()
    err = refused({"model": "kling_4", "promptImage": URL, "ratio": "1280:720"}, RUNWAY)
    assert err.field == "ratio" and "auto_720p" in str(err)


def test_frames_whose_positions_the_sdk_leaves_open_take_any_position() -> None:
    """kling_4's promptImage is ``str | list[object]``: "a first frame and optional middle and last frames"."""
    frames = [{"uri": URL, "position": p} for p in ("first", "middle", "middle", "last")]
    assert validate_body({"model": "kling_4", "promptImage": frames}, RUNWAY).warnings == ()
    err = refused({"model": "veo3.1", "promptImage": frames, "ratio": "1280:720"}, RUNWAY)
    assert err.field == "prompt_image" and "first, last" in str(err)  # documented positions still checked


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"duration": "seven"}, "duration"),
        ({"seed": 1_000_000_000}, "seed"),  # CometAPI's range applies to any model
        ({"seed": True}, "seed"),
        ({"audio": "yes"}, "audio"),
        ({"promptText": 42}, "prompt_text"),
        ({"promptImage": "http://example.com/a.png"}, "prompt_image"),
        ({"promptImage": [{"position": "first"}]}, "prompt_image"),
        ({"watermark": "maybe"}, "watermark"),
    ],
)
def test_unknown_model_still_gets_types_uris_and_the_flavors_seed_range(payload: dict[str, Any], field: str) -> None:
    err = refused({"model": "gen9_hyper", "promptImage": URL, **payload}, COMETAPI)
    assert err.field == field


def test_unknown_model_frames_pass_position_rules_but_not_uri_rules() -> None:
    frames = [frame("first"), frame("middle"), frame(None)]
    assert validate_body({"model": "gen9_hyper", "promptImage": frames}, RUNWAY).body["promptImage"] == frames
    err = refused({"model": "gen9_hyper", "promptImage": [frame("first", "https://10.0.0.1/a.png")]}, RUNWAY)
    assert "promptImage[0].uri: URL must use a domain name" in str(err)


# --------------------------------------------------------------------------- ratio and duration per model


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_veo31_at_8_seconds_goes_through_cometapi_too(flavor: str) -> None:
    assert validate_body(body("veo3.1", duration=8), flavor).body["duration"] == 8
    err = refused(body("veo3.1", duration=5), flavor)
    assert str(err) == "duration: 5 is not allowed for model veo3.1; allowed: 4, 6, 8"


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
@pytest.mark.parametrize("model", ["gen4_turbo", "gen4.5", "veo3.1", "veo3.1_fast"])
def test_ratio_is_required_where_the_schema_requires_it(flavor: str, model: str) -> None:
    payload = body(model)
    del payload["ratio"]
    assert str(refused(payload, flavor)) == f"ratio: is required for model {model}"


@pytest.mark.parametrize(
    ("model", "allowed"),
    [("gen4_turbo", GEN4_RATIOS), ("veo3.1_fast", VEO_RATIOS), ("gemini_omni_flash", ("1280:720", "720:1280"))],
)
def test_ratio_is_checked_per_model_naming_the_allowed_ones(model: str, allowed: tuple[str, ...]) -> None:
    for ratio in allowed:
        assert validate_body(body(model, ratio=ratio), RUNWAY).body["ratio"] == ratio
    err = refused(body(model, ratio="1280:768"), RUNWAY)
    assert str(err).startswith(f"ratio: '1280:768' is not allowed for model {model}; allowed: ")
    assert ", ".join(allowed) in str(err)


def test_happyhorse_takes_no_ratio_but_a_resolution() -> None:
    assert validate_body(body("happyhorse_1_0", resolution="1080P"), RUNWAY).body["resolution"] == "1080P"
    err = refused(body("happyhorse_1_0", ratio="1280:720"), RUNWAY)
    assert str(err).startswith("ratio: model happyhorse_1_0 does not take ratio")


@pytest.mark.parametrize(
    ("model", "good", "bad"), [("gen4_turbo", 2, 11), ("gemini_omni_flash", 3, 2), ("gen3a_turbo", 10, 8)]
)
def test_duration_ranges_per_model(model: str, good: int, bad: int) -> None:
    flavor = COMETAPI if model == "gen3a_turbo" else RUNWAY
    assert validate_body(body(model, duration=str(good)), flavor).body["duration"] == good
    assert refused(body(model, duration=bad), flavor).field == "duration"


def test_seedance_duration_accepts_auto_and_any_integer() -> None:
    assert validate_body(body("seedance2", duration="auto"), RUNWAY).body["duration"] == "auto"
    assert validate_body(body("seedance2_fast", duration=13), RUNWAY).body["duration"] == 13


@pytest.mark.parametrize("duration", [True, 5.0, "5s", "", [5]])
def test_duration_must_be_an_integer(duration: Any) -> None:
    assert "must be an integer" in str(refused(body(duration=duration), COMETAPI))


# --------------------------------------------------------------------------- fields a model does not take


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("veo3.1", "contentModeration", {"publicFigureThreshold": "low"}),
        ("happyhorse_1_0", "seed", 1),
        ("gemini_omni_flash", "seed", 1),
        ("gen4_turbo", "audio", True),
        ("gen4_turbo", "negativePrompt", "blur"),
        ("gen4_turbo", "watermark", False),  # a CometAPI field; Runway's schema has none
        ("seedance2", "resolution", "720P"),
    ],
)
def test_fields_a_model_does_not_take_are_refused_naming_field_and_model(model: str, field: str, value: Any) -> None:
    err = refused(body(model, **{field: value}), RUNWAY)
    assert f"model {model} does not take {field}" in str(err)
    assert err.field == PARAM_NAMES.get(field, err.field)
    lenient = validate_body(body(model, **{field: value}), RUNWAY, lenient=True)
    assert lenient.body[field] == value and "does not take" in lenient.warnings[0]


def test_cometapi_documents_watermark_for_every_model() -> None:
    assert validate_body(body("veo3.1", watermark="true"), COMETAPI).body["watermark"] is True


@pytest.mark.parametrize("model", ["veo3.1", "veo3.1_fast"])
def test_veo31_takes_audio_negative_prompt_and_seed(model: str) -> None:
    payload = body(model, audio="false", negativePrompt="no text overlays", seed="42")
    assert validate_body(payload, RUNWAY).body == {**payload, "audio": False, "seed": 42}


# --------------------------------------------------------------------------- promptText


@pytest.mark.parametrize(
    ("model", "flavor", "text", "ok"),
    [
        ("gen4_turbo", RUNWAY, "a" * 1000, True),
        ("gen4_turbo", RUNWAY, GRIN * 500, True),  # exactly 1000 UTF-16 units
        ("gen4_turbo", RUNWAY, "a" * 999 + GRIN, False),  # 1000 characters, 1001 units
        ("happyhorse_1_0", RUNWAY, "a" * 2500, True),
        ("seedance2", RUNWAY, "a" * 3500, True),
        ("seedance2", RUNWAY, "a" * 3501, False),
        ("seedance2", COMETAPI, "a" * 513, False),  # CometAPI's own 512-character limit
        ("gen3a_turbo", COMETAPI, GRIN * 512, True),  # CometAPI counts characters
        ("gen3a_turbo", COMETAPI, "a" * 513, False),
    ],
)
def test_prompt_text_limits_per_model_and_flavor(model: str, flavor: str, text: str, ok: bool) -> None:
    if ok:
        assert validate_body(body(model, promptText=text), flavor).body["promptText"] == text
    else:
        assert str(refused(body(model, promptText=text), flavor)).startswith("prompt_text (promptText): is ")


@pytest.mark.parametrize("text", ["<absent>", ""])
def test_gen45_needs_a_non_empty_prompt(text: str) -> None:
    payload = body("gen4.5")
    if text == "<absent>":
        del payload["promptText"]
    else:
        payload["promptText"] = text
    assert "model gen4.5" in str(refused(payload, RUNWAY))


@pytest.mark.parametrize("text", [42, ["a"], "\ud83d"])
def test_prompt_text_must_be_unicode_text(text: Any) -> None:
    assert refused(body(promptText=text), COMETAPI).field == "prompt_text"


# --------------------------------------------------------------------------- seed


@pytest.mark.parametrize(
    ("flavor", "model", "seed", "ok"),
    [
        (COMETAPI, "gen3a_turbo", 999_999_999, True),
        (COMETAPI, "gen4_turbo", 1_000_000_000, False),  # CometAPI's range, whatever the model
        (RUNWAY, "gen4_turbo", 4_294_967_295, True),
        (RUNWAY, "gen4_turbo", 4_294_967_296, False),
        (RUNWAY, "gen4_turbo", -1, False),
    ],
)
def test_seed_range_per_flavor(flavor: str, model: str, seed: int, ok: bool) -> None:
    if ok:
        assert validate_body(body(model, seed=str(seed)), flavor).body["seed"] == seed
    else:
        assert str(refused(body(model, seed=seed), flavor)).startswith("seed: must be between 0 and")


@pytest.mark.parametrize("seed", [True, 4.0, "abc", [1]])
def test_seed_must_be_an_integer(seed: Any) -> None:
    assert "must be an integer" in str(refused(body(seed=seed), COMETAPI))


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
@pytest.mark.parametrize("model", [None, "gen4_turbo", "veo3.1", "gen4.5"])
def test_the_default_ratio_is_one_the_model_accepts(flavor: str, model: str | None) -> None:
    chosen = model or default_model(flavor)
    ratio = default_ratio(flavor, model)
    assert ratio is not None
    body = {"promptImage": "https://images.example.com/a.jpg", "promptText": "a cat", "model": chosen, "ratio": ratio}
    body["duration"] = 8
    if chosen.startswith("gen"):
        body["duration"] = 5
    validate_body(body, flavor, "image_to_video")  # accepted as is


def test_no_default_ratio_for_a_model_the_catalog_does_not_know() -> None:
    assert default_ratio(RUNWAY, "a_model_from_next_year") is None


def test_a_model_cometapi_does_not_name_is_checked_by_its_own_schema_and_sent_with_a_warning() -> None:
    body = {"model": "kling_4", "promptImage": URL, "ratio": "16:9", "duration": 5, "promptText": "a fox"}
    spec = load_catalog().endpoints["image_to_video"].models["kling_4"]
    assert not spec.offered_by(COMETAPI) and spec.sendable_through(COMETAPI)
    ratio = spec.fields["ratio"]
    body["ratio"] = str(ratio.values[0]) if ratio.values else "16:9"
    body = {k: v for k, v in body.items() if k in spec.fields or k == "model"}
    result = validate_body(body, COMETAPI)
    assert any("do not name kling_4" in warning for warning in result.warnings)
    err = refused({**body, "ratio": "1:99"}, COMETAPI)  # its own schema still applies
    assert err.field == "ratio"


@pytest.mark.parametrize("endpoint", sorted(load_catalog().modelless))
def test_router_and_recipe_bodies_name_no_model_and_are_checked_against_their_shape(endpoint: str) -> None:
    spec = load_catalog().modelless[endpoint]
    shape = spec.body.one_of[0] if spec.body.one_of else spec.body
    required = [wire for wire, field in shape.fields.items() if field.required]
    assert required, endpoint  # every router/recipe body has something it needs
    err = refused({"model": "gen4_turbo"}, RUNWAY, endpoint=endpoint)
    assert err.field in {*(w.split("(")[0] for w in required), "model"} or "model" in str(err)
    assert refused({}, COMETAPI, endpoint=endpoint).field == "endpoint"  # CometAPI documents none of them


def test_a_router_body_is_sent_as_the_api_documents_it() -> None:
    body = {"configId": "cfg_1", "input": {"promptText": "a fox", "aspectRatio": "16:9"}}
    assert validate_body(body, RUNWAY, "generate/video").body == body
    assert refused({"configId": "cfg_1", "input": {"aspectRatio": "7:3"}}, RUNWAY, endpoint="generate/video").field == (
        "input"
    )
