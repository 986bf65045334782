"""The emulator's oracle: a create body checked against Runway's official SDK request types.

The schema is read from the installed ``runwayml`` SDK itself (``sdk_endpoints.py``: which
params type each endpoint has; ``reader.py``: TypedDicts to nodes; ``docstrings.py``: the
limits the field docstrings state), never from the provider under test, so a provider that
builds a body the SDK would not is refused here. CometAPI's paths add CometAPI's own models and
rules (``cometapi.py``, ``cometapi.json``). A refused body raises ``Refusal``, whose message
names the field by its wire path; the HTTP side answers it as a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runway_emulator.oracle.check import Checker, Refusal
from runway_emulator.oracle.cometapi import apply_rules, comet_endpoints, data, take_extra_fields
from runway_emulator.oracle.sdk_endpoints import SDK_ENDPOINTS, model_names, root_shapes
from runway_emulator.oracle.uris import uri_check
from runway_emulator.protocol import COMETAPI, PATH_PREFIXES, RUNWAY

if TYPE_CHECKING:
    from runway_emulator.oracle.nodes import Limits, Shape

__all__ = [
    "CheckedBody",
    "Refusal",
    "body_shape",
    "check_body",
    "create_path",
    "endpoint_models",
    "endpoint_shapes",
    "offered",
]


@dataclass(frozen=True)
class CheckedBody:
    """A body the API accepts, and the TypedDict it matched (the model's, or the only one)."""

    endpoint: str
    flavor: str
    body: dict[str, Any]
    shape: Shape


def offered(endpoint: str, flavor: str) -> bool:
    """Whether a flavor serves this endpoint (Runway: every SDK endpoint; CometAPI: its own list)."""
    if flavor == COMETAPI:
        return endpoint in comet_endpoints()
    return flavor == RUNWAY and endpoint in SDK_ENDPOINTS


def create_path(endpoint: str, flavor: str) -> str:
    """Where a flavor takes creates for this endpoint (``offered`` must hold)."""
    if flavor == COMETAPI:
        return comet_endpoints()[endpoint].path
    return f"{PATH_PREFIXES[RUNWAY]}/{endpoint}"


def endpoint_shapes(endpoint: str, flavor: str) -> list[Shape]:
    """The TypedDicts a body of this endpoint may be through this flavor."""
    return comet_endpoints()[endpoint].shapes() if flavor == COMETAPI else root_shapes(endpoint)


def endpoint_models(endpoint: str, flavor: str) -> list[str]:
    """The models a flavor takes for an endpoint, in the SDK's order (empty: no model is named)."""
    return model_names(endpoint_shapes(endpoint, flavor))


def _checker(flavor: str) -> Checker:
    allows = bool(data()["allows_runway_uri"]) if flavor == COMETAPI else True
    return Checker(uri_check(allows))


def check_body(endpoint: str, flavor: str, body: Any) -> CheckedBody:
    """The body as the API accepts it, or ``Refusal`` naming the first field at fault."""
    if not isinstance(body, dict):
        raise Refusal("", "Request body must be a JSON object.")
    comet = comet_endpoints()[endpoint] if flavor == COMETAPI else None
    shapes = endpoint_shapes(endpoint, flavor)
    checked = take_extra_fields(comet, body) if comet is not None else body
    checker = _checker(flavor)
    shape = checker.select(shapes, checked, "") if len(shapes) > 1 else shapes[0]
    checker.check(shape, checked, "")
    if comet is not None:
        apply_rules(comet, checked)
    return CheckedBody(endpoint, flavor, body, shape)


def _any_uri(_uri: str, _path: str, _limits: Limits) -> None:
    """A stored body's URIs were checked at create (the emulator's own output URLs as stand-ins)."""


def body_shape(endpoint: str, flavor: str, body: Any) -> Shape | None:
    """The TypedDict an accepted body matched (for reading its documented defaults); None if none."""
    shapes = endpoint_shapes(endpoint, flavor)
    if len(shapes) == 1 or not isinstance(body, dict):
        return shapes[0] if len(shapes) == 1 else None
    try:
        return Checker(_any_uri).select(shapes, body, "")
    except Refusal:
        return None
