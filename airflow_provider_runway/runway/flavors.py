"""The two ways to reach Runway (CometAPI's proxy and Runway direct), their endpoints and default models.

Pure, read from the dated catalog: what differs between the flavors (host, path prefix, the
flavor's own limits), which endpoint each offers under which path, and the model used when
none is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_runway.runway.catalog import COMETAPI, RUNWAY, FieldSpec, ModelSpec, load_catalog
from airflow_provider_runway.runway.errors import InvalidRequestError
from airflow_provider_runway.runway.fields import invalid

__all__ = [
    "COMETAPI",
    "DEFAULT_MODEL",
    "DEFAULT_RUNWAY_VERSION",
    "FLAVORS",
    "IMAGE_TO_VIDEO",
    "MODELS",
    "RUNWAY",
    "FlavorSpec",
    "ModelLimits",
    "check_endpoint",
    "create_path",
    "default_model",
    "default_ratio",
    "flavor_spec",
]

IMAGE_TO_VIDEO = "image_to_video"


DEFAULT_RUNWAY_VERSION = "2024-11-06"


@dataclass(frozen=True)
class FlavorSpec:
    """What differs between CometAPI's proxy and Runway's own API (per-model limits live in the catalog).

    ``seed_max`` and ``prompt_text_max`` are the flavor's own image-to-video limits (CometAPI:
    999999999 and 512 characters; Runway: its seed range, and no flavor-wide text limit).
    """

    name: str
    default_host: str
    path_prefix: str
    seed_max: int
    prompt_text_max: int | None
    allows_runway_uri: bool

    def path(self, suffix: str) -> str:
        return f"{self.path_prefix}/{suffix.lstrip('/')}"


def _flavor(name: str) -> FlavorSpec:
    facts = load_catalog().flavors[name]
    rules = load_catalog().endpoints[IMAGE_TO_VIDEO].rules(name)
    return FlavorSpec(
        name=name,
        default_host=facts.default_host,
        path_prefix=facts.path_prefix,
        seed_max=rules.seed_max or facts.seed_max,
        prompt_text_max=rules.prompt_text_max,
        allows_runway_uri=facts.allows_runway_uri,
    )


FLAVORS: dict[str, FlavorSpec] = {name: _flavor(name) for name in load_catalog().flavors}


def flavor_spec(flavor: str) -> FlavorSpec:
    try:
        return FLAVORS[flavor]
    except KeyError:
        allowed = ", ".join(FLAVORS)
        raise ValueError(f"unknown flavor {flavor!r}; allowed: {allowed}") from None


@dataclass(frozen=True)
class ModelLimits:
    """A Runway image-to-video model's ratios and durations (empty: not limited by the schema)."""

    ratios: tuple[str, ...]
    durations: tuple[int, ...]


def _durations(spec: FieldSpec | None) -> tuple[int, ...]:
    if spec is None:
        return ()
    if spec.values:
        return tuple(v for v in spec.values if isinstance(v, int))
    if spec.minimum is not None and spec.maximum is not None:
        return tuple(range(int(spec.minimum), int(spec.maximum) + 1))
    return ()


def _limits(model: ModelSpec) -> ModelLimits:
    ratio = model.fields.get("ratio")
    return ModelLimits(tuple(ratio.values) if ratio else (), _durations(model.fields.get("duration")))


# Runway image-to-video models that take a ratio, for code that only needs ratios and durations.
MODELS: dict[str, ModelLimits] = {
    name: _limits(model)
    for name, model in load_catalog().endpoints[IMAGE_TO_VIDEO].models.items()
    if model.offered_by(RUNWAY) and "ratio" in model.fields
}


def check_endpoint(endpoint: str, flavor: str) -> None:
    """Refuse an endpoint the catalog knows but the flavor does not offer, naming who offers it."""
    flavor_spec(flavor)
    spec = load_catalog().task_endpoint(endpoint)
    if spec is None or spec.offered_by(flavor):
        return
    why = spec.not_offered.get(flavor, "")
    offered = ", ".join(spec.flavors()) or "no flavor"
    message = f"{endpoint} is not offered through flavor {flavor}; flavor(s) that offer it: {offered}. {why}"
    raise InvalidRequestError("endpoint", message.strip())


def create_path(endpoint: str, flavor: str) -> str:
    """The path to POST a create to, e.g. ``/runwayml/v1/image_to_video`` through CometAPI."""
    check_endpoint(endpoint, flavor)
    spec = load_catalog().task_endpoint(endpoint)
    return spec.paths[flavor] if spec is not None else flavor_spec(flavor).path(endpoint)


def default_model(flavor: str, endpoint: str = IMAGE_TO_VIDEO) -> str:
    """The model used when none is given: CometAPI keeps gen3a_turbo (its documented model);
    Runway direct uses gen4_turbo, the cheapest image-to-video model in its current schema."""
    check_endpoint(endpoint, flavor)
    spec = load_catalog().endpoint(endpoint)
    if spec is None or flavor not in spec.defaults:
        raise invalid("model", f"there is no default model for {endpoint} through {flavor}; pass model")
    return spec.defaults[flavor]


# CometAPI's default image-to-video model (the one its page documents): gen3a_turbo.
DEFAULT_MODEL = default_model(COMETAPI)


def default_ratio(flavor: str, model: str | None = None, endpoint: str = IMAGE_TO_VIDEO) -> str | None:
    """A ratio ``model`` (default: the flavor's default model) takes: the API's documented default,
    else the first it lists; None when the catalog does not know the model's ratios."""
    spec = load_catalog().endpoint(endpoint)
    known = spec.models.get(model or default_model(flavor, endpoint)) if spec is not None else None
    ratio = known.fields.get("ratio") if known is not None else None
    if ratio is None:
        return None
    return str(ratio.default) if ratio.default is not None else (str(ratio.values[0]) if ratio.values else None)
