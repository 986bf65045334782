"""CometAPI's proxy as its documentation describes it: which endpoints and models, and its own rules.

CometAPI forwards Runway's request bodies under ``/runwayml/v1/<endpoint>`` for the endpoints
and models listed in ``cometapi.json``; models Runway's SDK no longer defines are typed in
``cometapi_models.py``. On top of Runway's schema it has rules of its own (``rules``): a
narrower ``seed`` range, ``promptText`` counted in characters with its own maximum, extra
fields (``watermark``) and fields it requires (``referenceImages`` for ``text_to_image``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from runway_emulator.oracle.check import Refusal, describe, fits_kind, shown
from runway_emulator.oracle.cometapi_models import COMETAPI_MODELS
from runway_emulator.oracle.nodes import Scalar, Shape
from runway_emulator.oracle.reader import shape_of
from runway_emulator.oracle.sdk_endpoints import root_shapes


@dataclass(frozen=True)
class CometEndpoint:
    """One endpoint CometAPI offers: its path, the models it takes and its own rules."""

    name: str
    path: str
    runway_models: tuple[str, ...]
    own_models: tuple[str, ...]
    rules: dict[str, Any] = field(hash=False, compare=False)

    def shapes(self) -> list[Shape]:
        """Runway's TypedDicts for the forwarded models, then CometAPI's own."""
        forwarded = [
            shape for shape in root_shapes(self.name) if set(shape.literal("model") or ()) & set(self.runway_models)
        ]
        return forwarded + [shape_of(COMETAPI_MODELS[name]) for name in self.own_models]


@functools.cache
def data() -> dict[str, Any]:
    text = resources.files("runway_emulator.oracle").joinpath("cometapi.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def comet_endpoints() -> dict[str, CometEndpoint]:
    return {
        name: CometEndpoint(
            name=name,
            path=spec["path"],
            runway_models=tuple(spec["runway_models"]),
            own_models=tuple(spec["own_models"]),
            rules=dict(spec.get("rules", {})),
        )
        for name, spec in data()["endpoints"].items()
    }


def take_extra_fields(endpoint: CometEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    """Check and remove the fields CometAPI adds to Runway's body; returns the rest."""
    extras: dict[str, str] = endpoint.rules.get("extra_fields", {})
    rest = dict(body)
    for wire, kind in extras.items():
        if wire in rest:
            value, node = rest.pop(wire), Scalar(kind)
            if not fits_kind(node, value):
                raise Refusal(wire, f"{wire} must be {describe(node)}; got {shown(value)}")
    return rest


def _seed(body: dict[str, Any], bounds: dict[str, int]) -> None:
    seed = body.get("seed")
    if isinstance(seed, (int, float)) and not isinstance(seed, bool) and not bounds["min"] <= seed <= bounds["max"]:
        raise Refusal("seed", f"seed must be between {bounds['min']} and {bounds['max']}; got {seed!r}")


def apply_rules(endpoint: CometEndpoint, body: dict[str, Any]) -> None:
    """CometAPI's own limits, after the body passed Runway's schema."""
    rules = endpoint.rules
    _seed(body, rules.get("seed") or data()["seed"])
    limit = rules.get("prompt_text_max_characters")
    text = body.get("promptText")
    if limit is not None and isinstance(text, str) and len(text) > limit:
        raise Refusal("promptText", f"promptText must be at most {limit} characters; got {len(text)}")
    for wire in rules.get("require", ()):
        value = body.get(wire)
        if value is None or value == [] or value == "":
            raise Refusal(wire, f"{wire} is required by CometAPI for {endpoint.name} (at least one item)")
