"""Outputs at rest: where a finished task's output goes, and how a re-run knows it is already there.

The operator calls ``prepare_request`` before any paid call (the body built, stored inputs read,
validated, the output checked, an already-stored output found) and ``PreparedRequest.remember``
once the task id is known; the wait's finish path (operator and sensor) calls
``record_wait_failure`` and ``store_output``. Everything here runs in the worker; only plain
JSON goes to XCom: ``runway_output`` for every output kind, and ``runway_video`` as well when
the output is a video (the key the image-to-video operator has always used).

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
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.catalog import media_fields
from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.inputs import ResolvedMedia, resolve_body_media, sniff_type
from airflow_provider_runway.locations import describe, is_folder, is_local, parent, storage_path
from airflow_provider_runway.models import validate_body
from airflow_provider_runway.outcomes import (
    INVALID_INPUT,
    STORE_FAILED,
    XCOM_OUTPUT_KEY,
    XCOM_REQUEST_KEY,
    XCOM_VIDEO_KEY,
    emit_asset_events,
    find_request,
    lineage_of,
    map_index_of,
    now_utc,
    output_kind,
    push_outcome,
    push_xcom,
    record_failure,
    record_wait_failure,
)
from airflow_provider_runway.records import (
    CREATED,
    SKIPPED,
    VIDEO,
    check_output_path,
    expected_sidecar,
    idempotency_key,
    is_done,
    mp4_seconds,
    output_location,
    output_suffix,
    sidecar,
    sidecar_location,
    stored_at,
    stored_outcome,
)

if TYPE_CHECKING:
    from airflow_provider_runway.models import ValidatedBody

# Re-exported: callers of the storing side find the XCom keys and the wait's outcome here too.
__all__ = [
    "XCOM_OUTPUT_KEY",
    "XCOM_REQUEST_KEY",
    "XCOM_VIDEO_KEY",
    "PreparedRequest",
    "check_output_writable",
    "prepare_request",
    "record_wait_failure",
    "store_output",
    "store_video",
]
_CHUNK = 1 << 20
_SNIFF_BYTES = 32


# -- before the paid call ------------------------------------------------------------------------


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


def check_output_writable(op: Any) -> None:
    """For a wait that will store its video: fail now, not after the paid work is done."""
    if op.output_path:
        probe_writable(check_output_path(op.output_path), op.output_conn_id)


def read_sidecar(location: str, conn_id: str | None) -> dict[str, Any] | None:
    path = storage_path(location, conn_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None  # torn or foreign file: not proof of anything
    return data if isinstance(data, dict) else None


def _size(location: str, conn_id: str | None) -> int | None:
    path = storage_path(location, conn_id)
    return path.stat().st_size if path.exists() else None


@dataclass
class PreparedRequest:
    """A request whose body was built, whose stored inputs were read and whose output was checked."""

    endpoint: str
    flavor: str
    body: dict[str, Any]  # as composed, media references as the user gave them
    media: ResolvedMedia
    checked: ValidatedBody  # validated; uploads still placeholders
    lenient: bool
    request: dict[str, Any]
    done: str | None = None  # the Runway task id of the output already stored at the target

    def validated(self, hook: Any) -> ValidatedBody:
        """The body to send: stored inputs inline, or uploaded first when too large (flavor runway)."""
        if not self.media.needs_upload:
            return self.checked
        body = self.media.apply(self.body, hook.upload_ephemeral)
        return validate_body(body, self.flavor, self.endpoint, lenient=self.lenient)

    def remember(self, context: Mapping[str, Any], runway_task_id: str) -> None:
        """Keep what the sidecar needs (across deferral, and for a downstream sensor) in XCom."""
        push_xcom(context, XCOM_REQUEST_KEY, {**self.request, "runway_task_id": runway_task_id})


def prepare_request(op: Any, context: Mapping[str, Any], hook: Any) -> PreparedRequest:
    """Build the body, read stored inputs, validate, key the request, check the output; before any paid call.

    ``op`` provides ``endpoint``, ``request_fields()`` (the named API fields), ``request_body(flavor)``,
    ``input_conn_id``, ``lenient``, ``output_path``, ``output_conn_id`` and ``idempotent``. With
    ``op.idempotent`` and an output plus sidecar for the same key already stored, ``done`` is set
    and the caller skips the create.
    """
    endpoint = op.endpoint
    try:
        flavor = hook.flavor
        body = op.request_body(flavor)
        media = resolve_body_media(endpoint, body, flavor=flavor, conn_id=op.input_conn_id)
        checked = validate_body(media.apply(body), flavor, endpoint, lenient=op.lenient)  # uploads as placeholders
        key = idempotency_key(checked.body, media.identities_by_field(), endpoint)
        shown = {k: v for k, v in checked.body.items() if k not in media.shapes}
        request = {
            "endpoint": endpoint,
            "body": describe(shown),
            "sources": media.sources(),
            "idempotency_key": key,
            "flavor": flavor,
        }
        prepared = PreparedRequest(endpoint, flavor, body, media, checked, op.lenient, request)
        if op.output_path:
            output = check_output_path(op.output_path)
            if op.idempotent and _already_stored(op, context, prepared, output, key):
                return prepared
            probe_writable(output, op.output_conn_id)
    except (InvalidRequestError, ValueError) as err:
        first = _first_input(op.request_fields(), endpoint)
        record_failure(op, context, INVALID_INPUT, str(err), endpoint=endpoint, image=first)
        raise
    return prepared


def _first_input(fields: Mapping[str, Any], endpoint: str) -> Any:
    """The first media reference the request names, safe to show (for a failure's ``image``)."""
    for wire in media_fields(endpoint):
        value = fields.get(wire)
        value = value[0] if isinstance(value, list) and value else value
        if value is not None:
            return describe(value.get("uri") if isinstance(value, Mapping) else value)
    return None


def _stored_sidecar(op: Any, sidecar_at: str, output: str, key: str) -> dict[str, Any] | None:
    """The sidecar of a whole output made from this request, if there is one where it would be."""
    try:
        meta = read_sidecar(sidecar_at, op.output_conn_id)
        if meta is None:
            return None
        stored = stored_at(meta)
        here = stored is not None and (stored == output or (is_folder(output) and parent(stored) == output))
        if here and is_done(meta, key, _size(str(stored), op.output_conn_id)):
            return meta
    except Exception as err:  # unreadable output: the write probe that follows says why
        op.log.warning("Could not check %s for an earlier output: %s: %s", sidecar_at, type(err).__name__, err)
        return None
    op.log.info("%s exists but was made from other inputs or is incomplete; making it again", sidecar_at)
    return None


def _already_stored(op: Any, context: Mapping[str, Any], prepared: PreparedRequest, output: str, key: str) -> bool:
    sidecar_at = expected_sidecar(output, key)
    meta = _stored_sidecar(op, sidecar_at, output, key)
    if meta is None:
        return False
    prepared.done = str(meta.get("runway_task_id"))
    record = stored_outcome(SKIPPED, meta, sidecar_at, map_index_of(context))
    op.log.info(
        "Skipped, already done: %s (Runway task %s) is stored with its sidecar for these inputs; no paid call made",
        stored_at(meta),
        prepared.done,
    )
    push_outcome(context, record, meta.get("output_kind") or VIDEO)
    emit_asset_events(op, context, record, meta)
    return True


# -- after the wait ------------------------------------------------------------------------------


def _digest(staging: Path) -> tuple[str, float | None]:
    sha = hashlib.sha256()
    with staging.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            sha.update(chunk)
        seconds = mp4_seconds(handle)
    return sha.hexdigest(), seconds


def _publish(staging: Path, location: str, conn_id: str | None) -> None:
    target = storage_path(location, conn_id)
    if is_local(location):
        os.replace(staging, target)  # staged in the same folder: atomic
        return
    with staging.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _write_json(location: str, conn_id: str | None, data: Mapping[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    if is_local(location):
        path = storage_path(location)
        staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
        staging.write_text(text)
        os.replace(staging, path)
    else:
        storage_path(location, conn_id).write_text(text)


def _sniff(path: Path) -> str | None:
    with path.open("rb") as handle:
        sniffed = sniff_type(handle.read(_SNIFF_BYTES))
    return sniffed[0] if sniffed else None


def store_output(op: Any, context: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any] | None:
    """After SUCCEEDED: stream the output to ``op.output_path``, write its sidecar, emit the asset event.

    The stored file's suffix follows what was downloaded (its bytes' type; the endpoint's output
    kind when they say nothing). If storing fails, the paid result is not lost: the Runway task
    id and output URL are logged, a retry reconnects to the task, and the error says so.
    """
    if not op.output_path:
        return None
    from airflow_provider_runway._compat import AirflowException
    from airflow_provider_runway.hooks.runway import RunwayHook

    runway_task_id = str(task.get("id"))
    outputs = task.get("output") or []
    url = str(outputs[0]) if outputs else ""
    request = find_request(op, context, runway_task_id)
    endpoint = request.get("endpoint") or getattr(op, "endpoint", None)
    kind = output_kind(endpoint) or VIDEO
    output = check_output_path(op.output_path)
    key = request.get("idempotency_key")
    target = output_location(output, key, runway_task_id, output_suffix(kind, None))
    finished_at = now_utc()
    staging_dir = parent(target) if is_local(target) else None
    started = time.monotonic()
    try:
        if not url:
            raise ValueError("the task succeeded without an output URL")
        if staging_dir is not None:
            Path(storage_path(staging_dir)).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=storage_path(staging_dir) if staging_dir else None) as tmp:
            staging = Path(tmp) / ".output.partial"
            hook = RunwayHook(op.runway_conn_id)  # an expired URL is renewed from the task
            size = hook.download_output(url, str(staging), runway_task_id=runway_task_id, output_index=0)
            content_type = _sniff(staging)
            kind = output_kind(endpoint) or (content_type or VIDEO).partition("/")[0]
            target = output_location(output, key, runway_task_id, output_suffix(kind, content_type))
            sha256, seconds = _digest(staging)
            _publish(staging, target, op.output_conn_id)
        meta = sidecar(
            request=request,
            task=task,
            video=target,
            size=size,
            kind=kind,
            content_type=content_type,
            sha256=sha256,
            seconds=seconds,
            finished_at=finished_at,
            lineage=lineage_of(context),
        )
        sidecar_at = sidecar_location(target)
        _write_json(sidecar_at, op.output_conn_id, meta)
    except Exception as err:
        op.log.error(
            "Runway task %s SUCCEEDED (paid) but storing its %s at %s failed: %s: %s. The output is still at "
            "%s (valid 24-48 h; polling the task gives a fresh URL). Clear or retry this task to store it.",
            runway_task_id,
            kind,
            target,
            type(err).__name__,
            err,
            url or "(no URL)",
        )
        image = (request.get("sources") or [{}])[0].get("location")
        message = f"{type(err).__name__}: {err}"
        record_failure(
            op, context, STORE_FAILED, message, endpoint=endpoint, image=image, runway_task_id=runway_task_id
        )
        raise AirflowException(f"Storing the {kind} of Runway task {runway_task_id} at {target} failed: {err}") from err
    record = stored_outcome(CREATED, meta, sidecar_at, map_index_of(context))
    op.log.info(
        "Stored the %s of Runway task %s at %s (%d bytes%s) in %.1f s; sidecar %s",
        kind,
        runway_task_id,
        target,
        size,
        f", {seconds} s of video" if seconds is not None else "",
        time.monotonic() - started,
        sidecar_at,
    )
    push_outcome(context, record, kind)
    emit_asset_events(op, context, record, meta)
    return record


store_video = store_output  # the name it had while only videos were stored
