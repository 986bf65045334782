"""Videos at rest: where a finished task's video goes, and how a re-run knows it is already there.

The operator calls ``prepare_request`` before any paid call (stored images read, output
checked, an already-stored video found) and ``PreparedRequest.remember`` once the task id is
known; the wait's finish path (operator and sensor) calls ``record_wait_failure`` and
``store_video``. Everything here runs in the worker; only plain JSON goes to XCom.

A video is published whole or not at all: it is downloaded to a local staging file first
(hashed and measured there), then moved (local) or copied (object storage) to its place, and
its sidecar is written last, so a sidecar always describes a complete video.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.inputs import ResolvedPrompt, resolve_prompt_image
from airflow_provider_runway.locations import as_url, describe, is_folder, is_local, name_of, parent, storage_path
from airflow_provider_runway.records import (
    CREATED,
    FAILED,
    SKIPPED,
    check_output_path,
    idempotency_key,
    is_done,
    mp4_seconds,
    outcome,
    sidecar,
    sidecar_location,
    stored_outcome,
    video_location,
)
from airflow_provider_runway.waiting import SUCCESS

if TYPE_CHECKING:
    from airflow_provider_runway.models import ValidatedBody

XCOM_REQUEST_KEY = "runway_request"
XCOM_VIDEO_KEY = "runway_video"
STORE_FAILED = "STORE_FAILED"
INVALID_INPUT = "INVALID_INPUT"
_CHUNK = 1 << 20

Validate = Callable[[str, Any], "ValidatedBody"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ti(context: Mapping[str, Any]) -> Any:
    return context.get("ti") if isinstance(context, Mapping) else None


def _push(context: Mapping[str, Any], key: str, value: Any) -> None:
    ti = _ti(context)
    if ti is not None:
        ti.xcom_push(key=key, value=value)


def _map_index(context: Mapping[str, Any]) -> int | None:
    index = getattr(_ti(context), "map_index", None)
    return index if isinstance(index, int) and index >= 0 else None


def _lineage(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = _ti(context)
    names = ("dag_id", "run_id", "task_id", "map_index")
    return {name: getattr(ti, name, None) for name in names} if ti is not None else {}


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
    """A request whose stored images were read and whose output was checked."""

    prompt: ResolvedPrompt
    validate: Validate
    flavor: str
    request: dict[str, Any]
    done: str | None = None  # the Runway task id of the video already stored at the target

    def validated(self, hook: Any) -> ValidatedBody:
        """The body to send: stored images inline, or uploaded first when too large (flavor runway)."""
        needs_upload = any(image.needs_upload for image in self.prompt.images)
        return self.validate(self.flavor, self.prompt.value(hook.upload_ephemeral if needs_upload else None))

    def remember(self, context: Mapping[str, Any], runway_task_id: str) -> None:
        """Keep what the sidecar needs (across deferral, and for a downstream sensor) in XCom."""
        _push(context, XCOM_REQUEST_KEY, {**self.request, "runway_task_id": runway_task_id})


def _record_failure(op: Any, context: Mapping[str, Any], code: str, message: str, **fields: Any) -> None:
    if op.output_path:
        _push(context, XCOM_VIDEO_KEY, outcome(FAILED, failure_code=code, message=message, **fields))


def prepare_request(op: Any, context: Mapping[str, Any], hook: Any, validate: Validate) -> PreparedRequest:
    """Read stored images, key the request, check the output; all before any paid call.

    With ``op.idempotent`` and a video plus sidecar for the same key already at the output,
    ``done`` is set and the caller skips the create.
    """
    try:
        flavor = hook.flavor
        prompt = resolve_prompt_image(op.prompt_image, flavor=flavor, conn_id=op.image_conn_id)
        checked = validate(flavor, prompt.value(None))  # uploads as placeholders; every other check exact
        key = idempotency_key(checked.body, prompt.identities())
        body = {k: v for k, v in checked.body.items() if k != "promptImage"}
        request = {"body": body, "sources": prompt.sources(), "idempotency_key": key, "flavor": flavor}
        prepared = PreparedRequest(prompt=prompt, validate=validate, flavor=flavor, request=request)
        if op.output_path:
            output = check_output_path(op.output_path)
            if op.idempotent and _already_stored(op, context, prepared, output, key):
                return prepared
            probe_writable(output, op.output_conn_id)
    except (InvalidRequestError, ValueError) as err:
        image = _first_source(op.prompt_image)
        _record_failure(op, context, INVALID_INPUT, str(err), image=image, map_index=_map_index(context))
        raise
    return prepared


def _first_source(prompt_image: Any) -> Any:
    if isinstance(prompt_image, list) and prompt_image and isinstance(prompt_image[0], Mapping):
        return describe(prompt_image[0].get("uri"))
    return describe(prompt_image)


def _stored_sidecar(op: Any, video: str, key: str) -> dict[str, Any] | None:
    """The sidecar of a whole video made from this request, if ``video`` is one."""
    try:
        meta = read_sidecar(sidecar_location(video), op.output_conn_id)
        if meta is None:
            return None
        if is_done(meta, key, _size(video, op.output_conn_id)):
            return meta
    except Exception as err:  # unreadable output: the write probe that follows says why
        op.log.warning("Could not check %s for an earlier video: %s: %s", video, type(err).__name__, err)
        return None
    op.log.info("%s exists but was made from other inputs or is incomplete; making it again", video)
    return None


def _already_stored(op: Any, context: Mapping[str, Any], prepared: PreparedRequest, output: str, key: str) -> bool:
    video = video_location(output, key, None)
    meta = _stored_sidecar(op, video, key)
    if meta is None:
        return False
    prepared.done = str(meta.get("runway_task_id"))
    record = stored_outcome(SKIPPED, meta, sidecar_location(video), _map_index(context))
    op.log.info(
        "Skipped, already done: %s (Runway task %s) is stored with its sidecar for these inputs; no paid call made",
        video,
        prepared.done,
    )
    _push(context, XCOM_VIDEO_KEY, record)
    emit_asset_events(op, context, record, meta)
    return True


# -- after the wait ------------------------------------------------------------------------------


def find_request(op: Any, context: Mapping[str, Any], runway_task_id: str | None) -> dict[str, Any]:
    """What the submitting operator remembered about this Runway task (this task or upstream)."""
    ti = _ti(context)
    if ti is None or not runway_task_id:
        return {}
    task_ids = [op.task_id, *sorted(getattr(op, "upstream_task_ids", ()) or ())]
    try:
        values = ti.xcom_pull(task_ids=task_ids, key=XCOM_REQUEST_KEY, map_indexes=getattr(ti, "map_index", -1))
    except Exception as err:  # the sidecar loses request details, the video is still stored
        op.log.warning("Could not read the request details of Runway task %s: %s", runway_task_id, err)
        return {}
    values = values if isinstance(values, list) else [values]
    return next((v for v in values if isinstance(v, dict) and v.get("runway_task_id") == runway_task_id), {})


def record_wait_failure(op: Any, context: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    """A wait that did not succeed: note its outcome (failure code, message) for summaries."""
    if not op.output_path or event.get("status") == SUCCESS:
        return
    task = event.get("task") or {}
    runway_task_id = event.get("runway_task_id")
    request = find_request(op, context, runway_task_id)
    sources = request.get("sources") or [{}]
    code = task.get("failureCode") or str(event.get("status") or "error").upper()
    _record_failure(
        op,
        context,
        code,
        str(event.get("message") or ""),
        image=sources[0].get("location"),
        runway_task_id=runway_task_id,
        map_index=_map_index(context),
    )


def _download(hook: Any, url: str, target: str, runway_task_id: str) -> int:
    import inspect

    # Hooks that can refresh an expired output URL take the task id; older ones only the URL.
    if "runway_task_id" in inspect.signature(hook.download_output).parameters:
        return int(hook.download_output(url, target, runway_task_id=runway_task_id, output_index=0))
    return int(hook.download_output(url, target))


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


def store_video(op: Any, context: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any] | None:
    """After SUCCEEDED: stream the video to ``op.output_path``, write its sidecar, emit the asset event.

    If storing fails, the paid result is not lost: the Runway task id and output URL are
    logged, a retry reconnects to the task, and the error says so.
    """
    if not op.output_path:
        return None
    from airflow_provider_runway._compat import AirflowException
    from airflow_provider_runway.hooks.runway import RunwayHook

    runway_task_id = str(task.get("id"))
    outputs = task.get("output") or []
    url = str(outputs[0]) if outputs else ""
    request = find_request(op, context, runway_task_id)
    video = video_location(check_output_path(op.output_path), request.get("idempotency_key"), runway_task_id)
    sidecar_at = sidecar_location(video)
    finished_at = _now()
    staging_dir = parent(video) if is_local(video) else None
    started = time.monotonic()
    try:
        if not url:
            raise ValueError("the task succeeded without an output URL")
        if staging_dir is not None:
            Path(storage_path(staging_dir)).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=storage_path(staging_dir) if staging_dir else None) as tmp:
            staging = Path(tmp) / f".{name_of(video)}.partial"
            size = _download(RunwayHook(op.runway_conn_id), url, str(staging), runway_task_id)
            sha256, seconds = _digest(staging)
            _publish(staging, video, op.output_conn_id)
        meta = sidecar(
            request=request,
            task=task,
            video=video,
            size=size,
            sha256=sha256,
            seconds=seconds,
            finished_at=finished_at,
            lineage=_lineage(context),
        )
        _write_json(sidecar_at, op.output_conn_id, meta)
    except Exception as err:
        op.log.error(
            "Runway task %s SUCCEEDED (paid) but storing its video at %s failed: %s: %s. The video is still at "
            "%s (valid 24-48 h; polling the task gives a fresh URL). Clear or retry this task to store it.",
            runway_task_id,
            video,
            type(err).__name__,
            err,
            url or "(no URL)",
        )
        image = (request.get("sources") or [{}])[0].get("location")
        message = f"{type(err).__name__}: {err}"
        _record_failure(
            op,
            context,
            STORE_FAILED,
            message,
            image=image,
            runway_task_id=runway_task_id,
            map_index=_map_index(context),
        )
        raise AirflowException(f"Storing the video of Runway task {runway_task_id} at {video} failed: {err}") from err
    record = stored_outcome(CREATED, meta, sidecar_at, _map_index(context))
    op.log.info(
        "Stored the video of Runway task %s at %s (%d bytes, %s s of video) in %.1f s; sidecar %s",
        runway_task_id,
        video,
        size,
        seconds if seconds is not None else "?",
        time.monotonic() - started,
        sidecar_at,
    )
    _push(context, XCOM_VIDEO_KEY, record)
    emit_asset_events(op, context, record, meta)
    return record


def emit_asset_events(op: Any, context: Mapping[str, Any], record: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Put the video's metadata on the task's outlet events (an alias gets one asset per video)."""
    events = context.get("outlet_events") if isinstance(context, Mapping) else None
    outlets = list(getattr(op, "outlets", None) or [])
    if events is None or not outlets:
        return
    from airflow.sdk import Asset, AssetAlias

    extra = {**{k: v for k, v in meta.items() if k not in ("sources", "airflow")}, "outcome": record.get("outcome")}
    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            events[outlet].add(Asset(uri=as_url(str(record.get("video")))), extra=extra)
        elif isinstance(outlet, Asset):
            events[outlet].extra.update(extra)
