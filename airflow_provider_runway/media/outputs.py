"""Outputs at rest: probing where an output goes, publishing a downloaded file whole, reading sidecars.

An output is published whole or not at all: it is downloaded to a local staging file first
(hashed, measured and its type sniffed there), then moved (local) or copied (object storage) to
its place, and its sidecar is written last, so a sidecar always describes a complete file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_runway.media.inputs import sniff_type
from airflow_provider_runway.media.locations import is_folder, is_local, parent, storage_path
from airflow_provider_runway.media.sidecars import mp4_seconds
from airflow_provider_runway.runway.errors import InvalidRequestError

_CHUNK = 1 << 20
_SNIFF_BYTES = 32


def probe_writable(output_path: str, conn_id: str | None) -> None:
    """Write and delete a small file where the video will go; InvalidRequestError if that fails."""
    folder = output_path if is_folder(output_path) else parent(output_path)
    probe = f"{folder.rstrip('/')}/.runway-write-check-{uuid.uuid4().hex[:12]}"
    try:
        path = storage_path(probe, conn_id)
        if is_local(probe):
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ok")
    except Exception as err:
        via = f" with connection {conn_id!r}" if conn_id and not is_local(folder) else ""
        raise InvalidRequestError(
            "output_path", f"cannot write to {folder}{via}: {type(err).__name__}: {err}"
        ) from None
    with contextlib.suppress(Exception):  # a leftover probe file is harmless
        path.unlink()


def read_sidecar(location: str, conn_id: str | None) -> dict[str, Any] | None:
    path = storage_path(location, conn_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None  # torn or foreign file: not proof of anything
    return data if isinstance(data, dict) else None


def stored_size(location: str, conn_id: str | None) -> int | None:
    path = storage_path(location, conn_id)
    return path.stat().st_size if path.exists() else None


def digest(staging: Path) -> tuple[str, float | None]:
    sha = hashlib.sha256()
    with staging.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            sha.update(chunk)
        seconds = mp4_seconds(handle)
    return sha.hexdigest(), seconds


def publish(staging: Path, location: str, conn_id: str | None) -> None:
    target = storage_path(location, conn_id)
    if is_local(location):
        os.replace(staging, target)  # staged in the same folder: atomic
        return
    with staging.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def write_json(location: str, conn_id: str | None, data: Mapping[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    if is_local(location):
        path = storage_path(location)
        staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
        staging.write_text(text)
        os.replace(staging, path)
    else:
        storage_path(location, conn_id).write_text(text)


def sniff_content_type(path: Path) -> str | None:
    with path.open("rb") as handle:
        sniffed = sniff_type(handle.read(_SNIFF_BYTES))
    return sniffed[0] if sniffed else None
