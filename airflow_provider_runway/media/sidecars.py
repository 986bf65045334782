"""What a stored output is known by: its idempotency key, its name, its sidecar, its outcome.

Pure functions over plain JSON values (no I/O), shared by the operator, the sensor and the
batch DAG's summary. The sidecar written beside each output (a video, an image, audio) is the
record of what was paid for; a re-run finds it and skips the paid create when the key matches.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from typing import IO, Any

from airflow_provider_runway.media.locations import is_folder, join, with_suffix
from airflow_provider_runway.runway.credits import final_credits

SIDECAR_SCHEMA = "airflow-provider-runway/video-sidecar/1"
OUTPUT_SIDECAR_SCHEMA = "airflow-provider-runway/output-sidecar/1"  # images and audio
IMAGE_TO_VIDEO = "image_to_video"
PROMPT_IMAGE = "promptImage"
VIDEO = "video"
VIDEO_SUFFIX = ".mp4"
# A downloaded output's type, sniffed from its bytes, -> the stored file's suffix.
SUFFIXES: dict[str, str] = {
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "audio/mp4": ".m4a",
}
DEFAULT_SUFFIXES: dict[str, str] = {"video": VIDEO_SUFFIX, "image": ".png", "audio": ".mp3"}
SIDECAR_SUFFIX = ".json"
NAME_PREFIX = "runway-"
KEY_CHARS = 20  # 80 bits of the key in the name: collisions only by intent
CREATED = "created"
SKIPPED = "skipped"
FAILED = "failed"
# Request fields the sidecar repeats (the API's names), beside the source and the key.


def idempotency_key(
    body: Mapping[str, Any],
    media: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    endpoint: str = IMAGE_TO_VIDEO,
) -> str:
    """sha256 over the endpoint, the request without its media, and each input's identity.

    ``media`` maps each media field to its inputs' identities (content hash, else URL); a plain
    list is ``promptImage``'s. ``body`` is the validated wire body (so ``duration="5"`` and
    ``5`` agree); the flavor is left out on purpose: the same request through CometAPI or
    Runway makes the same output. Image-to-video keeps the layout its first keys were made
    with, so videos stored before other endpoints existed are still found.
    """
    fields = dict(media) if isinstance(media, Mapping) else {PROMPT_IMAGE: list(media)}
    request = {key: value for key, value in body.items() if key not in fields and key != PROMPT_IMAGE}
    if endpoint == IMAGE_TO_VIDEO and set(fields) <= {PROMPT_IMAGE}:
        canonical: dict[str, Any] = {"v": 1, "request": request, "images": list(fields.get(PROMPT_IMAGE, []))}
    else:
        canonical = {"v": 2, "endpoint": endpoint, "request": request, "media": fields}
    text = json.dumps(canonical, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def output_suffix(kind: str, media_type: str | None) -> str:
    """The stored file's suffix: from the downloaded bytes' type, else the endpoint's output kind."""
    return SUFFIXES.get(media_type or "", DEFAULT_SUFFIXES.get(kind, ".bin"))


def output_name(key: str | None, runway_task_id: str | None, suffix: str = VIDEO_SUFFIX) -> str:
    """Content-addressed when the request is known, else named after the Runway task."""
    if key:
        return f"{NAME_PREFIX}{key[:KEY_CHARS]}{suffix}"
    return f"{runway_task_id}{suffix}"


def output_location(output_path: str, key: str | None, runway_task_id: str | None, suffix: str = VIDEO_SUFFIX) -> str:
    """``output_path`` itself when it names a file; inside it when it is a folder (ends in ``/``)."""
    return join(output_path, output_name(key, runway_task_id, suffix)) if is_folder(output_path) else output_path


def indexed_location(first: str, index: int, count: int, suffix: str) -> str:
    """Output ``index`` (>= 1) of ``count``, beside the first: ``<stem>-<index><suffix>``.

    Zero-padded from 10 outputs on, so that a listing sorts them in the order Runway gave them.
    """
    return with_suffix(first, f"-{index:0{len(str(count))}d}{suffix}")


def expected_sidecar(output_path: str, key: str) -> str:
    """Where the sidecar of this request's output is, whatever the output's suffix turns out to be."""
    return sidecar_location(output_location(output_path, key, None, SIDECAR_SUFFIX))


def sidecar_location(video: str) -> str:
    return with_suffix(video, SIDECAR_SUFFIX)


def check_output_path(output_path: Any) -> str:
    """The output path, or ValueError naming what is wrong with it."""
    if not isinstance(output_path, str) or not output_path.strip():
        raise ValueError(f"output_path must be a non-empty path or URL, got {output_path!r}")
    if output_path.lower().endswith(SIDECAR_SUFFIX):
        raise ValueError(f"output_path {output_path!r} ends in {SIDECAR_SUFFIX}: that name is kept for the sidecar")
    return output_path.strip()


def stored_at(sidecar: Mapping[str, Any]) -> str | None:
    """The output a sidecar describes (``video`` in sidecars written before other kinds existed)."""
    found = sidecar.get("output") or sidecar.get("video")
    return str(found) if found else None


def stored_files(sidecar: Mapping[str, Any]) -> list[str]:
    """Every file a sidecar (or outcome record) names, in order; records from before there were several name one."""
    listed = [item.get("location") if isinstance(item, Mapping) else item for item in sidecar.get("outputs") or []]
    first = stored_at(sidecar)
    return [str(name) for name in listed if name] or ([first] if first else [])


def output_entry(location: str, size: int, sha256: str, content_type: str | None) -> dict[str, Any]:
    """One stored file as the sidecar's ``outputs`` lists it."""
    return {"location": location, "bytes": size, "sha256": sha256, "content_type": content_type}


def is_done(sidecar: Mapping[str, Any] | None, key: str, video_bytes: int | None) -> bool:
    """An output counts as stored when its sidecar carries this key and the file is whole."""
    if not sidecar or sidecar.get("idempotency_key") != key or video_bytes is None:
        return False
    return sidecar.get("bytes") == video_bytes


def further_outputs(sidecar: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(location, bytes)`` of every output after the first that the sidecar lists: each must be whole too."""
    entries = sidecar.get("outputs") or []
    return [(str(e.get("location")), e.get("bytes")) for e in entries[1:] if isinstance(e, Mapping)]


def sidecar(
    *,
    request: Mapping[str, Any],
    task: Mapping[str, Any],
    video: str,
    size: int,
    kind: str = VIDEO,
    content_type: str | None = None,
    sha256: str,
    seconds: float | None,
    finished_at: str,
    lineage: Mapping[str, Any],
    outputs: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON written beside the output (``video``: its location, whatever its kind).

    ``request`` is what the operator remembered. Videos keep their first schema and ``video``
    key, so readers of earlier sidecars keep working; every kind has ``output``. The top-level
    file fields describe the first output; ``outputs`` lists every stored file (``output_entry``),
    just the first when not given.
    """
    body = request.get("body") or {}
    sources = list(request.get("sources") or [])
    images = [source for source in sources if source.get("kind", "image") == "image"]
    where = {"video": video} if kind == VIDEO else {}
    return {
        "schema": SIDECAR_SCHEMA if kind == VIDEO else OUTPUT_SIDECAR_SCHEMA,
        **where,
        "output": video,
        "output_kind": kind,
        "content_type": content_type,
        "endpoint": request.get("endpoint") or IMAGE_TO_VIDEO,
        "bytes": size,
        "sha256": sha256,
        "seconds": seconds,
        "outputs": [dict(item) for item in outputs or [output_entry(video, size, sha256, content_type)]],
        "runway_task_id": task.get("id"),
        "model": body.get("model"),
        "prompt_text": body.get("promptText"),
        "seed": body.get("seed"),
        "ratio": body.get("ratio"),
        "duration": body.get("duration"),
        "source_image": images[0].get("location") if images else None,
        "sources": sources,
        "created_at": task.get("createdAt"),
        "finished_at": finished_at,
        "idempotency_key": request.get("idempotency_key"),
        "flavor": request.get("flavor"),
        "credits": final_credits(request.get("credits"), task),
        "airflow": dict(lineage),
    }


def outcome(kind: str, *, image: Any = None, sidecar_location: str | None = None, **fields: Any) -> dict[str, Any]:
    """One task's result as XCom ``runway_output`` (and, for videos, ``runway_video``) carries it."""
    record: dict[str, Any] = {"outcome": kind, "image": image, **fields}
    if sidecar_location is not None:
        record["sidecar"] = sidecar_location
    return record


def stored_outcome(kind: str, meta: Mapping[str, Any], sidecar_at: str, map_index: int | None) -> dict[str, Any]:
    """The outcome of a created or skipped video, from its sidecar."""
    return outcome(
        kind,
        image=meta.get("source_image"),
        sidecar_location=sidecar_at,
        video=meta.get("video"),
        output=stored_at(meta),
        outputs=stored_files(meta),
        output_kind=meta.get("output_kind") or VIDEO,
        seconds=meta.get("seconds") if meta.get("seconds") is not None else meta.get("duration"),
        bytes=meta.get("bytes"),
        sha256=meta.get("sha256"),
        runway_task_id=meta.get("runway_task_id"),
        credits=meta.get("credits"),
        map_index=map_index,
    )


def _boxes(stream: IO[bytes], end: int | None) -> Any:
    """(type, payload offset, payload size) of each ISO-BMFF box from the stream's position."""
    while end is None or stream.tell() + 8 <= end:
        start = stream.tell()
        header = stream.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if size == 1:
            size = struct.unpack(">Q", stream.read(8))[0]
            header_size = 16
        elif size == 0:  # runs to the end of the file
            size = (end if end is not None else stream.seek(0, 2)) - start
        if size < header_size:
            return
        yield kind, start + header_size, size - header_size
        stream.seek(start + size)


def mp4_seconds(stream: IO[bytes]) -> float | None:
    """The duration an MP4 declares (``moov/mvhd``), or None when the file does not say."""
    stream.seek(0)
    for kind, offset, size in list(_boxes(stream, None)):
        if kind != b"moov":
            continue
        stream.seek(offset)
        for child, child_offset, _ in list(_boxes(stream, offset + size)):
            if child != b"mvhd":
                continue
            stream.seek(child_offset)
            version = stream.read(4)[0]
            fields = stream.read(28 if version == 1 else 16)
            if version == 1:
                timescale, duration = struct.unpack(">16xIQ", fields)
            else:
                timescale, duration = struct.unpack(">8xII", fields)
            return round(duration / timescale, 3) if timescale else None
    return None
