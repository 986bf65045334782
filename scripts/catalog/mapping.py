"""SDK shapes onto the catalog's field kinds (``FieldSpec`` in ``runway/catalog.py``).

The kinds: text, string, enum, integer, number, boolean, uri (one media URI), frames (an image
URI or a list of ``{uri, position}``), media (``{type, uri}``), object, list. Which SDK form
becomes which kind:

* ``str`` -> uri when its docstring is the SDK's media-URI text (or its name says Uri/audio/
  image/video); text when it is prose (a prompt, a script, a description); else string.
* ``int`` / ``float`` -> integer / number, ranged by the docstring; ``int | Literal["auto"]``
  -> integer that also takes "auto"; ``bool`` -> boolean; ``Literal[...]`` -> enum.
* ``str | list[{uri, position}]`` (or ``str | list[object]``) -> frames.
* ``{type: Literal[k], uri: str}``, alone or as a union of such -> media with those kinds.
* any other TypedDict -> object; a union of TypedDicts -> object with ``one_of``.
* ``Iterable[X]`` / ``SequenceNotStr[X]`` -> list of X, sized by the docstring.
"""

from __future__ import annotations

from typing import Any

from scripts.catalog import docstrings as doc
from scripts.catalog.shapes import Choice, ListOf, OneOf, Scalar, SdkField, Shape, Struct

Json = dict[str, Any]
MEDIA_WORDS = ("image", "video", "audio")
PROSE_DOC_WORDS = ("describ", "script", "brief")


class Unmapped(ValueError):
    """An SDK shape no catalog kind expresses (the report says what the validator must learn)."""


def _media_by_name(wire: str) -> str | None:
    lowered = wire.lower()
    return next((kind for kind in MEDIA_WORDS if kind in lowered), None)


def _is_uri(wire: str, text: str) -> bool:
    return doc.is_media_uri(text) or wire.lower().endswith("uri") or _media_by_name(wire) is not None


def _string(wire: str, text: str) -> Json:
    if _is_uri(wire, text):
        return {"type": "uri", "media": doc.media_kind(text) or _media_by_name(wire) or "image"}
    lowered = wire.lower()
    if "prompt" in lowered or "text" in lowered or any(word in text.lower() for word in PROSE_DOC_WORDS):
        out: Json = {"type": "text"}
        limit = doc.text_limit(text)
        if limit is not None:
            out["max"], out["count"] = limit
        if doc.non_empty(text):
            out["non_empty"] = True
        return out
    pattern = doc.tag_pattern(text)
    return {"type": "string", "pattern": pattern} if pattern else {"type": "string"}


def _ranged(kind: str, text: str, also: tuple[str, ...] = ()) -> Json:
    out: Json = {"type": kind}
    if also:
        out["also"] = list(also)
    bounds = doc.numeric_range(text)
    if bounds is not None:
        low, high = bounds
        out["min"], out["max"] = (int(low), int(high)) if kind == "integer" else (low, high)
    return out


def _scalar(shape: Scalar, wire: str, text: str) -> Json:
    if shape.type == "str":
        return _string(wire, text)
    if shape.type == "int":
        return _ranged("integer", text)
    if shape.type == "float":
        return _ranged("number", text)
    if shape.type == "bool":
        return {"type": "boolean"}
    raise Unmapped(f"{wire}: an open value (object) outside a list")


def _media_struct(shape: Shape) -> str | None:
    """The kind of a ``{type: Literal[kind], uri: str}`` reference, else None."""
    if not isinstance(shape, Struct) or {f.wire for f in shape.fields} != {"type", "uri"}:
        return None
    kind = shape.field("type")
    if kind is None or not isinstance(kind.shape, Choice) or len(kind.shape.values) != 1:
        return None
    return str(kind.shape.values[0])


def _frames(wire: str, text: str, item: Shape) -> Json:
    out: Json = {"type": "frames"}
    if isinstance(item, Struct):
        uri, position = item.field("uri"), item.field("position")
        if uri is None or set(f.wire for f in item.fields) - {"uri", "position"}:
            raise Unmapped(f"{wire}: a frame list whose items are not {{uri, position}}")
        out["media"] = doc.media_kind(uri.doc) or _media_by_name(wire) or "image"
        positions: tuple[Any, ...] = position.shape.values if position and isinstance(position.shape, Choice) else ()
        out["positions"] = list(positions)
        out["position_required"] = bool(position and position.required)
    else:  # ``list[object]``: the SDK leaves the items open, the prose names the positions
        out["media"] = doc.media_kind(text) or _media_by_name(wire) or "image"
        out["positions"] = list(doc.named_positions(text))
        out["position_required"] = False
    if doc.first_frame_needed(text):
        out["first_required"] = True
    if doc.positions_exclusive(text):
        out["exclusive_modes"] = True
    return out


def _object(shape: Struct) -> Json:
    return {"type": "object", "fields": struct_fields(shape)}


def _one_of(options: tuple[Shape, ...], wire: str, text: str) -> Json:
    kinds = [_media_struct(option) for option in options]
    if all(kinds):
        return {"type": "media", "kinds": kinds}
    scalars = {o.type for o in options if isinstance(o, Scalar)}
    words = tuple(str(v) for o in options if isinstance(o, Choice) for v in o.values)
    lists = [o for o in options if isinstance(o, ListOf)]
    if scalars == {"int"} and len(options) == 2 and words:
        return _ranged("integer", text, also=words)
    if scalars == {"str"} and len(options) == 2 and words:
        return _string(wire, text)  # listed values or any other: the listed ones are examples
    if scalars == {"str"} and len(options) == 2 and lists:
        return _frames(wire, text, lists[0].item)
    if all(isinstance(option, Struct) for option in options):
        return {"type": "object", "one_of": [map_shape(option, wire, "") for option in options]}
    raise Unmapped(f"{wire}: a union of {options}")


def _list(shape: ListOf, wire: str, text: str) -> Json:
    out: Json = {"type": "list"}
    if not (isinstance(shape.item, Scalar) and shape.item.type == "object"):
        out["items"] = map_shape(shape.item, wire, "")
    low, high = doc.item_count(text)
    if low is not None:
        out["min_items"] = low
    if high is not None:
        out["max_items"] = high
    return out


def map_shape(shape: Shape, wire: str, text: str) -> Json:
    """The catalog field for one SDK shape (``wire`` and ``text`` are its name and docstring)."""
    if isinstance(shape, Scalar):
        return _scalar(shape, wire, text)
    if isinstance(shape, Choice):
        return {"type": "enum", "values": list(shape.values)}
    if isinstance(shape, ListOf):
        return _list(shape, wire, text)
    if isinstance(shape, OneOf):
        return _one_of(shape.options, wire, text)
    kind = _media_struct(shape)
    return {"type": "media", "kinds": [kind]} if kind else _object(shape)


def _default(spec: Json, text: str) -> Any:
    """The documented default, when it is a value the field takes."""
    said = doc.stated_default(text)
    if said is None:
        return None
    kind = spec["type"]
    if kind == "enum":
        return next((v for v in spec["values"] if str(v) == said), None)
    if kind == "boolean" and said in ("true", "false"):
        return said == "true"
    if kind in ("integer", "number"):
        try:
            number = float(said)
        except ValueError:
            return None
        return int(number) if kind == "integer" and number.is_integer() else number if kind == "number" else None
    return None


def map_field(field: SdkField, siblings: Struct) -> Json:
    spec = map_shape(field.shape, field.wire, field.doc)
    if spec["type"] == "frames" and field.shape and isinstance(field.shape, OneOf):
        _, high = doc.item_count(field.doc)
        if high is not None:
            spec["max_items"] = high
    if field.required:
        spec["required"] = True
    default = _default(spec, field.doc)
    if default is not None:
        spec["default"] = default
    if spec["type"] != "boolean" and doc.needs_prompt_text(field.doc) and siblings.field("promptText"):
        spec["requires"] = ["promptText"]
    return spec


def struct_fields(struct: Struct, *, skip: tuple[str, ...] = ()) -> Json:
    """A TypedDict's fields by wire name, in the SDK's order (``model`` is left to the caller)."""
    return {f.wire: map_field(f, struct) for f in struct.fields if f.wire not in skip}
