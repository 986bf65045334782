"""After SUCCEEDED: every output downloaded, published whole with one sidecar, its outcome and asset event recorded."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

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
    indexed_location,
    output_entry,
    output_location,
    output_suffix,
    sidecar,
    sidecar_location,
    stored_outcome,
)


@dataclass(frozen=True)
class StoredFile:
    """One output as published: where, how big, its checksum, its sniffed type and kind, its duration."""

    location: str
    size: int
    sha256: str
    content_type: str | None
    kind: str
    seconds: float | None


def store_file(
    hook: Any,
    url: str,
    place: Callable[[str], str],
    *,
    runway_task_id: str,
    index: int,
    endpoint: str | None,
    staging_dir: str | None,
    conn_id: str | None,
) -> StoredFile:
    """Download output ``index`` to a staging file, sniff, hash, then publish it whole at ``place(suffix)``.

    The suffix comes from the downloaded bytes, so it is known only once they are here. Staging
    sits beside the target when it is local (an atomic rename), in the system's temp otherwise.
    """
    with tempfile.TemporaryDirectory(dir=storage_path(staging_dir) if staging_dir else None) as tmp:
        staging = Path(tmp) / ".output.partial"
        # an expired URL is renewed from the task, this output's own index
        size = hook.download_output(url, str(staging), runway_task_id=runway_task_id, output_index=index)
        content_type = sniff_content_type(staging)
        kind = output_kind(endpoint) or (content_type or VIDEO).partition("/")[0]
        target = place(output_suffix(kind, content_type))
        sha256, seconds = digest(staging)
        publish(staging, target, conn_id)
    return StoredFile(target, size, sha256, content_type, kind, seconds)


def store_output(
    op: Any, context: Mapping[str, Any], task: Mapping[str, Any], request: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """After SUCCEEDED: stream every output to ``op.output_path``, write one sidecar, emit the asset event.

    The first output keeps the name ``output_location`` gives; output i >= 1 goes beside it as
    ``<stem>-<i><suffix>``. Each stored file's suffix follows what was downloaded (its bytes'
    type; the endpoint's output kind when they say nothing). If storing any of them fails, the
    paid result is not lost: the Runway task id and output URL are logged, no sidecar is written,
    a retry reconnects to the task and stores them all again, and the error says so.
    """
    if not op.output_path:
        return None
    from airflow_provider_runway.hooks.runway import RunwayHook

    runway_task_id = str(task.get("id"))
    urls = [str(url) for url in task.get("output") or []]
    request = dict(request) if request is not None else find_request(op, context, runway_task_id)
    endpoint = request.get("endpoint") or getattr(op, "endpoint", None)
    kind = output_kind(endpoint) or VIDEO
    output = check_output_path(op.output_path)
    first_place = partial(output_location, output, request.get("idempotency_key"), runway_task_id)
    target = first_place(output_suffix(kind, None))  # what logs name until the first file's type is known
    finished_at = now_utc()
    staging_dir = parent(target) if is_local(target) else None
    started = time.monotonic()
    stored: list[StoredFile] = []
    try:
        if not urls:
            raise ValueError("the task succeeded without an output URL")
        if staging_dir is not None:
            Path(storage_path(staging_dir)).mkdir(parents=True, exist_ok=True)
        fetch = partial(
            store_file,
            RunwayHook(op.runway_conn_id),
            runway_task_id=runway_task_id,
            endpoint=endpoint,
            staging_dir=staging_dir,
            conn_id=op.output_conn_id,
        )
        stored.append(fetch(urls[0], first_place, index=0))
        kind, target = stored[0].kind, stored[0].location
        for index, url in enumerate(urls[1:], start=1):
            stored.append(fetch(url, partial(indexed_location, target, index, len(urls)), index=index))
        meta = _sidecar_of(stored, request, task, finished_at, context)
        sidecar_at = sidecar_location(target)
        write_json(sidecar_at, op.output_conn_id, meta)  # last: a sidecar only ever names whole files
    except Exception as err:
        _store_failed(
            op,
            context,
            err,
            request,
            endpoint=endpoint,
            runway_task_id=runway_task_id,
            kind=kind,
            target=target,
            urls=urls,
            done=len(stored),
        )
    record = stored_outcome(CREATED, meta, sidecar_at, map_index_of(context))
    first = stored[0]
    op.log.info(
        "Stored the %s of Runway task %s at %s (%d bytes%s%s) in %.1f s; sidecar %s",
        kind,
        runway_task_id,
        target,
        first.size,
        f", {first.seconds} s of video" if first.seconds is not None else "",
        f"; {len(stored) - 1} more output(s) beside it" if len(stored) > 1 else "",
        time.monotonic() - started,
        sidecar_at,
    )
    push_outcome(context, record, kind)
    emit_asset_events(op, context, record, meta)
    return record


def _sidecar_of(
    stored: list[StoredFile],
    request: Mapping[str, Any],
    task: Mapping[str, Any],
    finished_at: str,
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """The sidecar: its file fields are the first output's, ``outputs`` lists every stored file."""
    first = stored[0]
    return sidecar(
        request=request,
        task=task,
        video=first.location,
        size=first.size,
        kind=first.kind,
        content_type=first.content_type,
        sha256=first.sha256,
        seconds=first.seconds,
        finished_at=finished_at,
        lineage=lineage_of(context),
        outputs=[output_entry(f.location, f.size, f.sha256, f.content_type) for f in stored],
    )


def _store_failed(
    op: Any,
    context: Mapping[str, Any],
    err: Exception,
    request: Mapping[str, Any],
    *,
    endpoint: str | None,
    runway_task_id: str,
    kind: str,
    target: str,
    urls: list[str],
    done: int,
) -> NoReturn:
    """Log where the paid output still is, record STORE_FAILED and raise: a retry stores it again."""
    from airflow_provider_runway._compat import AirflowException

    failed = min(done, len(urls) - 1)  # the output being stored (all stored: the sidecar failed)
    which = f" (output #{failed} of {len(urls)})" if len(urls) > 1 else ""
    op.log.error(
        "Runway task %s SUCCEEDED (paid) but storing its %s at %s%s failed: %s: %s. The output is still at "
        "%s (valid 24-48 h; polling the task gives a fresh URL). Clear or retry this task to store it.",
        runway_task_id,
        kind,
        target,
        which,
        type(err).__name__,
        err,
        urls[failed] if urls else "(no URL)",
    )
    image = (request.get("sources") or [{}])[0].get("location")
    message = f"{type(err).__name__}: {err}"
    record_failure(op, context, STORE_FAILED, message, endpoint=endpoint, image=image, runway_task_id=runway_task_id)
    raise AirflowException(
        f"Storing the {kind} of Runway task {runway_task_id} at {target}{which} failed: {err}"
    ) from err
