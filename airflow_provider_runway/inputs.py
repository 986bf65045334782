"""Prompt images from where they live: local files, ``file://`` and object storage URLs.

``prompt_image`` (or a frame's ``uri``) may name a stored image instead of a URL Runway can
fetch. Such an image is read here, in the worker when the task runs (never at DAG parse),
its type is sniffed from the bytes (file names lie) and checked against what Runway accepts,
and it is sent inline as a data URI when that fits Runway's data-URI limit. A larger image
goes through Runway's ephemeral uploads (flavor ``runway``: a ``runway://`` URI); CometAPI
has no uploads, so there it is refused before any paid call with what to do instead.

Runway's inputs page (https://docs.dev.runwayml.com/assets/inputs/) gives the limits: images
at most 16 MB by URL, 5 MB as a data URI (5 * 1024 * 1024 characters of the whole URI) and
200 MB as an ephemeral upload (https://docs.dev.runwayml.com/assets/uploads). Runway's own API
reference (github.com/runwayml/skills, skills/rw-api-reference/SKILL.md, "Supported Formats")
lists the image types: JPEG, PNG and WebP, no GIF.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.locations import describe, is_local, is_storage_location, name_of, storage_path
from airflow_provider_runway.models import MAX_DATA_URI_CHARS, flavor_spec

ACCEPTED_TYPES: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
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
)
_ISO_BRANDS = {b"heic": ("image/heic", "HEIC"), b"heix": ("image/heic", "HEIC"), b"mif1": ("image/heif", "HEIF")}
_ISO_BRANDS |= {b"avif": ("image/avif", "AVIF")}

Uploader = Callable[[str, bytes, str], str]


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(media type, human name) from a file's first bytes, or None when unrecognised."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "WebP"
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


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError("prompt_image", message)


def _size_text(size: int) -> str:
    return f"{size:,} bytes ({size / (1024 * 1024):.1f} MiB)"


@dataclass(frozen=True)
class ImageFile:
    """A stored image read into memory, with the type its bytes show."""

    location: str
    media_type: str
    data: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64," + base64.b64encode(self.data).decode("ascii")


def read_image(location: str, conn_id: str | None, size_problem: Callable[[int, str], str | None]) -> ImageFile:
    """Read a stored image, refusing (naming the location) what Runway would refuse.

    Checks in the order a user fixes them: can it be read, is it an image Runway takes, does
    its size fit (judged from the file's size before it is read whole).
    """
    via = f" with connection {conn_id!r}" if conn_id and not is_local(location) else ""
    try:
        path = storage_path(location, conn_id)
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        size = path.stat().st_size
    except Exception as err:  # fsspec backends raise many types; all mean "cannot read"
        raise _fail(f"cannot read {location}{via}: {type(err).__name__}: {err}") from None
    sniffed = sniff_type(head)
    if sniffed is None or sniffed[0] not in ACCEPTED_TYPES:
        what = f"a {sniffed[1]} file ({sniffed[0]})" if sniffed else "not a recognisable image"
        raise _fail(f"{location} is {what}; Runway accepts {', '.join(ACCEPTED_TYPES.values())} images")
    problem = size_problem(size, sniffed[0])
    if problem:
        raise _fail(f"{location} is {_size_text(size)}; {problem}")
    try:
        data = path.read_bytes()
    except Exception as err:
        raise _fail(f"cannot read {location}{via}: {type(err).__name__}: {err}") from None
    return ImageFile(location=location, media_type=sniffed[0], data=data)


def size_problem_for(flavor: str) -> Callable[[int, str], str | None]:
    """How a flavor judges an image's size: inline when it fits, else upload (Runway) or refuse."""
    spec = flavor_spec(flavor)

    def problem(size: int, media_type: str) -> str | None:
        if data_uri_chars(size, media_type) <= MAX_DATA_URI_CHARS:
            return None
        if spec.allows_runway_uri:
            if size <= MAX_UPLOAD_BYTES:
                return None
            return f"Runway's ephemeral uploads take at most {_size_text(MAX_UPLOAD_BYTES)}; make the image smaller"
        largest = (MAX_DATA_URI_CHARS - len(f"data:{media_type};base64,")) // 4 * 3
        return (
            f"CometAPI takes images only inline, as a data URI of at most {MAX_DATA_URI_CHARS:,} characters "
            f"(an image of at most {_size_text(largest)}). Make it smaller (resize, or re-encode as JPEG), "
            "host it at a public https:// URL, or use a connection with flavor 'runway', which uploads larger images"
        )

    return problem


@dataclass(frozen=True)
class PromptImage:
    """One image reference of the request: as the API takes it, or a stored file read here."""

    reference: Any  # what the user gave (a URL, data URI, path); never shown unredacted
    position: str | None = None
    file: ImageFile | None = None

    @property
    def needs_upload(self) -> bool:
        return self.file is not None and data_uri_chars(len(self.file.data), self.file.media_type) > MAX_DATA_URI_CHARS

    def wire(self, uploader: Uploader | None) -> Any:
        """The value for the API: the reference, a data URI, or (with an uploader) a runway:// URI."""
        if self.file is None:
            return self.reference
        if not self.needs_upload:
            return self.file.data_uri()
        if uploader is None:
            return UPLOAD_PLACEHOLDER
        return uploader(name_of(self.file.location) or "image", self.file.data, self.file.media_type)

    def source(self) -> dict[str, Any]:
        """What the sidecar and XCom record about this image (never a data URI payload)."""
        out: dict[str, Any] = {"location": describe(self.reference)}
        if self.position is not None:
            out["position"] = self.position
        if self.file is not None:
            out.update(sha256=self.file.sha256, content_type=self.file.media_type, bytes=len(self.file.data))
        elif isinstance(self.reference, str) and self.reference.startswith("data:"):
            payload = self.reference.partition(",")[2]
            with contextlib.suppress(ValueError):  # validation names a broken payload
                out["sha256"] = hashlib.sha256(base64.b64decode(payload, validate=True)).hexdigest()
        return out

    def identity(self) -> dict[str, Any]:
        """What makes two requests' images the same: content hash when known, else the URL."""
        source = self.source()
        key = {"sha256": source["sha256"]} if "sha256" in source else {"uri": self.reference}
        return {"position": self.position, **key}


@dataclass(frozen=True)
class ResolvedPrompt:
    """``prompt_image`` after stored images were read: a single image or a frame list."""

    images: tuple[PromptImage, ...]
    is_list: bool
    original: Any

    def value(self, uploader: Uploader | None = None) -> Any:
        """The ``prompt_image`` for the request; without an uploader, uploads are placeholders."""
        if not self.images:
            return self.original
        if not self.is_list:
            return self.images[0].wire(uploader)
        # each frame as given, with only its uri resolved
        return [{**frame, "uri": image.wire(uploader)} for frame, image in zip(self.original, self.images, strict=True)]

    def sources(self) -> list[dict[str, Any]]:
        return [image.source() for image in self.images]

    def identities(self) -> list[dict[str, Any]]:
        return [image.identity() for image in self.images]


def _read_reference(reference: Any, position: str | None, flavor: str, conn_id: str | None) -> PromptImage:
    if not is_storage_location(reference):
        return PromptImage(reference=reference, position=position)
    return PromptImage(
        reference=reference, position=position, file=read_image(reference, conn_id, size_problem_for(flavor))
    )


def resolve_prompt_image(value: Any, *, flavor: str, conn_id: str | None = None) -> ResolvedPrompt:
    """Read every stored image in ``prompt_image`` (a reference or a frame list).

    Anything that is not a stored location passes through untouched for request validation to
    judge, so a bad URL keeps its usual error.
    """
    if isinstance(value, list):
        if not all(isinstance(frame, Mapping) and "uri" in frame for frame in value):
            return ResolvedPrompt(images=(), is_list=True, original=value)
        images = tuple(_read_reference(f["uri"], f.get("position"), flavor, conn_id) for f in value)
        return ResolvedPrompt(images=images, is_list=True, original=value)
    return ResolvedPrompt(images=(_read_reference(value, None, flavor, conn_id),), is_list=False, original=value)
