"""What a create task leaves behind for summaries and downstream tasks: outcomes in XCom, asset events.

Shared by the request side (``storage.prepare_request``: a refused input, an output already
stored) and the output side (``storage.store_output``, ``record_wait_failure``). Outcomes go to
XCom ``runway_output`` for every output kind, and to ``runway_video`` as well when the output is
(or would be) a video, the key the image-to-video operator has always used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from airflow_provider_runway.execution.wait_tracker import SUCCESS
from airflow_provider_runway.media.locations import as_url
from airflow_provider_runway.media.sidecars import CREATED, FAILED, IMAGE_TO_VIDEO, SKIPPED, VIDEO, outcome
from airflow_provider_runway.observability.metrics import count_failure
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.credits import final_credits

XCOM_REQUEST_KEY = "runway_request"
XCOM_VIDEO_KEY = "runway_video"
ITEM_OUTCOMES = "runway_item_outcomes"  # a batch picture's context: where its outcome goes instead of XCom
XCOM_OUTPUT_KEY = "runway_output"
XCOM_OUTPUTS_KEY = "runway_outputs"  # a batch task's outcomes, one per picture
STORE_FAILED = "STORE_FAILED"
INVALID_INPUT = "INVALID_INPUT"


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def task_instance(context: Mapping[str, Any]) -> Any:
    return context.get("ti") if isinstance(context, Mapping) else None


def push_xcom(context: Mapping[str, Any], key: str, value: Any) -> None:
    ti = task_instance(context)
    if ti is not None:
        ti.xcom_push(key=key, value=value)


def output_kind(endpoint: str | None) -> str | None:
    """What the endpoint makes (video, image, audio) per the catalog; None when it is not catalogued."""
    spec = load_catalog().task_endpoint(endpoint or IMAGE_TO_VIDEO)
    return spec.output if spec is not None else None


def push_outcome(context: Mapping[str, Any], record: Mapping[str, Any], kind: str | None) -> None:
    """The outcome under ``runway_output``, and under ``runway_video`` too when it is (or would be) a video.

    A batch task makes many outputs: it passes a list under ``ITEM_OUTCOMES`` in the context it
    gives each picture, and the outcome lands there instead (the batch pushes them all at once).
    """
    collected = context.get(ITEM_OUTCOMES) if isinstance(context, Mapping) else None
    if isinstance(collected, list):
        collected.append(dict(record))
        return
    push_xcom(context, XCOM_OUTPUT_KEY, dict(record))
    if kind in (VIDEO, None):
        push_xcom(context, XCOM_VIDEO_KEY, dict(record))


def map_index_of(context: Mapping[str, Any]) -> int | None:
    index = getattr(task_instance(context), "map_index", None)
    return index if isinstance(index, int) and index >= 0 else None


def lineage_of(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = task_instance(context)
    names = ("dag_id", "run_id", "task_id", "map_index")
    return {name: getattr(ti, name, None) for name in names} if ti is not None else {}


def record_failure(
    op: Any, context: Mapping[str, Any], code: str, message: str, *, endpoint: str | None, **fields: Any
) -> None:
    """A task that made nothing: counted by its code, and its outcome (code, message) for summaries when it
    stores outputs."""
    count_failure(code, endpoint=endpoint or getattr(op, "endpoint", None))
    if op.output_path:
        record = outcome(FAILED, failure_code=code, message=message, map_index=map_index_of(context), **fields)
        push_outcome(context, record, output_kind(endpoint))


def find_request(op: Any, context: Mapping[str, Any], runway_task_id: str | None) -> dict[str, Any]:
    """What the submitting operator remembered about this Runway task (this task or upstream)."""
    ti = task_instance(context)
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


def record_wait_failure(
    op: Any, context: Mapping[str, Any], event: Mapping[str, Any], request: Mapping[str, Any] | None = None
) -> None:
    """A wait that did not succeed: its failure counted and, with an output path, its outcome noted for summaries
    (with the prompt and model it was asked for)."""
    if event.get("status") == SUCCESS:
        return
    task = event.get("task") or {}
    runway_task_id = event.get("runway_task_id")
    if request is None:
        request = find_request(op, context, runway_task_id) if op.output_path else {}
    body = request.get("body") or {}
    sources = request.get("sources") or [{}]
    code = task.get("failureCode") or str(event.get("status") or "error").upper()
    message = str(event.get("message") or "")
    image = sources[0].get("location")
    credits = final_credits(request.get("credits"), task) if task else request.get("credits")
    record_failure(
        op,
        context,
        code,
        message,
        endpoint=request.get("endpoint"),
        image=image,
        runway_task_id=runway_task_id,
        credits=credits,
        model=body.get("model"),
        prompt_text=body.get("promptText"),
    )


def emit_asset_events(op: Any, context: Mapping[str, Any], record: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Put the output's metadata on the task's outlet events (an alias gets one asset per output)."""
    events = context.get("outlet_events") if isinstance(context, Mapping) else None
    outlets = list(getattr(op, "outlets", None) or [])
    if events is None or not outlets:
        return
    from airflow.sdk import Asset, AssetAlias

    extra = {**{k: v for k, v in meta.items() if k not in ("sources", "airflow")}, "outcome": record.get("outcome")}
    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            events[outlet].add(Asset(uri=as_url(str(record.get("output") or record.get("video")))), extra=extra)
        elif isinstance(outlet, Asset):
            events[outlet].extra.update(extra)


def emit_batch_asset_events(op: Any, context: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> None:
    """A batch's outputs on its outlets: one asset per stored output through an alias; an asset
    outlet gets one event whose extra lists them (Airflow records one event per asset per task)."""
    events = context.get("outlet_events") if isinstance(context, Mapping) else None
    outlets = list(getattr(op, "outlets", None) or [])
    stored = [r for r in records if r.get("output") and r.get("outcome") in (CREATED, SKIPPED)]
    if events is None or not outlets or not stored:
        return
    from airflow.sdk import Asset, AssetAlias

    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            for record in stored:
                events[outlet].add(Asset(uri=as_url(str(record["output"]))), extra=dict(record))
        elif isinstance(outlet, Asset):
            events[outlet].extra.update({"outputs": [dict(r) for r in stored], "count": len(stored)})
