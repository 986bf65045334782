"""One small check per kind of field, driven by the catalog's ``FieldSpec``.

Each check returns the value normalised (templated fields render to strings: "5" -> 5,
"true" -> True) or reports a problem through the ``Checks`` context, which decides what a
problem means: a type or URI error always refuses the request (no API could take it); a
violated model rule (a range, an enum, a field the model does not take) refuses it, becomes a
warning when the caller asked to be lenient, or is ignored for a model the catalog does not
know (only model-independent checks apply there).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_runway.runway.catalog import FieldSpec, load_catalog
from airflow_provider_runway.runway.errors import InvalidRequestError

STRICT, LENIENT, TYPES_ONLY = "strict", "lenient", "types"
_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATA_URI = re.compile(r"^data:(?P<media>[a-z]+)/(?P<subtype>[A-Za-z0-9.+-]+);base64,(?P<payload>.*)$", re.DOTALL)


def param_name(wire: str) -> str:
    """The operator parameter for an API field: camelCase -> snake_case (promptText -> prompt_text)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", wire).lower()


def invalid(wire: str, message: str) -> InvalidRequestError:
    """An error naming the operator parameter and the API field, e.g. ``prompt_text (promptText)``."""
    param = param_name(wire)
    label = param if param == wire else f"{param} ({wire})"
    return InvalidRequestError(param, message, label=label)


@dataclass
class Checks:
    """Where a check runs: flavor, model, and what a violated model rule means (see module doc)."""

    flavor: str
    model: str
    mode: str = STRICT
    warnings: list[str] = field(default_factory=list)

    def rule(self, wire: str, message: str) -> None:
        if self.mode == TYPES_ONLY:
            return
        err = invalid(wire, message)
        if self.mode == STRICT:
            raise err
        self.warnings.append(f"{err} (lenient: sent anyway)")


@dataclass(frozen=True)
class At:
    """The top-level field (named in errors) and the path inside it (``referenceImages[1].uri``)."""

    wire: str
    path: str = ""

    def sub(self, suffix: str) -> At:
        return At(self.wire, f"{self.path}{suffix}")

    def says(self, message: str) -> str:
        return f"{self.wire}{self.path}: {message}" if self.path else message


def _kind_of(value: Any) -> str:
    return type(value).__name__


# -- scalars ----------------------------------------------------------------------------------


def as_int(value: Any, at: At) -> int:
    """An int, or a decimal string of one (templated fields render to str); never a bool."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    raise invalid(at.wire, at.says(f"must be an integer, got {value!r}"))


def as_bool(value: Any, at: At) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid(at.wire, at.says(f"must be true or false, got {value!r}"))


def _shown(number: float | None) -> str:
    """A bound as a user wrote it: 999999999, not 1e+09; 0.5 stays 0.5."""
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _within(number: float, spec: FieldSpec, at: At, checks: Checks) -> None:
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = (
            f"between {_shown(low)} and {_shown(high)}"
            if low is not None and high is not None
            else f"within {_shown(low)}..{_shown(high)}"
        )
        checks.rule(at.wire, at.says(f"must be {bounds} for model {checks.model}, got {_shown(number)}"))


def check_integer(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    if isinstance(value, str) and value.strip() in spec.also:
        return value.strip()
    number = as_int(value, at)
    _within(number, spec, at, checks)
    return number


def check_number(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise invalid(at.wire, at.says(f"must be a number, got {value!r}"))
    if isinstance(value, str):
        if not _NUMBER.fullmatch(value.strip()):
            raise invalid(at.wire, at.says(f"must be a number, got {value!r}"))
        value = float(value)
    _within(value, spec, at, checks)
    return value


def check_boolean(value: Any, spec: FieldSpec, at: At, checks: Checks) -> bool:
    return as_bool(value, at)


def check_enum(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    if spec.values and all(isinstance(v, int) for v in spec.values):
        value = as_int(value, at)
    elif not isinstance(value, str):
        raise invalid(at.wire, at.says(f"must be a string, got {_kind_of(value)}"))
    if value not in spec.values:
        allowed = ", ".join(str(v) for v in spec.values)
        checks.rule(at.wire, at.says(f"{value!r} is not allowed for model {checks.model}; allowed: {allowed}"))
    return value


def check_string(value: Any, spec: FieldSpec, at: At, checks: Checks) -> str:
    if not isinstance(value, str):
        raise invalid(at.wire, at.says(f"must be a string, got {_kind_of(value)}"))
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        checks.rule(at.wire, at.says(f"{value!r} does not match {spec.pattern} (model {checks.model})"))
    return value


def text_size(text: str, count: str) -> int:
    """Characters (code points), or UTF-16 code units (an astral character counts 2) as Runway counts."""
    return len(text.encode("utf-16-le")) // 2 if count == "utf16" else len(text)


def check_text(value: Any, spec: FieldSpec, at: At, checks: Checks) -> str:
    text = check_string(value, spec, at, checks)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no API can take it as text
        raise invalid(at.wire, at.says("is not valid Unicode text (it contains a lone surrogate)")) from None
    if spec.non_empty and not text:
        checks.rule(at.wire, at.says(f"must not be empty for model {checks.model}"))
    if spec.max_length is not None and text_size(text, spec.count) > spec.max_length:
        unit = "UTF-16 code units" if spec.count == "utf16" else "characters"
        size = text_size(text, spec.count)
        checks.rule(at.wire, at.says(f"is {size} {unit}; model {checks.model} takes at most {spec.max_length}"))
    return text


# -- media URIs (model-independent: the same rules for every model) ----------------------------


def check_uri(value: Any, media: str, at: At, flavor: str) -> str:
    """An https URL, a base64 data URI of the right media type and size, or (Runway) a runway:// upload."""
    if not isinstance(value, str) or not value:
        raise invalid(at.wire, at.says(f"must be a non-empty string, got {value!r}"))
    if value.startswith("data:"):
        _check_data_uri(value, media, at)
    elif value.startswith("runway://"):
        if not load_catalog().flavors[flavor].allows_runway_uri:
            raise invalid(at.wire, at.says("runway:// upload URIs work only with flavor 'runway'"))
    else:
        _check_https_url(value, at)
    return value


def _check_https_url(uri: str, at: At) -> None:
    limit = load_catalog().url_max_chars
    if len(uri) > limit:
        raise invalid(at.wire, at.says(f"URL is {len(uri)} characters; at most {limit} allowed"))
    try:
        parts = urlsplit(uri)
    except ValueError:  # e.g. an unbalanced "[" in the host
        raise invalid(at.wire, at.says(f"is not a valid URL: {uri[:80]!r}")) from None
    if parts.scheme != "https" or not parts.hostname:
        raise invalid(
            at.wire, at.says(f"must be an https:// URL, a base64 data URI or a runway:// URI, got {uri[:80]!r}")
        )
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    raise invalid(at.wire, at.says(f"URL must use a domain name, not an IP address ({parts.hostname})"))


def _check_data_uri(uri: str, media: str, at: At) -> None:
    limits = load_catalog().media[media]
    match = _DATA_URI.match(uri)
    if match is None or match.group("media") != media:
        raise invalid(at.wire, at.says(f"data URI must look like data:{media}/<type>;base64,<data>"))
    subtype = match.group("subtype").lower()
    if limits.data_uri_types and subtype not in limits.data_uri_types:
        allowed = ", ".join(f"{media}/{t}" for t in limits.data_uri_types)
        raise invalid(at.wire, at.says(f"data URI type {media}/{subtype} is not accepted; allowed: {allowed}"))
    if len(uri) > limits.data_uri_max_chars:
        mib = limits.data_uri_max_chars // (1024 * 1024)
        raise invalid(
            at.wire, at.says(f"data URI is {len(uri)} characters; at most {limits.data_uri_max_chars} ({mib} MiB)")
        )
    try:
        base64.b64decode(match.group("payload"), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(at.wire, at.says("data URI payload is not valid base64")) from None


def check_uri_field(value: Any, spec: FieldSpec, at: At, checks: Checks) -> str:
    return check_uri(value, spec.media or "image", at, checks.flavor)


# -- structures ---------------------------------------------------------------------------------


def check_frames(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    """One image URI, or a list of ``{"uri", "position"}`` key frames (or unpositioned references)."""
    if not isinstance(value, list):
        return check_uri(value, spec.media or "image", at, checks.flavor)
    positions: list[str | None] = []
    for index, frame in enumerate(value):
        where = at.sub(f"[{index}]")
        if not isinstance(frame, Mapping) or "uri" not in frame:
            raise invalid(at.wire, where.says('must be {"uri": ..., "position": "first"|"last"}'))
        check_uri(frame["uri"], spec.media or "image", where.sub(".uri"), checks.flavor)
        extra = sorted(set(frame) - {"uri", "position"})
        if extra:
            checks.rule(at.wire, where.says(f"has unknown keys {', '.join(map(str, extra))}"))
        position = frame.get("position")
        if position is not None and not isinstance(position, str):
            raise invalid(at.wire, where.says(f"position must be a string, got {position!r}"))
        positions.append(position)
    _check_positions(positions, spec, at, checks)
    return value


def _check_positions(positions: list[str | None], spec: FieldSpec, at: At, checks: Checks) -> None:
    model = checks.model
    placed = [p for p in positions if p is not None]
    allowed = ", ".join(spec.positions)
    if not positions:
        checks.rule(at.wire, "is required (an empty frame list)")
    if spec.position_required and len(placed) < len(positions):
        checks.rule(
            at.wire, f'each frame needs a position ({allowed}) for model {model}: {{"uri": ..., "position": ...}}'
        )
    # No positions listed: the SDK leaves the frames open (``list[object]``) and names none.
    if spec.positions and any(p not in spec.positions for p in placed):
        checks.rule(at.wire, f"position must be one of: {allowed} for model {model}")
    if spec.positions and len(set(placed)) != len(placed):
        checks.rule(at.wire, "each position may appear once")
    if spec.first_required and placed and "first" not in placed:
        checks.rule(at.wire, f"model {model} needs a 'first' frame when a 'last' frame is given")
    if spec.exclusive_modes and placed and len(placed) < len(positions):
        checks.rule(at.wire, f"model {model} takes key frames (with position) or reference images (without), not both")


def check_media(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    """A ``{"type": "image"|"video"|"audio", "uri": ...}`` reference."""
    if not isinstance(value, Mapping) or not isinstance(value.get("type"), str) or "uri" not in value:
        kinds = "|".join(spec.kinds)
        raise invalid(at.wire, at.says(f'must be {{"type": "{kinds}", "uri": ...}}'))
    kind = value["type"]
    if kind not in spec.kinds:
        checks.rule(
            at.wire, at.says(f"type {kind!r} is not allowed for model {checks.model}; allowed: {', '.join(spec.kinds)}")
        )
    media = kind if kind in load_catalog().media else "image"
    check_uri(value["uri"], media, at.sub(".uri"), checks.flavor)
    extra = sorted(set(value) - {"type", "uri"})
    if extra:
        checks.rule(at.wire, at.says(f"has unknown keys {', '.join(map(str, extra))}"))
    return dict(value)


def check_object(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    if not isinstance(value, Mapping):
        raise invalid(at.wire, at.says(f"must be an object, got {_kind_of(value)}"))
    shape = spec
    if spec.one_of:  # the first alternative whose required keys are all there
        fits = [alt for alt in spec.one_of if all(k in value for k, f in alt.fields.items() if f.required)]
        shape = fits[0] if fits else spec.one_of[0]
    return check_fields(value, shape.fields, at, checks, what=f"model {checks.model}")


def check_list(value: Any, spec: FieldSpec, at: At, checks: Checks) -> Any:
    if not isinstance(value, list):
        raise invalid(at.wire, at.says(f"must be a list, got {_kind_of(value)}"))
    if spec.min_items is not None and len(value) < spec.min_items:
        checks.rule(at.wire, at.says(f"needs at least {spec.min_items} item(s) for model {checks.model}"))
    if spec.max_items is not None and len(value) > spec.max_items:
        checks.rule(
            at.wire, at.says(f"takes at most {spec.max_items} item(s) for model {checks.model}, got {len(value)}")
        )
    if spec.items is None:
        return value
    item = spec.items
    return [CHECKS[item.kind](entry, item, at.sub(f"[{i}]"), checks) for i, entry in enumerate(value)]


CHECKS: dict[str, Callable[[Any, FieldSpec, At, Checks], Any]] = {
    "text": check_text,
    "string": check_string,
    "enum": check_enum,
    "integer": check_integer,
    "number": check_number,
    "boolean": check_boolean,
    "uri": check_uri_field,
    "frames": check_frames,
    "media": check_media,
    "object": check_object,
    "list": check_list,
}


def is_missing(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_fields(
    body: Mapping[str, Any], fields: Mapping[str, FieldSpec], at: At | None, checks: Checks, *, what: str
) -> dict[str, Any]:
    """Check every present field against its spec, then the required ones and the ones they need.

    ``at`` is None for a request body (each field is its own top-level field) or the position of
    a nested object. ``what`` names the model (or flavor) in "does not take" messages.
    """
    out: dict[str, Any] = {}
    for key, value in body.items():
        where = At(key) if at is None else at.sub(f".{key}")
        spec = fields.get(key)
        if spec is None:
            taken = ", ".join(k for k in fields if k != "model") or "none"
            checks.rule(where.wire, f"{what} does not take {where.wire}{where.path} (it takes: {taken})")
            out[key] = value
        elif value is None:
            continue  # an explicit null means "not given"; never sent
        elif spec.required and is_missing(value):
            checks.rule(where.wire, where.says(f"is required for {what}"))
            out[key] = value
        else:
            out[key] = CHECKS[spec.kind](value, spec, where, checks)
    for key, spec in fields.items():
        where = At(key) if at is None else at.sub(f".{key}")
        if spec.required and key not in out:
            checks.rule(where.wire, where.says(f"is required for {what}"))
        given = key in out and not is_missing(out[key])
        missing = [other for other in spec.requires if given and is_missing(out.get(other))]
        if missing:
            checks.rule(where.wire, where.says(f"needs {', '.join(missing)} as well ({what})"))
    return out
