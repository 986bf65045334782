"""The dated model catalog: which endpoints, models and fields each API flavor accepts, and prices.

The facts live in ``catalog.json`` next to this module (data, not code): every endpoint and
model carries the date it was checked and the source it was checked against (the official
``runwayml`` SDK's request types, Runway's inputs and pricing pages, CometAPI's Runway pages).
This module only turns that file into frozen dataclasses and answers look-ups; it does no I/O
besides reading the packaged file once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

CATALOG_FILE = "catalog.json"
COMETAPI = "cometapi"
RUNWAY = "runway"


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class FieldSpec:
    """One request field of one model, as the API documents it.

    ``kind`` is one of: text, string, enum, integer, number, boolean, uri (one media URI),
    frames (an image URI or a list of ``{uri, position}``), media (``{type, uri}``), object, list.
    """

    kind: str
    required: bool = False
    values: tuple[Any, ...] = ()  # enum: the allowed values
    also: tuple[Any, ...] = ()  # integer: literal values accepted besides numbers (e.g. "auto")
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None  # text
    count: str = "characters"  # text: "characters" (code points) or "utf16" (UTF-16 code units)
    non_empty: bool = False
    pattern: str | None = None  # string
    media: str | None = None  # uri, frames: "image" | "video" | "audio"
    kinds: tuple[str, ...] = ()  # media: the allowed ``type`` values
    positions: tuple[str, ...] = ()  # frames
    position_required: bool = False
    first_required: bool = False
    exclusive_modes: bool = False  # frames: positioned key frames and reference images cannot be mixed
    fields: Mapping[str, FieldSpec] = field(default_factory=lambda: _frozen({}))  # object
    one_of: tuple[FieldSpec, ...] = ()  # object: alternative shapes
    items: FieldSpec | None = None  # list
    min_items: int | None = None
    max_items: int | None = None
    requires: tuple[str, ...] = ()  # other fields that must be present alongside this one
    default: Any = None  # the API's default when the field is omitted (None: not documented)


@dataclass(frozen=True)
class Rate:
    """A price that applies when every named field has one of the listed values."""

    when: Mapping[str, tuple[Any, ...]]
    credits: float


@dataclass(frozen=True)
class Price:
    """What one task of a model costs in Runway credits, and how sure that figure is.

    ``per``: "second" (of output, from ``duration``), "image" (times ``outputCount``),
    "characters" (of ``promptText``, per ``per_characters``), "call", or "input" (depends on
    the length of an input the provider cannot read before the call).
    ``status``: "verified" (read in a first-party source), "secondary" (a dated third-party
    copy of Runway's pricing page), "unverified" (no figure we could check).
    """

    per: str
    credits: float | None
    status: str
    checked: str
    source: str
    rates: tuple[Rate, ...] = ()
    minimum: float | None = None
    extra_per_call: float = 0.0
    per_characters: int | None = None
    assume_seconds: int | None = None  # duration assumed when none is given and the field has no maximum
    note: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    flavors: tuple[str, ...]
    fields: Mapping[str, FieldSpec]
    checked: str
    source: str
    price: Price | None = None
    # flavor -> why that flavor does not offer it
    not_offered: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    # flavor -> why it is sent through that flavor unconfirmed (CometAPI forwards models it does not name)
    unlisted: Mapping[str, str] = field(default_factory=lambda: _frozen({}))

    def offered_by(self, flavor: str) -> bool:
        return flavor in self.flavors

    def sendable_through(self, flavor: str) -> bool:
        """Offered, or unlisted: checked against its own schema and sent with a warning."""
        return flavor in self.flavors or flavor in self.unlisted


@dataclass(frozen=True)
class FlavorRules:
    """A flavor's own limits on an endpoint, on top of each model's (CometAPI's published ones)."""

    seed_max: int | None = None
    prompt_text_max: int | None = None
    prompt_text_count: str = "characters"
    extra_fields: Mapping[str, FieldSpec] = field(default_factory=lambda: _frozen({}))
    require: tuple[str, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    output: str
    paths: Mapping[str, str]  # flavor -> path
    defaults: Mapping[str, str]  # flavor -> default model
    models: Mapping[str, ModelSpec]
    not_offered: Mapping[str, str]  # flavor -> why it is not offered
    flavor_rules: Mapping[str, FlavorRules]
    checked: str
    source: str

    def offered_by(self, flavor: str) -> bool:
        return flavor in self.paths

    def flavors(self) -> tuple[str, ...]:
        return tuple(self.paths)

    def rules(self, flavor: str) -> FlavorRules:
        return self.flavor_rules.get(flavor, FlavorRules())


@dataclass(frozen=True)
class ModellessSpec:
    """A task endpoint whose body names no model (the Model Router's ``generate/*``, ``recipes/*``).

    ``body`` is the request as one object field (``one_of`` where the SDK allows several shapes);
    the router or recipe picks the model, and its answer says which and what it will cost.
    """

    name: str
    output: str
    paths: Mapping[str, str]  # flavor -> path
    not_offered: Mapping[str, str]
    body: FieldSpec
    checked: str
    source: str

    def offered_by(self, flavor: str) -> bool:
        return flavor in self.paths

    def flavors(self) -> tuple[str, ...]:
        return tuple(self.paths)


@dataclass(frozen=True)
class MediaLimits:
    data_uri_max_chars: int
    data_uri_types: tuple[str, ...]  # accepted subtypes; empty: any


@dataclass(frozen=True)
class FlavorFacts:
    default_host: str
    path_prefix: str
    seed_max: int  # endpoints may narrow it (CometAPI's image_to_video: 999999999)
    allows_runway_uri: bool
    source: str


@dataclass(frozen=True)
class Catalog:
    checked: str
    sources: Mapping[str, str]
    flavors: Mapping[str, FlavorFacts]
    url_max_chars: int
    media: Mapping[str, MediaLimits]
    inputs_source: str
    endpoints: Mapping[str, EndpointSpec]
    modelless: Mapping[str, ModellessSpec] = field(default_factory=lambda: _frozen({}))
    left_out: Mapping[str, str] = field(default_factory=lambda: _frozen({}))  # SDK endpoint -> why not here

    def endpoint(self, name: str) -> EndpointSpec | None:
        return self.endpoints.get(name)

    def task_endpoint(self, name: str) -> EndpointSpec | ModellessSpec | None:
        """Any task endpoint the catalog knows, with or without a ``model`` in its body."""
        return self.endpoints.get(name) or self.modelless.get(name)


# -- parsing: strict, so a typo in the data file fails the unit tests instead of a user's DAG --

_FIELD_KEYS = {
    "type": "kind",
    "max": "maximum",
    "min": "minimum",
}


def _field(raw: Mapping[str, Any]) -> FieldSpec:
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        name = _FIELD_KEYS.get(key, key)
        if key == "max" and raw.get("type") == "text":
            name = "max_length"
        if name in ("values", "also", "kinds", "positions", "requires"):
            value = tuple(value)
        elif name == "fields":
            value = _fields(value)
        elif name == "one_of":
            value = tuple(_field(alt) for alt in value)
        elif name == "items":
            value = _field(value)
        kwargs[name] = value
    return FieldSpec(**kwargs)


def _fields(raw: Mapping[str, Any]) -> Mapping[str, FieldSpec]:
    return _frozen({wire: _field(spec) for wire, spec in raw.items()})


def _price(raw: Mapping[str, Any]) -> Price:
    rates = tuple(
        Rate(_frozen({k: tuple(v) for k, v in r["when"].items()}), r["credits"]) for r in raw.get("rates", ())
    )
    return Price(**{**raw, "rates": rates})


def _model(name: str, raw: Mapping[str, Any]) -> ModelSpec:
    return ModelSpec(
        name=name,
        flavors=tuple(raw["flavors"]),
        fields=_fields(raw["fields"]),
        checked=raw["checked"],
        source=raw["source"],
        price=_price(raw["price"]) if raw.get("price") else None,
        not_offered=_frozen(raw.get("not_offered", {})),
        unlisted=_frozen(raw.get("unlisted", {})),
    )


def _rules(raw: Mapping[str, Any]) -> FlavorRules:
    extra = _fields(raw.get("extra_fields", {}))
    return FlavorRules(**{**raw, "extra_fields": extra, "require": tuple(raw.get("require", ()))})


def _endpoint(name: str, raw: Mapping[str, Any]) -> EndpointSpec:
    return EndpointSpec(
        name=name,
        output=raw["output"],
        paths=_frozen(raw["paths"]),
        defaults=_frozen(raw["defaults"]),
        models=_frozen({model: _model(model, spec) for model, spec in raw["models"].items()}),
        not_offered=_frozen(raw.get("not_offered", {})),
        flavor_rules=_frozen({flavor: _rules(spec) for flavor, spec in raw.get("flavor_rules", {}).items()}),
        checked=raw["checked"],
        source=raw["source"],
    )


def _modelless(name: str, raw: Mapping[str, Any]) -> ModellessSpec:
    return ModellessSpec(
        name=name,
        output=raw["output"],
        paths=_frozen(raw["paths"]),
        not_offered=_frozen(raw.get("not_offered", {})),
        body=_field(raw["body"]),
        checked=raw["checked"],
        source=raw["source"],
    )


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Build the catalog from its JSON form; unknown keys raise ``TypeError``."""
    inputs = raw["inputs"]
    return Catalog(
        checked=raw["checked"],
        sources=_frozen(raw["sources"]),
        flavors=_frozen({name: FlavorFacts(**spec) for name, spec in raw["flavors"].items()}),
        url_max_chars=inputs["url_max_chars"],
        media=_frozen(
            {
                kind: MediaLimits(spec["data_uri_max_chars"], tuple(spec["data_uri_types"]))
                for kind, spec in inputs["media"].items()
            }
        ),
        inputs_source=inputs["source"],
        endpoints=_frozen({name: _endpoint(name, spec) for name, spec in raw["endpoints"].items()}),
        modelless=_frozen({name: _modelless(name, spec) for name, spec in raw.get("modelless", {}).items()}),
        left_out=_frozen(raw.get("left_out", {})),
    )


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The packaged catalog, read once per process."""
    text = (
        resources.files(__package__ or "airflow_provider_runway.runway")
        .joinpath(CATALOG_FILE)
        .read_text(encoding="utf-8")
    )
    return parse_catalog(json.loads(text))


def _media_kind(spec: FieldSpec) -> str | None:
    """The media kind a field carries (a URI, frames, ``{type, uri}``, or a list/object of those)."""
    if spec.kind in ("uri", "frames"):
        return spec.media or "image"
    if spec.kind == "media":
        return spec.kinds[0] if spec.kinds else "image"
    if spec.kind == "list" and spec.items is not None:
        return _media_kind(spec.items)
    if spec.kind == "object":
        for shape in (spec, *spec.one_of):
            uri = shape.fields.get("uri")
            if uri is not None and uri.kind == "uri":
                return uri.media or "image"
    return None


@lru_cache(maxsize=64)
def media_fields(endpoint: str) -> Mapping[str, str]:
    """The endpoint's fields that carry media, by API name, with their kind (image, video, audio).

    Taken over every catalogued model, so a stored file is found whichever model is chosen; an
    endpoint the catalog does not know has none (its body goes out as given).
    """
    spec = load_catalog().endpoint(endpoint)
    found: dict[str, str] = {}
    for model in spec.models.values() if spec is not None else ():
        for wire, field_spec in model.fields.items():
            kind = _media_kind(field_spec)
            if kind is not None:
                found.setdefault(wire, kind)
    return _frozen(found)
