"""The image-to-video request: flavors, per-model limits, validation and the wire body.

Pure functions and frozen dataclasses, no I/O. The operator validates with these before any
paid call, and the local emulator refuses requests with the very same rules, so both always
agree on what the API accepts.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_runway.errors import InvalidRequestError

COMETAPI = "cometapi"
RUNWAY = "runway"
DEFAULT_MODEL = "gen3a_turbo"
DEFAULT_RUNWAY_VERSION = "2024-11-06"

MAX_DATA_URI_CHARS = 5 * 1024 * 1024
MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class FlavorSpec:
    """What differs between CometAPI's proxy and Runway's own API."""

    name: str
    default_host: str
    path_prefix: str
    seed_max: int
    prompt_text_max: int
    # CometAPI publishes one contract for every model; Runway's limits depend on the model.
    ratios: tuple[str, ...] | None
    durations: tuple[int, ...] | None
    allows_runway_uri: bool

    def path(self, suffix: str) -> str:
        return f"{self.path_prefix}/{suffix.lstrip('/')}"


COMETAPI_RATIOS = (
    "1280:720",
    "720:1280",
    "1104:832",
    "832:1104",
    "960:960",
    "1584:672",
    "1280:768",
    "768:1280",
)

FLAVORS: dict[str, FlavorSpec] = {
    COMETAPI: FlavorSpec(
        name=COMETAPI,
        default_host="https://api.cometapi.com",
        path_prefix="/runwayml/v1",
        seed_max=999_999_999,
        prompt_text_max=512,
        ratios=COMETAPI_RATIOS,
        durations=(5, 10),
        allows_runway_uri=False,
    ),
    RUNWAY: FlavorSpec(
        name=RUNWAY,
        default_host="https://api.dev.runwayml.com",
        path_prefix="/v1",
        seed_max=4_294_967_295,
        prompt_text_max=1000,
        ratios=None,
        durations=None,
        allows_runway_uri=True,
    ),
}


@dataclass(frozen=True)
class ModelSpec:
    """Runway's documented limits for one image-to-video model."""

    ratios: tuple[str, ...]
    durations: tuple[int, ...]
    prompt_text_required: bool = False
    last_frame: bool = False
    audio: bool = False


_GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
_TWO_TO_TEN = tuple(range(2, 11))

MODELS: dict[str, ModelSpec] = {
    "gen3a_turbo": ModelSpec(ratios=("1280:768", "768:1280"), durations=(5, 10), last_frame=True),
    "gen4_turbo": ModelSpec(ratios=_GEN4_RATIOS, durations=_TWO_TO_TEN),
    "gen4.5": ModelSpec(ratios=_GEN4_RATIOS, durations=_TWO_TO_TEN, prompt_text_required=True),
    "veo3": ModelSpec(ratios=_VEO_RATIOS, durations=(8,)),
    "veo3.1": ModelSpec(ratios=_VEO_RATIOS, durations=(4, 6, 8), audio=True),
    "veo3.1_fast": ModelSpec(ratios=_VEO_RATIOS, durations=(4, 6, 8), audio=True),
}

# operator parameter -> API field, in the order the API documents them
WIRE_NAMES: dict[str, str] = {
    "prompt_image": "promptImage",
    "model": "model",
    "prompt_text": "promptText",
    "ratio": "ratio",
    "duration": "duration",
    "seed": "seed",
    "watermark": "watermark",
    "content_moderation": "contentModeration",
}
PARAM_NAMES: dict[str, str] = {wire: param for param, wire in WIRE_NAMES.items()}
PUBLIC_FIGURE_THRESHOLDS = ("auto", "low")
FRAME_POSITIONS = ("first", "last")
_DATA_URI = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,(?P<payload>.*)$", re.DOTALL)


def flavor_spec(flavor: str) -> FlavorSpec:
    try:
        return FLAVORS[flavor]
    except KeyError:
        allowed = ", ".join(FLAVORS)
        raise ValueError(f"unknown flavor {flavor!r}; allowed: {allowed}") from None


def _label(wire: str) -> str:
    param = PARAM_NAMES.get(wire, wire)
    return param if param == wire else f"{param} ({wire})"


def _fail(wire: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(PARAM_NAMES.get(wire, wire), message, label=_label(wire))


def _allowed(values: tuple[Any, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _as_int(wire: str, value: Any) -> int:
    # Templated fields render to strings ("5"), so accept decimal strings too.
    if isinstance(value, bool):
        raise _fail(wire, f"must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value.strip())
    raise _fail(wire, f"must be an integer, got {value!r}")


def _as_bool(wire: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(wire, f"must be true or false, got {value!r}")


def _check_https_url(wire: str, uri: str) -> None:
    if len(uri) > MAX_URL_CHARS:
        raise _fail(wire, f"URL is {len(uri)} characters; at most {MAX_URL_CHARS} allowed")
    try:
        parts = urlsplit(uri)
    except ValueError:  # e.g. an unbalanced "[" in the host
        raise _fail(wire, f"is not a valid URL: {uri[:80]!r}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise _fail(wire, f"must be an https:// URL, a data:image/...;base64 URI or a runway:// URI, got {uri[:80]!r}")
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    raise _fail(wire, f"URL must use a domain name, not an IP address ({parts.hostname})")


def _check_data_uri(wire: str, uri: str) -> None:
    match = _DATA_URI.match(uri)
    if match is None:
        raise _fail(wire, "data URI must look like data:image/<type>;base64,<data>")
    if len(uri) > MAX_DATA_URI_CHARS:
        raise _fail(wire, f"data URI is {len(uri)} characters; at most {MAX_DATA_URI_CHARS} (5 MiB) allowed")
    try:
        base64.b64decode(match.group("payload"), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(wire, "data URI payload is not valid base64") from None


def check_image_uri(uri: Any, flavor: FlavorSpec, wire: str = "promptImage") -> None:
    """Validate one image reference: https URL, base64 data URI, or (Runway) a runway:// upload."""
    if not isinstance(uri, str) or not uri:
        raise _fail(wire, f"must be a non-empty string, got {uri!r}")
    if uri.startswith("data:"):
        _check_data_uri(wire, uri)
    elif uri.startswith("runway://"):
        if not flavor.allows_runway_uri:
            raise _fail(wire, "runway:// upload URIs work only with flavor 'runway'")
    else:
        _check_https_url(wire, uri)


def _check_prompt_image(value: Any, flavor: FlavorSpec, model: ModelSpec | None) -> None:
    if not isinstance(value, list):
        check_image_uri(value, flavor)
        return
    if not 1 <= len(value) <= 2:
        raise _fail("promptImage", f"a frame list holds 1 or 2 frames, got {len(value)}")
    positions = []
    for frame in value:
        if not isinstance(frame, Mapping) or set(frame) != {"uri", "position"}:
            raise _fail("promptImage", 'each frame must be {"uri": ..., "position": "first"|"last"}')
        if frame["position"] not in FRAME_POSITIONS:
            raise _fail("promptImage", f"position must be one of: {_allowed(FRAME_POSITIONS)}")
        check_image_uri(frame["uri"], flavor)
        positions.append(frame["position"])
    if len(set(positions)) != len(positions):
        raise _fail("promptImage", "each position may appear once")
    if "last" in positions and model is not None and not model.last_frame:
        raise _fail("promptImage", "this model does not accept a 'last' frame")


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class ValidatedBody:
    """A create body the API will accept, plus warnings worth logging (e.g. unknown model)."""

    body: dict[str, Any]
    warnings: tuple[str, ...]


def validate_body(body: Mapping[str, Any], flavor: str) -> ValidatedBody:
    """Check a camelCase create body against the flavor's and model's limits.

    Returns the body with normalised types (e.g. "5" -> 5). Raises InvalidRequestError naming
    the field and the allowed values. Unknown extra fields pass through untouched: the API
    grows faster than this table.
    """
    spec = flavor_spec(flavor)
    out = dict(body)
    warnings: list[str] = []

    model_name = out.get("model")
    if not isinstance(model_name, str) or not model_name.strip():
        raise _fail("model", f"is required; known models: {_allowed(tuple(MODELS))}")
    model = MODELS.get(model_name)
    if model is None:
        warnings.append(f"model {model_name!r} is not one this provider knows; sending it unvalidated")

    if "promptImage" not in out or out["promptImage"] in (None, "", []):
        raise _fail("promptImage", "is required")
    _check_prompt_image(out["promptImage"], spec, model)

    text = out.get("promptText")
    if text is not None:
        if not isinstance(text, str):
            raise _fail("promptText", f"must be a string, got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no API can take it as text (and UTF-16 counting fails)
            raise _fail("promptText", "is not valid Unicode text (it contains a lone surrogate)") from None
        units = _utf16_units(text) if spec.name == RUNWAY else len(text)
        if units > spec.prompt_text_max:
            raise _fail("promptText", f"is {units} characters; at most {spec.prompt_text_max} allowed")
    if model is not None and model.prompt_text_required and not text:
        raise _fail("promptText", f"is required for model {model_name}")

    if out.get("seed") is not None:
        seed = out["seed"] = _as_int("seed", out["seed"])
        if not 0 <= seed <= spec.seed_max:
            raise _fail("seed", f"must be between 0 and {spec.seed_max}, got {seed}")

    if model is not None or spec.ratios is not None:
        ratios = spec.ratios if spec.ratios is not None else model.ratios  # type: ignore[union-attr]
        durations = spec.durations if spec.durations is not None else model.durations  # type: ignore[union-attr]
        where = f"flavor {spec.name}" if spec.ratios is not None else f"model {model_name}"
        if out.get("ratio") is not None and out["ratio"] not in ratios:
            raise _fail("ratio", f"{out['ratio']!r} is not allowed for {where}; allowed: {_allowed(ratios)}")
        if out.get("duration") is not None:
            duration = out["duration"] = _as_int("duration", out["duration"])
            if duration not in durations:
                raise _fail("duration", f"{duration} is not allowed for {where}; allowed: {_allowed(durations)}")
    elif out.get("duration") is not None:
        out["duration"] = _as_int("duration", out["duration"])

    if out.get("watermark") is not None:
        out["watermark"] = _as_bool("watermark", out["watermark"])

    moderation = out.get("contentModeration")
    if moderation is not None:
        if not isinstance(moderation, Mapping) or set(moderation) - {"publicFigureThreshold"}:
            raise _fail("contentModeration", 'must be {"publicFigureThreshold": "auto"|"low"}')
        threshold = moderation.get("publicFigureThreshold")
        if threshold is not None and threshold not in PUBLIC_FIGURE_THRESHOLDS:
            raise _fail(
                "contentModeration",
                f"publicFigureThreshold must be one of: {_allowed(PUBLIC_FIGURE_THRESHOLDS)}",
            )

    if "audio" in out and model is not None and not model.audio:
        raise _fail("audio", f"model {model_name} does not take an audio option")
    return ValidatedBody(body=out, warnings=tuple(warnings))


def build_image_to_video_body(
    *,
    prompt_image: Any,
    model: str = DEFAULT_MODEL,
    prompt_text: str | None = None,
    ratio: str | None = None,
    duration: int | str | None = None,
    seed: int | str | None = None,
    watermark: bool | str | None = None,
    content_moderation: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    flavor: str = COMETAPI,
) -> ValidatedBody:
    """Build and validate the camelCase create body from the operator's parameters."""
    params: dict[str, Any] = {
        "prompt_image": prompt_image,
        "model": model,
        "prompt_text": prompt_text,
        "ratio": ratio,
        "duration": duration,
        "seed": seed,
        "watermark": watermark,
        "content_moderation": content_moderation,
    }
    body = {WIRE_NAMES[name]: value for name, value in params.items() if value is not None}
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise InvalidRequestError("extra_body", f"must be a dict, got {type(extra_body).__name__}")
        clash = sorted(set(extra_body) & set(WIRE_NAMES.values()))
        if clash:
            raise InvalidRequestError("extra_body", f"sets {', '.join(clash)}, which have their own parameters")
        body.update(extra_body)
    return validate_body(body, flavor)
