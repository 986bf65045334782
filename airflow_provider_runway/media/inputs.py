"""Media inputs from where they live: local files, ``file://`` and object storage URLs.

Any media field of a create body (``promptImage`` and its frames, ``referenceImages``,
``videoUri``, ``imageUri``, ``references``...) may name a stored file instead of a URL Runway
can fetch. Such a file is read here, in the worker when the task runs (never at DAG parse),
its type is sniffed from the bytes (file names lie) and checked against what Runway accepts
for the field's kind (image, video or audio), and it is sent inline as a data URI when that
fits Runway's data-URI limit for the kind. A larger file goes through Runway's ephemeral
uploads (flavor ``runway``: a ``runway://`` URI); CometAPI has no uploads, so there it is
refused before any paid call with what to do instead.

Runway's inputs page (https://docs.dev.runwayml.com/assets/inputs/) gives the limits: data URIs
of at most 5 MB for images and 16 MB for video and audio (the catalog's ``inputs.media``), and
200 MB as an ephemeral upload (https://docs.dev.runwayml.com/assets/uploads). Runway's own API
reference (github.com/runwayml/skills, skills/rw-api-reference/SKILL.md, "Supported Formats")
lists the image types: JPEG, PNG and WebP, no GIF.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from airflow_provider_runway.media.locations import describe, is_local, is_storage_location, name_of, storage_path
from airflow_provider_runway.runway.catalog import load_catalog, media_fields
from airflow_provider_runway.runway.errors import InvalidRequestError
from airflow_provider_runway.runway.fields import invalid
from airflow_provider_runway.runway.flavors import flavor_spec

PROMPT_IMAGE = "promptImage"
# What Runway takes per kind of media field, by sniffed media type.
ACCEPTED: dict[str, dict[str, str]] = {
    "image": {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"},
    "video": {"video/mp4": "MP4/QuickTime video", "video/webm": "WebM video"},
    "audio": {
        "audio/mpeg": "MP3",
        "audio/wav": "WAV",
        "audio/ogg": "Ogg",
        "audio/flac": "FLAC",
        "audio/mp4": "M4A/AAC",
    },
}
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_PLACEHOLDER = "runway://pending-upload"
_SNIFF_BYTES = 32
# Signatures of the accepted types, and of common ones worth naming when refused.
_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (0, b"GIF87a", "image/gif", "GIF"),
    (0, b"GIF89a", "image/gif", "GIF"),
    (0, b"BM", "image/bmp", "BMP"),
    (0, b"II*\x00", "image/tiff", "TIFF"),
    (0, b"MM\x00*", "image/tiff", "TIFF"),
    (0, b"%PDF", "application/pdf", "PDF document"),
    (0, b"\x00\x00\x01\x00", "image/x-icon", "ICO"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm", "WebM video"),
    (0, b"ID3", "audio/mpeg", "MP3"),
    (0, b"\xff\xfb", "audio/mpeg", "MP3"),
    (0, b"\xff\xf3", "audio/mpeg", "MP3"),
    (0, b"OggS", "audio/ogg", "Ogg"),
    (0, b"fLaC", "audio/flac", "FLAC"),
)
_ISO_BRANDS = {b"heic": ("image/heic", "HEIC"), b"heix": ("image/heic", "HEIC"), b"mif1": ("image/heif", "HEIF")}
_ISO_BRANDS |= {b"avif": ("image/avif", "AVIF"), b"M4A ": ("audio/mp4", "M4A/AAC")}

Uploader = Callable[[str, bytes, str], str]


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(media type, human name) from a file's first bytes, or None when unrecognised."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "WebP"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav", "WAV"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return _ISO_BRANDS.get(brand, ("video/mp4", "MP4/QuickTime video"))
    for offset, magic, media_type, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return media_type, name
    if head.lstrip()[:5].lower() in (b"<svg ", b"<?xml"):
        return "image/svg+xml", "SVG/XML text"
    return None


def data_uri_chars(size: int, media_type: str) -> int:
    """Length of the data URI for ``size`` bytes: Runway's limit counts the whole URI."""
    return len(f"data:{media_type};base64,") + 4 * ((size + 2) // 3)


def data_uri_limit(kind: str) -> int:
    return load_catalog().media[kind].data_uri_max_chars


def _size_text(size: int) -> str:
    return f"{size:,} bytes ({size / (1024 * 1024):.1f} MiB)"


@dataclass(frozen=True)
class MediaFile:
    """A stored file read into memory, with the type its bytes show."""

    location: str
    media_type: str
    data: bytes
    kind: str = "image"

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def inline(self) -> bool:
        """Whether it fits Runway's data-URI limit for its kind (else it needs an upload)."""
        return data_uri_chars(len(self.data), self.media_type) <= data_uri_limit(self.kind)

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64," + base64.b64encode(self.data).decode("ascii")


def read_media(
    location: str,
    conn_id: str | None,
    size_problem: Callable[[int, str], str | None],
    *,
    kind: str = "image",
    wire: str = PROMPT_IMAGE,
) -> MediaFile:
    """Read a stored file, refusing (naming the field and the location) what Runway would refuse.

    Checks in the order a user fixes them: can it be read, is it a type Runway takes for this
    kind of field, does its size fit (judged from the file's size before it is read whole).
    """
    via = f" with connection {conn_id!r}" if conn_id and not is_local(location) else ""
    try:
        path = storage_path(location, conn_id)
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        size = path.stat().st_size
    except Exception as err:  # fsspec backends raise many types; all mean "cannot read"
        raise _fail(wire, f"cannot read {location}{via}: {type(err).__name__}: {err}") from None
    sniffed = sniff_type(head)
    accepted = ACCEPTED[kind]
    if sniffed is None or sniffed[0] not in accepted:
        what = f"a {sniffed[1]} file ({sniffed[0]})" if sniffed else f"not a recognisable {kind}"
        names = ", ".join(dict.fromkeys(accepted.values()))
        raise _fail(wire, f"{location} is {what}; Runway accepts {names} {kind}s here")
    problem = size_problem(size, sniffed[0])
    if problem:
        raise _fail(wire, f"{location} is {_size_text(size)}; {problem}")
    try:
        data = path.read_bytes()
    except Exception as err:
        raise _fail(wire, f"cannot read {location}{via}: {type(err).__name__}: {err}") from None
    return MediaFile(location=location, media_type=sniffed[0], data=data, kind=kind)


def _fail(wire: str, message: str) -> InvalidRequestError:
    if wire == PROMPT_IMAGE:  # the image-to-video operator's own parameter, named as users know it
        return InvalidRequestError("prompt_image", message)
    return invalid(wire, message)


def size_problem_for(flavor: str, kind: str = "image") -> Callable[[int, str], str | None]:
    """How a flavor judges a file's size: inline when it fits, else upload (Runway) or refuse."""
    spec = flavor_spec(flavor)
    limit = data_uri_limit(kind)

    def problem(size: int, media_type: str) -> str | None:
        if data_uri_chars(size, media_type) <= limit:
            return None
        if spec.allows_runway_uri:
            if size <= MAX_UPLOAD_BYTES:
                return None
            return f"Runway's ephemeral uploads take at most {_size_text(MAX_UPLOAD_BYTES)}; make the {kind} smaller"
        largest = (limit - len(f"data:{media_type};base64,")) // 4 * 3
        shrink = "resize, or re-encode as JPEG" if kind == "image" else "shorten or re-encode it"
        return (
            f"CometAPI takes {kind}s only inline, as a data URI of at most {limit:,} characters "
            f"(a {kind} of at most {_size_text(largest)}). Make it smaller ({shrink}), "
            f"host it at a public https:// URL, or use a connection with flavor 'runway', which uploads larger {kind}s"
        )

    return problem


@dataclass(frozen=True)
class MediaRef:
    """One media reference of the request: as the API takes it, or a stored file read here.

    ``attrs`` are the keys beside ``uri`` when the reference sits in an object (a frame's
    ``position``, a reference image's ``tag``, a media item's ``type``); ``item`` says it did.
    """

    reference: Any  # what the user gave (a URL, data URI, path); never shown unredacted
    wire: str = PROMPT_IMAGE
    kind: str = "image"
    attrs: Mapping[str, Any] = field(default_factory=dict)
    item: bool = False
    file: MediaFile | None = None

    @property
    def position(self) -> Any:
        return self.attrs.get("position")

    @property
    def needs_upload(self) -> bool:
        return self.file is not None and not self.file.inline

    def uri(self, uploader: Uploader | None) -> Any:
        """The value for the API: the reference, a data URI, or (with an uploader) a runway:// URI."""
        if self.file is None:
            return self.reference
        if not self.needs_upload:
            return self.file.data_uri()
        if uploader is None:
            return UPLOAD_PLACEHOLDER
        return uploader(name_of(self.file.location) or self.file.kind, self.file.data, self.file.media_type)

    def wire_value(self, uploader: Uploader | None) -> Any:
        uri = self.uri(uploader)
        return {"uri": uri, **self.attrs} if self.item else uri

    def source(self) -> dict[str, Any]:
        """What the sidecar and XCom record about this input (never a data URI payload)."""
        out: dict[str, Any] = {"location": describe(self.reference), **self.attrs}
        if self.wire != PROMPT_IMAGE:
            out.update(field=self.wire, kind=self.kind)
        if self.file is not None:
            out.update(sha256=self.file.sha256, content_type=self.file.media_type, bytes=len(self.file.data))
        elif isinstance(self.reference, str) and self.reference.startswith("data:"):
            payload = self.reference.partition(",")[2]
            with contextlib.suppress(ValueError):  # validation names a broken payload
                out["sha256"] = hashlib.sha256(base64.b64decode(payload, validate=True)).hexdigest()
        return out

    def identity(self) -> dict[str, Any]:
        """What makes two requests' inputs the same: content hash when known, else the URL."""
        source = self.source()
        key = {"sha256": source["sha256"]} if "sha256" in source else {"uri": self.reference}
        if self.wire == PROMPT_IMAGE:  # the layout image-to-video keys were first made with
            return {"position": self.position, **key}
        return {**self.attrs, **key}


@dataclass(frozen=True)
class ResolvedMedia:
    """A body's media fields after stored files were read; ``apply`` puts them back in place."""

    refs: tuple[MediaRef, ...]
    shapes: Mapping[str, Any]  # wire -> the value as given (a reference, a list, an object)

    @property
    def images(self) -> tuple[MediaRef, ...]:
        return self.refs

    @property
    def needs_upload(self) -> bool:
        return any(ref.needs_upload for ref in self.refs)

    def apply(self, body: Mapping[str, Any], uploader: Uploader | None = None) -> dict[str, Any]:
        """``body`` with each media field as the API takes it; without an uploader, uploads are placeholders."""
        out = dict(body)
        for wire, given in self.shapes.items():
            refs = [ref for ref in self.refs if ref.wire == wire]
            if isinstance(given, list):
                values = iter(ref.wire_value(uploader) for ref in refs)
                out[wire] = [next(values) if _is_reference(item) else item for item in given]
            elif refs:
                out[wire] = refs[0].wire_value(uploader)
        return out

    def sources(self) -> list[dict[str, Any]]:
        return [ref.source() for ref in self.refs]

    def identities(self) -> list[dict[str, Any]]:
        return [ref.identity() for ref in self.refs]

    def identities_by_field(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for ref in self.refs:
            out.setdefault(ref.wire, []).append(ref.identity())
        return out


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, Mapping) and "uri" in value)


def _ref(value: Any, wire: str, kind: str, flavor: str, conn_id: str | None) -> MediaRef:
    item = isinstance(value, Mapping)
    reference = value["uri"] if item else value
    attrs = {k: v for k, v in value.items() if k != "uri"} if item else {}
    if item and attrs.get("type") in ACCEPTED:  # {"type": "video", "uri": ...}: the item names its kind
        kind = str(attrs["type"])
    if not is_storage_location(reference):
        return MediaRef(reference=reference, wire=wire, kind=kind, attrs=attrs, item=item)
    read = read_media(reference, conn_id, size_problem_for(flavor, kind), kind=kind, wire=wire)
    return MediaRef(reference=reference, wire=wire, kind=kind, attrs=attrs, item=item, file=read)


def resolve_media(
    body: Mapping[str, Any], fields: Mapping[str, str], *, flavor: str, conn_id: str | None = None
) -> ResolvedMedia:
    """Read every stored file named in the body's media fields (``fields``: wire name -> kind).

    A field may hold one reference, an object with a ``uri``, or a list of either. Anything
    that is not a stored location passes through untouched for request validation to judge,
    so a bad URL keeps its usual error.
    """
    refs: list[MediaRef] = []
    shapes: dict[str, Any] = {}
    for wire, kind in fields.items():
        value = body.get(wire)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        if not all(_is_reference(item) for item in items):
            continue  # not a shape of references: validation says what is wrong with it
        shapes[wire] = value
        refs.extend(_ref(item, wire, kind, flavor, conn_id) for item in items)
    return ResolvedMedia(refs=tuple(refs), shapes=shapes)


def resolve_body_media(
    endpoint: str, body: Mapping[str, Any], *, flavor: str, conn_id: str | None = None
) -> ResolvedMedia:
    """``resolve_media`` over the media fields the catalog lists for ``endpoint`` (none when unknown)."""
    return resolve_media(body, media_fields(endpoint), flavor=flavor, conn_id=conn_id)


@dataclass(frozen=True)
class ResolvedPrompt:
    """``prompt_image`` after stored images were read: a single image or a frame list."""

    media: ResolvedMedia
    original: Any

    @property
    def images(self) -> tuple[MediaRef, ...]:
        return self.media.refs

    def value(self, uploader: Uploader | None = None) -> Any:
        """The ``prompt_image`` for the request; without an uploader, uploads are placeholders."""
        return self.media.apply({PROMPT_IMAGE: self.original}, uploader)[PROMPT_IMAGE]

    def sources(self) -> list[dict[str, Any]]:
        return self.media.sources()

    def identities(self) -> list[dict[str, Any]]:
        return self.media.identities()


def resolve_prompt_image(value: Any, *, flavor: str, conn_id: str | None = None) -> ResolvedPrompt:
    """Read every stored image in ``prompt_image`` (a reference or a frame list)."""
    media = resolve_media({PROMPT_IMAGE: value}, {PROMPT_IMAGE: "image"}, flavor=flavor, conn_id=conn_id)
    return ResolvedPrompt(media=media, original=value)
