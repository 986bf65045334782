"""Create request bodies: built from named fields, checked against the catalog before any paid call.

Pure functions and frozen dataclasses, no I/O, driven by the dated catalog (``catalog.json``).
The hook and the operators validate with these; the emulator checks requests with its own
oracle (the official SDK's request types), so each side can catch the other's mistakes.

What is checked depends on how much the catalog knows:

* a known model: every field against that model's documented schema, plus the flavor's own
  limits (CometAPI: seed 0-999999999, promptText <= 512 characters on image_to_video);
* an unknown model (an API newer than the catalog): only model-independent checks — media URI
  form and size, the JSON types of fields every catalogued model types alike, the flavor's seed
  range and prompt length — a warning naming the catalog's date, and it goes out. Never what
  other models require: a new model may drop a field every older one needed;
* an unknown endpoint: nothing but the flavor; a warning, and it goes out.

``lenient=True`` is the escape hatch for when the API moves faster than this catalog: a known
model's rule violations become warnings instead of errors (model-independent checks still
apply). It is off by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from airflow_provider_runway.runway.catalog import (
    COMETAPI,
    EndpointSpec,
    FieldSpec,
    ModellessSpec,
    ModelSpec,
    load_catalog,
)
from airflow_provider_runway.runway.fields import (
    LENIENT,
    STRICT,
    TYPES_ONLY,
    At,
    Checks,
    check_fields,
    check_uri,
    invalid,
    is_missing,
    text_size,
)
from airflow_provider_runway.runway.flavors import (
    IMAGE_TO_VIDEO,
    FlavorSpec,
    check_endpoint,
    default_model,
    default_ratio,
    flavor_spec,
)

MAX_DATA_URI_CHARS = load_catalog().media["image"].data_uri_max_chars  # an image data URI: 5 MiB
MAX_URL_CHARS = load_catalog().url_max_chars

# operator parameter -> API field, in the order the API documents them: the one table the
# image-to-video body is built from
WIRE_NAMES: dict[str, str] = {
    "prompt_image": "promptImage",
    "model": "model",
    "prompt_text": "promptText",
    "ratio": "ratio",
    "duration": "duration",
    "seed": "seed",
    "watermark": "watermark",
    "content_moderation": "contentModeration",
    "negative_prompt": "negativePrompt",
    "audio": "audio",
}
PARAM_NAMES: dict[str, str] = {wire: param for param, wire in WIRE_NAMES.items()}


@dataclass(frozen=True)
class ValidatedBody:
    """A create body the API will accept, plus warnings worth logging (e.g. unknown model)."""

    body: dict[str, Any]
    warnings: tuple[str, ...]


# -- endpoints --------------------------------------------------------------------------------


def check_image_uri(uri: Any, flavor: FlavorSpec, wire: str = "promptImage") -> None:
    """Validate one image reference: https URL, base64 data URI, or (Runway) a runway:// upload."""
    check_uri(uri, "image", At(wire), flavor.name)


# -- validation --------------------------------------------------------------------------------

_MODEL_FIELD = FieldSpec(kind="string", required=True)


def _offered(spec: EndpointSpec, flavor: str) -> str:
    return ", ".join(name for name, model in spec.models.items() if model.offered_by(flavor))


def _not_offered(spec: EndpointSpec, model: ModelSpec, flavor: str) -> str:
    why = model.not_offered.get(flavor) or f"the catalog lists it for {', '.join(model.flavors) or 'no flavor'}"
    return (
        f"model {model.name} is not offered through flavor {flavor} ({why}); {flavor} offers: {_offered(spec, flavor)}"
    )


def _shape(spec: FieldSpec) -> Any:
    """What a value must look like whatever the model (ranges, enums and keys aside)."""
    if spec.kind in ("text", "string") or (spec.kind == "enum" and not all(isinstance(v, int) for v in spec.values)):
        return "str"
    if spec.kind in ("integer", "enum"):
        return "int"
    if spec.kind in ("uri", "frames"):
        return (spec.kind, spec.media)
    if spec.kind == "list":
        return ("list", _shape(spec.items) if spec.items else None)
    return spec.kind


@lru_cache(maxsize=64)
def _shared_fields(endpoint: str, flavor: str) -> dict[str, FieldSpec]:
    """The fields every catalogued model of the endpoint types alike (as optional: never required)."""
    spec = load_catalog().endpoints[endpoint]
    models = [m for m in spec.models.values() if m.offered_by(flavor)] or list(spec.models.values())
    by_wire: dict[str, list[FieldSpec]] = {}
    for model in models:
        for wire, field in {**model.fields, **spec.rules(flavor).extra_fields}.items():
            by_wire.setdefault(wire, []).append(field)
    shared: dict[str, FieldSpec] = {"model": _MODEL_FIELD}
    for wire, specs in by_wire.items():
        shapes = {repr(_shape(s)) for s in specs}
        if len(shapes) != 1:
            continue
        first = specs[0]
        if _shape(first) == "int":  # e.g. duration: 8, or "auto" where some model takes it
            first = FieldSpec(kind="integer", also=tuple({v for s in specs for v in s.also}))
        elif _shape(first) == "str":
            first = FieldSpec(kind="text")
        shared[wire] = replace(first, required=False, requires=())
    return shared


def _check_known(body: Mapping[str, Any], spec: EndpointSpec, model: ModelSpec, checks: Checks) -> dict[str, Any]:
    rules = spec.rules(checks.flavor)
    fields = {"model": _MODEL_FIELD, **model.fields, **rules.extra_fields}
    out = check_fields(body, fields, None, checks, what=f"model {model.name}")
    for wire in rules.require:
        if is_missing(out.get(wire)):
            checks.rule(wire, f"is required through flavor {checks.flavor} ({rules.note})")
    _check_prompt_length(out, spec, checks)
    return out


def _check_prompt_length(body: Mapping[str, Any], spec: EndpointSpec, checks: Checks) -> None:
    """The flavor's own prompt limit (CometAPI's 512 characters), whatever the model."""
    rules = spec.rules(checks.flavor)
    text = body.get("promptText")
    if rules.prompt_text_max is not None and isinstance(text, str):
        size = text_size(text, rules.prompt_text_count)
        if size > rules.prompt_text_max:
            checks.rule("promptText", f"is {size} characters; {checks.flavor} takes at most {rules.prompt_text_max}")


def _check_unknown(body: Mapping[str, Any], spec: EndpointSpec, checks: Checks) -> dict[str, Any]:
    flavor_checks = Checks(flavor=checks.flavor, model=checks.model, mode=checks.mode)
    checks.mode = TYPES_ONLY
    out = check_fields(body, _shared_fields(spec.name, checks.flavor), None, checks, what="this endpoint")
    _check_prompt_length(out, spec, flavor_checks)
    checks.warnings.extend(flavor_checks.warnings)
    return out


def _check_seed(body: Mapping[str, Any], spec: EndpointSpec, flavor: str) -> None:
    seed = body.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        return
    # The endpoint's own rule for the flavor (CometAPI documents 0-999999999 on image_to_video only),
    # else the flavor's general range: the same data the catalog gives every other reader.
    top = spec.rules(flavor).seed_max or load_catalog().flavors[flavor].seed_max
    if not 0 <= seed <= top:
        raise invalid("seed", f"must be between 0 and {top} through flavor {flavor}, got {seed}")


def _check_modelless(body: Mapping[str, Any], spec: ModellessSpec, checks: Checks) -> ValidatedBody:
    """A Model Router or recipe body: no ``model`` (the API picks it), checked against the endpoint's one shape."""
    shape = spec.body
    if shape.one_of:  # the first alternative whose required keys are all there, as for nested objects
        fits = [alt for alt in shape.one_of if all(k in body for k, f in alt.fields.items() if f.required)]
        shape = fits[0] if fits else shape.one_of[0]
    out = check_fields(body, shape.fields, None, checks, what=spec.name)
    return ValidatedBody(body=out, warnings=tuple(checks.warnings))


def validate_body(
    body: Mapping[str, Any], flavor: str, endpoint: str = IMAGE_TO_VIDEO, *, lenient: bool = False
) -> ValidatedBody:
    """Check a camelCase create body against the catalog; return it normalised, with warnings.

    Raises ``InvalidRequestError`` naming the operator parameter and the API field, e.g.
    ``ratio: '1:1' is not allowed for model gen4_turbo; allowed: ...``.
    """
    flavor_spec(flavor)
    mode = LENIENT if lenient else STRICT
    router = load_catalog().modelless.get(endpoint)
    if router is not None:
        check_endpoint(endpoint, flavor)
        return _check_modelless(body, router, Checks(flavor=flavor, model=endpoint, mode=mode))
    spec = load_catalog().endpoint(endpoint)
    if spec is None:
        return ValidatedBody(
            dict(body), (f"endpoint {endpoint!r} is not in this provider's catalog; sent unvalidated",)
        )
    check_endpoint(endpoint, flavor)
    name = body.get("model")
    if not isinstance(name, str) or not name.strip():
        raise invalid("model", f"is required; known models for {endpoint} through {flavor}: {_offered(spec, flavor)}")
    checks = Checks(flavor=flavor, model=name, mode=mode)
    model = spec.models.get(name)
    if model is not None and model.sendable_through(flavor):
        out = _check_known(body, spec, model, checks)
        if not model.offered_by(flavor):
            checks.warnings.append(f"model {name}: {model.unlisted[flavor]}")
    else:
        if model is not None:  # known, but gone from (or never on) this flavor
            checks.rule("model", _not_offered(spec, model, flavor))
        else:
            checks.warnings.append(
                f"model {name!r} is not one this provider knows for {endpoint} (an API newer than the catalog?); "
                "only model-independent "
                f"checks were made (catalog checked {load_catalog().checked})"
            )
        out = _check_unknown(body, spec, checks)
    _check_seed(out, spec, flavor)
    return ValidatedBody(body=out, warnings=tuple(checks.warnings))


def compose_body(
    endpoint: str,
    named: Mapping[str, Any],
    *,
    extra_body: Mapping[str, Any] | None = None,
    flavor: str = COMETAPI,
) -> dict[str, Any]:
    """The camelCase body from named fields (``None`` left out) and ``extra_body``, unvalidated.

    A body without ``model`` takes the flavor's default for the endpoint when the catalog has
    one (an endpoint the flavor does not offer fails here, naming the flavor that does), and,
    when that model requires a ratio none was given for, its default ratio: a DAG that names
    neither runs unchanged on every flavor. ``extra_body`` adds fields not modelled yet, but
    never one that has its own parameter.
    """
    body = {wire: value for wire, value in named.items() if value is not None}
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise invalid("extra_body", f"must be a dict, got {type(extra_body).__name__}")
        clash = sorted(set(extra_body) & set(named))
        if clash:
            raise invalid("extra_body", f"sets {', '.join(clash)}, which have their own parameters")
        body.update(extra_body)
    spec = load_catalog().endpoint(endpoint)
    if body.get("model") is None and spec is not None:
        body["model"] = default_model(flavor, endpoint)
        ratio = spec.models[body["model"]].fields.get("ratio")
        if ratio is not None and ratio.required and "ratio" not in body:
            body["ratio"] = default_ratio(flavor, body["model"], endpoint)
    return body


def build_image_to_video_body(
    *,
    prompt_image: Any,
    model: str | None = None,
    prompt_text: str | None = None,
    ratio: str | None = None,
    duration: int | str | None = None,
    seed: int | str | None = None,
    watermark: bool | str | None = None,
    content_moderation: Mapping[str, Any] | None = None,
    negative_prompt: str | None = None,
    audio: bool | str | None = None,
    extra_body: Mapping[str, Any] | None = None,
    flavor: str = COMETAPI,
    lenient: bool = False,
) -> ValidatedBody:
    """Build and validate the camelCase image-to-video body from the operator's parameters.

    ``model=None`` takes the flavor's default model. Parameters map to API fields through
    ``WIRE_NAMES`` only (the arguments are read back by name, never listed a second time).
    """
    named = {WIRE_NAMES[name]: value for name, value in locals().items() if name in WIRE_NAMES}
    body = compose_body(IMAGE_TO_VIDEO, named, extra_body=extra_body, flavor=flavor)
    return validate_body(body, flavor, IMAGE_TO_VIDEO, lenient=lenient)
