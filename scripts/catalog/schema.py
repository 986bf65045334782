"""The request schema of every task endpoint of the installed SDK, in catalog form.

This is the generated half of the catalog: per endpoint, its path and the fields of each
model (or, for endpoints whose body names no model, the one body shape). Prices, flavors,
defaults and dates are the hand-kept half (``overlay.json``), merged in ``merge.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.catalog.mapping import Json, map_shape, struct_fields
from scripts.catalog.sdk import Route, sdk_root, sdk_version, task_routes
from scripts.catalog.shapes import Choice, Struct, request_variants
from scripts.catalog.source import read_module

MODEL = "model"


@dataclass(frozen=True)
class SdkModel:
    name: str
    type_name: str  # the TypedDict that defines it (Gen4Turbo)
    fields: Json


@dataclass(frozen=True)
class SdkEndpoint:
    """A task endpoint: its models, or (Model Router, recipes) the body it takes without one."""

    name: str
    path: str
    params_file: str  # relative to the package: types/image_to_video_create_params.py
    models: dict[str, SdkModel]
    body: Json | None = None


@dataclass(frozen=True)
class SdkSchema:
    version: str
    endpoints: dict[str, SdkEndpoint]

    def pairs(self) -> list[tuple[str, str]]:
        return [(e.name, m) for e in self.endpoints.values() for m in e.models]


def _model_name(variant: Struct) -> str | None:
    field = variant.field(MODEL)
    if field is None:
        return None
    if not isinstance(field.shape, Choice) or len(field.shape.values) != 1:
        raise ValueError(f"{variant.name}: model is not one literal")
    return str(field.shape.values[0])


def read_endpoint(route: Route, root: Path) -> SdkEndpoint:
    variants = request_variants(read_module(route.params_file), route.params_type)
    relative = route.params_file.relative_to(root).as_posix()
    named = [(_model_name(v), v) for v in variants]
    if all(name is not None for name, _ in named):
        models = {
            str(name): SdkModel(str(name), v.name, struct_fields(v, skip=(MODEL,)))
            for name, v in sorted(named, key=str)
        }
        return SdkEndpoint(route.name, route.path, relative, models)
    if any(name is not None for name, _ in named):
        raise ValueError(f"{route.name}: some request bodies name a model and some do not")
    shapes = [map_shape(v, route.name, v.doc) for v in variants]
    body = shapes[0] if len(shapes) == 1 else {"type": "object", "one_of": shapes}
    return SdkEndpoint(route.name, route.path, relative, {}, body)


def read_schema(root: Path | None = None) -> SdkSchema:
    """Every task endpoint of the SDK installed here (``root``: a runwayml package directory)."""
    root = root or sdk_root()
    endpoints = {name: read_endpoint(route, root) for name, route in task_routes(root).items()}
    return SdkSchema(sdk_version(root), endpoints)
