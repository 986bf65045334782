"""After SUCCEEDED: the output downloaded, published whole with its sidecar, its outcome and asset event recorded."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_runway.execution.outcomes import (
    STORE_FAILED,
    emit_asset_events,
    find_request,
    lineage_of,
    map_index_of,
    now_utc,
    output_kind,
    push_outcome,
    record_failure,
)
from airflow_provider_runway.media.locations import is_local, parent, storage_path
from airflow_provider_runway.media.outputs import digest, publish, sniff_content_type, write_json
from airflow_provider_runway.media.sidecars import (
    CREATED,
    VIDEO,
    check_output_path,
    output_location,
    output_suffix,
    sidecar,
    sidecar_location,
    stored_outcome,
)


def store_output(
    op: Any, context: Mapping[str, Any], task: Mapping[str, Any], request: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
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
    request = dict(request) if request is not None else find_request(op, context, runway_task_id)
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
            content_type = sniff_content_type(staging)
            kind = output_kind(endpoint) or (content_type or VIDEO).partition("/")[0]
            target = output_location(output, key, runway_task_id, output_suffix(kind, content_type))
            sha256, seconds = digest(staging)
            publish(staging, target, op.output_conn_id)
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
        write_json(sidecar_at, op.output_conn_id, meta)
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
