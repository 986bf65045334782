"""Where images and videos live: local paths, ``file://`` URLs and Airflow object storage URLs.

One reading of a location string for inputs, outputs and the batch DAG. Locations stay the
strings the user wrote (``s3://bucket/key``), so logs, sidecars and XCom show what the user
knows; they become path objects only at the moment of I/O, in the worker, through Airflow's
``ObjectStoragePath`` (any fsspec scheme, credentials from an Airflow connection).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# Values the API takes as they are (http:// too: validation refuses it with a clear message).
_API_REFERENCE = re.compile(r"^(https?://|data:|runway://)", re.IGNORECASE)
_DATA_URI = re.compile(r"^(data:[^,]{0,100},)(.*)$", re.DOTALL)


def is_api_reference(value: str) -> bool:
    """Whether Runway reads this image itself (URL, data URI, upload) rather than the worker."""
    return bool(_API_REFERENCE.match(value.strip()))


def is_storage_location(value: Any) -> bool:
    """A local path, ``file://`` or object storage URL: read in the worker, never by Runway."""
    return isinstance(value, str) and bool(value.strip()) and not is_api_reference(value)


def is_local(location: str) -> bool:
    return "://" not in location or location.lower().startswith("file://")


def is_folder(location: str) -> bool:
    """An output location ending in ``/`` is a folder; anything else names the file."""
    return location.endswith("/")


def storage_path(location: str, conn_id: str | None = None) -> Any:
    """The path object for I/O: ``pathlib.Path`` locally, ``ObjectStoragePath`` elsewhere."""
    if location.lower().startswith("file://"):
        return Path(unquote(urlsplit(location).path))
    if "://" not in location:
        return Path(location).expanduser()
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(location, conn_id=conn_id) if conn_id else ObjectStoragePath(location)


def join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}"


def parent(location: str) -> str:
    """The folder holding ``location`` (with its trailing ``/``)."""
    head, sep, _ = location.rstrip("/").rpartition("/")
    return f"{head}/" if sep else "./"


def name_of(location: str) -> str:
    return location.rstrip("/").rpartition("/")[2]


def with_suffix(location: str, suffix: str) -> str:
    """``videos/a.mp4`` -> ``videos/a.json``; a name without a suffix gets one appended."""
    folder, sep, name = location.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{folder}{sep}{stem}{suffix}"


def as_url(location: str) -> str:
    """A link target: object storage URLs as they are, local paths as ``file://`` URLs."""
    if not is_local(location) or location.lower().startswith("file://"):
        return location
    return Path(location).expanduser().resolve().as_uri()


def redact_data_uri(value: str) -> str:
    """``data:image/png;base64,<123456 chars>``: what logs, XCom, sidecars and errors may show."""
    match = _DATA_URI.match(value)
    if match is None:
        return value
    return f"{match.group(1)}<{len(match.group(2))} chars>"


def describe(value: Any) -> Any:
    """An image reference safe to show anywhere: data URI payloads replaced by their length."""
    if isinstance(value, str):
        return redact_data_uri(value)
    if isinstance(value, list):
        return [describe(item) for item in value]
    if isinstance(value, dict):
        return {key: describe(item) for key, item in value.items()}
    return value
