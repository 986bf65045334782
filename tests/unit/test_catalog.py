"""The catalog's data: it loads, every entry is dated and sourced, and it matches Runway's SDK.

The SDK check reads the request types of the ``runwayml`` package this project locks
(uv.lock) at run time with ``typing`` (independently of scripts/catalog, which reads their
source): every model the catalog says Runway offers must have the same fields, the same required
fields and the same enum values there, and every model the SDK lists must be catalogued.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest

from airflow_provider_runway.runway.catalog import (
    CATALOG_FILE,
    COMETAPI,
    RUNWAY,
    EndpointSpec,
    FieldSpec,
    ModelSpec,
    load_catalog,
    parse_catalog,
)
from scripts.catalog import models_table

CATALOG = load_catalog()
ROOT = Path(__file__).resolve().parents[2]
RAW = json.loads((ROOT / "airflow_provider_runway" / "runway" / CATALOG_FILE).read_text(encoding="utf-8"))
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FLAVORS = (COMETAPI, RUNWAY)
# Every task endpoint of runwayml 5.24.0 whose body names a model; each must be in the catalog.
EXPECTED_ENDPOINTS = {
    "image_to_video", "text_to_image", "text_to_video", "video_to_video", "video_upscale", "image_upscale",
    "character_performance", "sound_effect", "text_to_speech", "speech_to_speech", "voice_dubbing", "voice_isolation",
    "video_to_audio", "video_to_hdr", "avatar_videos",
}  # fmt: skip
# The task endpoints whose body names no model (Model Router, recipes): their shape is kept apart.
EXPECTED_MODELLESS = {
    "generate/audio", "generate/image", "generate/video", "recipes/ad_localization", "recipes/marketing_stock_image",
    "recipes/multi_shot_video", "recipes/product_ad", "recipes/product_campaign_image", "recipes/product_swap",
    "recipes/product_ugc",
}  # fmt: skip
# The module each endpoint's request type lives in, where it is not ``<endpoint>_create_params``.
SDK_MODULES = {"avatar_videos": "avatar_video_create_params"}


def all_models() -> Iterator[tuple[EndpointSpec, ModelSpec]]:
    for endpoint in CATALOG.endpoints.values():
        for model in endpoint.models.values():
            yield endpoint, model


MODEL_IDS = [f"{e.name}:{m.name}" for e, m in all_models()]


# --------------------------------------------------------------------------- shape and dating


def test_catalog_holds_every_endpoint_the_provider_knows() -> None:
    assert set(CATALOG.endpoints) == EXPECTED_ENDPOINTS
    assert set(CATALOG.modelless) == EXPECTED_MODELLESS
    assert set(CATALOG.left_out) == {"realtime_sessions", "voices/preview"}  # they start no task
    assert DATE.match(CATALOG.checked)


@pytest.mark.parametrize("name", sorted(EXPECTED_MODELLESS))
def test_endpoints_without_a_model_keep_their_body_shape(name: str) -> None:
    spec = CATALOG.modelless[name]
    assert spec.paths == {RUNWAY: f"/v1/{name}"} and spec.not_offered[COMETAPI]
    assert spec.body.kind == "object" and (spec.body.fields or spec.body.one_of)
    assert DATE.match(spec.checked) and spec.source and spec.output in ("video", "image", "audio")


@pytest.mark.parametrize(("endpoint", "model"), list(all_models()), ids=MODEL_IDS)
def test_every_model_is_dated_sourced_and_priced_honestly(endpoint: EndpointSpec, model: ModelSpec) -> None:
    assert DATE.match(model.checked) and model.source
    for flavor in FLAVORS:
        explained = flavor in model.not_offered or flavor in model.unlisted
        assert model.offered_by(flavor) or explained or not endpoint.offered_by(flavor), (
            f"{model.name}: say why {flavor} does not offer it"
        )
    assert set(model.flavors) <= set(endpoint.flavors())
    price = model.price
    assert price is not None, "an unknown price is stated as such, never left out"
    assert price.status in ("verified", "secondary", "unverified")
    assert DATE.match(price.checked) and price.source
    assert (price.credits is None) == (price.status == "unverified")
    assert price.per in ("second", "image", "characters", "call", "input")


@pytest.mark.parametrize("endpoint", list(CATALOG.endpoints.values()), ids=list(CATALOG.endpoints))
def test_paths_defaults_and_missing_flavors_are_explained(endpoint: EndpointSpec) -> None:
    assert DATE.match(endpoint.checked) and endpoint.source
    for flavor in FLAVORS:
        if endpoint.offered_by(flavor):
            prefix = "/runwayml/v1" if flavor == COMETAPI else "/v1"
            assert endpoint.paths[flavor] == f"{prefix}/{endpoint.name}"
            default = endpoint.models[endpoint.defaults[flavor]]
            assert default.offered_by(flavor)
        else:
            assert endpoint.not_offered[flavor], f"say why {flavor} does not offer {endpoint.name}"


def test_cometapi_offers_the_routes_its_pages_document_and_no_others() -> None:
    offered = {name for name, e in CATALOG.endpoints.items() if e.offered_by(COMETAPI)}
    assert offered == {"image_to_video", "text_to_image", "video_to_video", "video_upscale", "character_performance"}
    assert all(e.offered_by(RUNWAY) for e in CATALOG.endpoints.values())


def test_image_to_video_models_and_defaults() -> None:
    i2v = CATALOG.endpoints["image_to_video"]
    cometapi_models = {"gen4_turbo", "gen4.5", "veo3.1", "veo3.1_fast", "seedance2", "seedance2_fast"}
    cometapi_models |= {"seedance2_mini", "happyhorse_1_0", "gemini_omni_flash"}
    runway_models = {m.name for m in i2v.models.values() if m.offered_by(RUNWAY)}
    assert len(runway_models) == 25 and cometapi_models < runway_models  # runwayml 5.24.0 lists 25
    assert {"kling_4", "hailuo3", "wan3", "h3_max", "seedance2_5", "gemini_omni_flash_1.1"} < runway_models
    # CometAPI: the models it offered before; its pages name none of the newer ones
    assert {m.name for m in i2v.models.values() if m.offered_by(COMETAPI)} == cometapi_models | {"gen3a_turbo"}
    assert i2v.defaults == {"runway": "gen4_turbo", "cometapi": "gen3a_turbo"}
    assert "veo3" in i2v.models and not i2v.models["veo3"].flavors  # gone from Runway's schema, kept to explain


def test_gen3a_turbo_follows_the_cometapi_page() -> None:
    """The seed page: duration 5|10 (default 5), eight ratios (default 1280:720), seed and prompt limits."""
    fields = CATALOG.endpoints["image_to_video"].models["gen3a_turbo"].fields
    assert fields["duration"].values == (5, 10) and fields["duration"].default == 5
    assert fields["ratio"].values == (
        "1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "1280:768", "768:1280",
    )  # fmt: skip
    assert (fields["seed"].minimum, fields["seed"].maximum) == (0, 999_999_999)
    assert (fields["promptText"].max_length, fields["promptText"].count) == (512, "characters")
    rules = CATALOG.endpoints["image_to_video"].rules(COMETAPI)
    assert (rules.seed_max, rules.prompt_text_max) == (999_999_999, 512)


def test_inputs_follow_runways_inputs_page() -> None:
    assert CATALOG.url_max_chars == 2048
    assert CATALOG.media["image"].data_uri_max_chars == 5 * 1024 * 1024
    assert set(CATALOG.media["image"].data_uri_types) >= {"jpeg", "png", "webp"}
    assert "gif" not in CATALOG.media["image"].data_uri_types


def test_parsing_refuses_unknown_keys() -> None:
    bad = json.loads(json.dumps(RAW))
    bad["endpoints"]["image_to_video"]["models"]["gen4_turbo"]["fields"]["ratio"]["maxLen"] = 3
    with pytest.raises(TypeError):
        parse_catalog(bad)


# --------------------------------------------------------------------------- against the SDK

SDK_ENDPOINTS = sorted(EXPECTED_ENDPOINTS)


def _strip(hint: Any) -> tuple[Any, bool]:
    """(the bare type, required) from ``Required[Annotated[T, PropertyInfo]]`` and friends."""
    required = False
    while get_origin(hint) in (typing.Required, typing.NotRequired, typing.Annotated):
        required = required or get_origin(hint) is typing.Required
        hint = get_args(hint)[0]
    return hint, required


def _wire(name: str, hint: Any) -> str:
    while get_origin(hint) in (typing.Required, typing.NotRequired, typing.Annotated):
        for meta in getattr(hint, "__metadata__", ()):
            alias = getattr(meta, "alias", None)
            if alias:
                return str(alias)
        hint = get_args(hint)[0]
    return name


def sdk_models(endpoint: str) -> dict[str, dict[str, tuple[bool, tuple[Any, ...] | None]]]:
    """model -> wire field -> (required, Literal values or None), from the installed runwayml types."""
    runwayml = pytest.importorskip("runwayml")
    module_name = SDK_MODULES.get(endpoint, f"{endpoint}_create_params")
    module = importlib.import_module(f"runwayml.types.{module_name}")
    alias = getattr(module, "".join(p.title() for p in module_name.split("_")[:-1]) + "Params")
    out: dict[str, dict[str, tuple[bool, tuple[Any, ...] | None]]] = {}
    for member in get_args(alias) or (alias,):
        hints = typing.get_type_hints(member, include_extras=True)
        fields: dict[str, tuple[bool, tuple[Any, ...] | None]] = {}
        for name, hint in hints.items():
            bare, required = _strip(hint)
            values = get_args(bare) if get_origin(bare) is typing.Literal else None
            fields[_wire(name, hint)] = (required, values)
        model = fields.pop("model")[1]
        assert model is not None, runwayml.__version__
        out[str(model[0])] = fields
    return out


@pytest.mark.parametrize("endpoint", SDK_ENDPOINTS)
def test_catalogued_runway_models_match_the_locked_sdk(endpoint: str) -> None:
    sdk = sdk_models(endpoint)
    spec = CATALOG.endpoints[endpoint]
    runway_models = {name: m for name, m in spec.models.items() if m.offered_by(RUNWAY)}
    assert set(runway_models) == set(sdk), "the catalog and the SDK list different models"
    for name, model in runway_models.items():
        fields = sdk[name]
        assert set(model.fields) == set(fields), name
        for wire, (required, values) in fields.items():
            ours: FieldSpec = model.fields[wire]
            assert ours.required is required, f"{name}.{wire}"
            if values is not None and ours.kind == "enum":  # typing caches equal Literals: order is not kept
                assert set(ours.values) == set(values), f"{name}.{wire}"


@pytest.mark.parametrize("endpoint", SDK_ENDPOINTS)
def test_models_gone_from_runway_are_gone_from_the_sdk(endpoint: str) -> None:
    sdk = sdk_models(endpoint)
    for name, model in CATALOG.endpoints[endpoint].models.items():
        if RUNWAY in model.not_offered:
            assert name not in sdk, f"{name} is back in the SDK: the catalog should offer it again"


# --------------------------------------------------------------------------- the generated table


def test_committed_models_table_is_generated_from_the_catalog() -> None:
    committed = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert committed == models_table.render(CATALOG), "docs/models.md is stale: run `make catalog`"


def test_models_table_names_every_model_and_flavor_row() -> None:
    text = models_table.render(CATALOG)
    for endpoint, model in all_models():
        for flavor in model.flavors:
            assert f"| {model.name} | {flavor} |" in text, (endpoint.name, model.name, flavor)
    assert "| gen3a_turbo | runway | not offered:" in text
