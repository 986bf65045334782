"""The media inputs of a create body, found through the SDK's request types (``oracle``).

A string is a media input when its field's docstring says so ("A HTTPS URL, Runway upload URI,
or base64 data URI (e.g. `data:video/mp4;base64,...`)": a video), or when the SDK types it
loosely (``promptImage: str | Iterable[object]``) and the field's name says which medium
(``promptImage``, ``referenceAudios``). Inputs come in the TypedDict's field order, list items
in order with a ``first`` frame before the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runway_emulator.oracle import Refusal, body_shape
from runway_emulator.oracle.check import Checker, fits_kind
from runway_emulator.oracle.docstrings import media_of
from runway_emulator.oracle.nodes import NO_LIMITS, AnyOf, Items, Limits, Node, Scalar, Shape


@dataclass(frozen=True)
class MediaRef:
    """One media input of a body: its kind (image, video, audio) and URI."""

    media: str
    uri: str


def _first_frame_first(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: not (isinstance(item, Mapping) and item.get("position") == "first"))


def _loose(value: Any, wire: str, out: list[MediaRef]) -> None:
    """A value the SDK types as ``object``: a URI string, an object with a ``uri``, or a list of them."""
    media = media_of("", wire) or "image"
    if isinstance(value, str):
        out.append(MediaRef(media, value))
    elif isinstance(value, Mapping) and isinstance(value.get("uri"), str):
        out.append(MediaRef(media, value["uri"]))
    elif isinstance(value, list):
        for item in _first_frame_first(value):
            _loose(item, wire, out)


def _ignore_uri(_uri: str, _path: str, _limits: Limits) -> None:
    """Only the shape matters here; the body was checked at create."""


def _collect(node: Node, value: Any, wire: str, limits: Limits, out: list[MediaRef]) -> None:
    if isinstance(node, Shape):
        if isinstance(value, Mapping):
            for key, spec in node.fields.items():
                if key in value:
                    _collect(spec.node, value[key], key, spec.limits, out)
    elif isinstance(node, AnyOf):
        fitting = [option for option in node.options if fits_kind(option, value)]
        shapes = [option for option in fitting if isinstance(option, Shape)]
        if len(shapes) > 1 and isinstance(value, Mapping):
            try:
                fitting = [Checker(_ignore_uri).select(shapes, value, wire)]
            except Refusal:
                return
        if fitting:
            _collect(fitting[0], value, wire, limits, out)
    elif isinstance(node, Items):
        if isinstance(value, list):
            for item in _first_frame_first(value):
                _collect(node.item, item, wire, limits.for_items(), out)
    elif isinstance(node, Scalar):
        if node.kind == "any":
            _loose(value, wire, out)
        elif node.kind == "str" and limits.media is not None and isinstance(value, str):
            out.append(MediaRef(limits.media, value))


def media_refs(endpoint: str, flavor: str, body: Mapping[str, Any]) -> list[MediaRef]:
    """Every media input of an accepted ``body``, in the SDK's field order."""
    shape = body_shape(endpoint, flavor, body)
    out: list[MediaRef] = []
    if shape is not None:
        _collect(shape, body, "", NO_LIMITS, out)
    return out
