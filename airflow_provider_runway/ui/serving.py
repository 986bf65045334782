"""Serving a stored output to the browser: local files with Range support, object storage by presigned URL.

A ``<video>`` needs byte ranges (206 answers) to show its length and to seek. A local file is
served here (Starlette's ``FileResponse`` answers ``Range`` on 3.1's and 3.3's Starlette).
Object storage answers ranges itself: the browser is redirected to a URL the storage signed for
a few minutes (``fsspec``'s ``sign``: S3, GCS, ...); where the filesystem cannot sign, the file
is streamed through here, ranges included.

The location comes from the task's record, never from the request; and since XCom can be written
by any task of the DAG (and through the REST API), a record alone is not trusted with the API
server's files: a location is served only when it has a media suffix, its sidecar beside it names
it with its exact size, and its first bytes are a video, an image (not SVG) or audio.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_provider_runway.media.inputs import sniff_type
from airflow_provider_runway.media.locations import is_local, storage_path
from airflow_provider_runway.media.outputs import read_sidecar
from airflow_provider_runway.media.sidecars import SUFFIXES, sidecar_location, stored_at

PRESIGNED_SECONDS = 600
CHUNK = 1 << 16
NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
SNIFF_BYTES = 32
MEDIA_KINDS = ("video/", "image/", "audio/")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ValueError):
    """A ``Range`` that selects nothing of the file (answered 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One ``bytes=a-b`` / ``a-`` / ``-n`` range of a ``size``-byte file; None for the whole file.

    Several ranges, or a header that is not a byte range, get the whole file (as RFC 9110 allows);
    a range past the end raises ``RangeNotSatisfiable``.
    """
    match = _RANGE.match((header or "").strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, end)


class NotServable(LookupError):
    """A recorded location that is not a stored output (answered 404, saying why)."""


def servable_type(location: str, path: Any, conn_id: str | None) -> str:
    """The media type to serve ``location`` as, once it proved to be a stored output; else ``NotServable``."""
    if "." + location.rsplit(".", 1)[-1].lower() not in SUFFIXES.values():
        raise NotServable(f"{location} is not a stored output's name")
    if not path.exists():
        raise NotServable(f"{location} is not there (or not reachable from the API server)")
    meta = read_sidecar(sidecar_location(location), conn_id)
    if not meta or stored_at(meta) != location or meta.get("bytes") != int(path.stat().st_size):
        raise NotServable(f"no sidecar beside {location} describes it")
    with path.open("rb") as handle:
        sniffed = sniff_type(handle.read(SNIFF_BYTES))
    kind = sniffed[0] if sniffed else ""
    if not kind.startswith(MEDIA_KINDS) or kind == "image/svg+xml":
        raise NotServable(f"{location} is not a video, an image or audio")
    return kind if kind != "video/mp4" else (mimetypes.guess_type(location)[0] or kind)


def presigned_url(path: Any) -> str | None:
    """A short-lived URL the storage itself serves (ranges included), or None where it cannot sign."""
    try:
        return str(path.fs.sign(path.path, expiration=PRESIGNED_SECONDS))
    except (NotImplementedError, AttributeError):
        return None


def read_range(path: Any, byte_range: ByteRange | None, size: int) -> Iterator[bytes]:
    start, remaining = (byte_range.start, byte_range.length) if byte_range else (0, size)
    with path.open("rb") as handle:
        handle.seek(start)
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def output_response(location: str, conn_id: str | None, range_header: str | None) -> Any:
    """The response for one stored output: the file, a redirect to a presigned URL, or 404 saying why."""
    from fastapi import HTTPException
    from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

    path = storage_path(location, None if is_local(location) else conn_id)
    try:
        kind = servable_type(location, path, conn_id)
    except NotServable as why:
        raise HTTPException(404, str(why)) from None
    if is_local(location):
        return FileResponse(path, media_type=kind, headers=NO_STORE)
    url = presigned_url(path)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers=NO_STORE)
    size = int(path.stat().st_size)
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    headers = {**NO_STORE, "Accept-Ranges": "bytes", "Content-Length": str(byte_range.length if byte_range else size)}
    if byte_range is not None:
        headers["Content-Range"] = byte_range.content_range(size)
    status = 206 if byte_range is not None else 200
    return StreamingResponse(read_range(path, byte_range, size), status_code=status, media_type=kind, headers=headers)
