"""SDK schema + hand-kept overlay -> the catalog ``runway/catalog.py`` parses.

The SDK decides which endpoints and models exist and what their fields are. The overlay
(``overlay.json``) adds what no SDK says: output kinds, CometAPI's paths, rules and choice of
models, default models, prices, dates, sources, and the few field facts the SDK's docstrings
leave out (``fields`` patches, e.g. veo3.1's ``audio`` defaulting to true). A model the
overlay does not mention gets ``new_models``: Runway direct only, no verified price.
Models the SDK does not define (CometAPI-only ones, or ones Runway retired that are kept to
explain a refusal) come whole from the overlay, marked ``outside_sdk``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scripts.catalog.mapping import Json
    from scripts.catalog.schema import SdkEndpoint, SdkModel, SdkSchema

OVERLAY = Path(__file__).with_name("overlay.json")
RUNWAY, COMETAPI = "runway", "cometapi"
OUTSIDE_SDK = "outside_sdk"
FIELD_NOTES = "field_notes"


class OverlayError(ValueError):
    """The overlay and the SDK disagree in a way only a person can settle."""


def load_overlay(path: Path = OVERLAY) -> Json:
    data: Json = json.loads(path.read_text(encoding="utf-8"))
    return data


def _fill(template: Any, **names: str) -> Any:
    """``template`` with ``{model}``/``{endpoint}`` filled in every string."""
    if isinstance(template, str):
        return template.format(**names)
    if isinstance(template, dict):
        return {key: _fill(value, **names) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, **names) for item in template]
    return template


def _patched_fields(sdk: SdkModel, hand: Json, common: Json, where: str) -> Json:
    fields = copy.deepcopy(sdk.fields)
    for wire, rule in common.items():
        spec = fields.get(wire)
        if spec is not None and spec["type"] == rule.get("type", spec["type"]) and "max" not in spec:
            spec.update({k: v for k, v in rule.items() if k != "type"})
    for wire, patch in hand.get("fields", {}).items():
        if wire not in fields:
            raise OverlayError(f"{where}: the overlay patches field {wire!r}, which the SDK does not define")
        fields[wire].update(patch)
    return fields


def _with_new_model_facts(overlay: Json, endpoint: Json, hand: Json, model: str, name: str) -> Json:
    """The overlay's entry for a model, completed by ``new_models``: Runway direct only, price unverified."""
    rules = overlay["new_models"]
    entry: Json = {"flavors": [RUNWAY], "checked": rules["checked"], **copy.deepcopy(hand)}
    # A model CometAPI does not name is not refused through it (it forwards Runway's body): "unlisted".
    if COMETAPI in endpoint["paths"] and COMETAPI not in entry["flavors"] and "not_offered" not in entry:
        entry["unlisted"] = {COMETAPI: _fill(rules["unlisted"][COMETAPI], model=model, endpoint=name)}
    if "price" not in entry:
        price = _fill(rules["price"], model=model, endpoint=name)
        entry["price"] = {"per": rules["price_per_output"][endpoint["output"]], **price}
    return entry


def _model(overlay: Json, endpoint: Json, sdk_endpoint: SdkEndpoint, sdk: SdkModel, version: str) -> Json:
    where = f"{sdk_endpoint.name}:{sdk.name}"
    hand = overlay["endpoints"][sdk_endpoint.name].get("models", {}).get(sdk.name)
    if hand is not None and OUTSIDE_SDK in hand:
        raise OverlayError(f"{where}: the SDK defines it now; drop its hand-kept schema ({OUTSIDE_SDK})")
    entry = _with_new_model_facts(overlay, endpoint, hand or {}, sdk.name, sdk_endpoint.name)
    entry["fields"] = _patched_fields(sdk, entry, overlay.get("all_models", {}).get("fields", {}), where)
    entry.pop(FIELD_NOTES, None)  # why a patch is there: for the overlay's readers, not the catalog
    entry.setdefault("source", f"runwayml {version} {sdk_endpoint.params_file} ({sdk.type_name})")
    if RUNWAY not in entry["flavors"]:
        raise OverlayError(f"{where}: Runway direct offers every SDK model; the overlay leaves it out")
    return entry


def _endpoint_facts(overlay: Json, sdk_endpoint: SdkEndpoint, version: str) -> Json:
    facts = overlay["endpoints"].get(sdk_endpoint.name)
    if facts is None or "output" not in facts:
        raise OverlayError(f"{sdk_endpoint.name}: a task endpoint of the SDK with no overlay entry (output, flavors)")
    out = {key: copy.deepcopy(value) for key, value in facts.items() if key != "models"}
    out["paths"] = {RUNWAY: sdk_endpoint.path, **facts.get("paths", {})}
    out.setdefault("checked", overlay["new_models"]["checked"])
    out.setdefault("source", f"runwayml {version} {sdk_endpoint.params_file}")
    return out


def _endpoint(overlay: Json, sdk_endpoint: SdkEndpoint, version: str) -> Json:
    out = _endpoint_facts(overlay, sdk_endpoint, version)
    models = {name: _model(overlay, out, sdk_endpoint, sdk, version) for name, sdk in sdk_endpoint.models.items()}
    for name, hand in overlay["endpoints"][sdk_endpoint.name].get("models", {}).items():
        if name not in sdk_endpoint.models:
            if OUTSIDE_SDK not in hand:
                raise OverlayError(f"{sdk_endpoint.name}:{name}: in the overlay but not in the SDK (gone?)")
            models[name] = {key: copy.deepcopy(value) for key, value in hand.items() if key != OUTSIDE_SDK}
    out["models"] = models
    return out


def merge(schema: SdkSchema, overlay: Json) -> Json:
    """The whole catalog (plain JSON data) for ``schema`` and ``overlay``."""
    endpoints, modelless = {}, {}
    for name, sdk_endpoint in schema.endpoints.items():
        if sdk_endpoint.body is None:
            endpoints[name] = _endpoint(overlay, sdk_endpoint, schema.version)
        else:
            modelless[name] = {**_endpoint_facts(overlay, sdk_endpoint, schema.version), "body": sdk_endpoint.body}
    strays = sorted(set(overlay["endpoints"]) - set(schema.endpoints))
    if strays:
        raise OverlayError(f"the overlay describes endpoints the SDK does not create tasks on: {', '.join(strays)}")
    sources = {**overlay["sources"], "runway_sdk": overlay["sdk_source"].format(version=schema.version)}
    return {
        "checked": overlay["checked"],
        "sources": sources,
        "flavors": overlay["flavors"],
        "inputs": overlay["inputs"],
        "endpoints": endpoints,
        "modelless": modelless,
        "left_out": overlay["left_out"],
    }
