"""Turn a folder (or bucket prefix) of pictures, or a manifest, into stored videos, never paying twice.

plan (list the images) >> video (mapped: submit, wait, store; one per image) >> summary

* Inputs: ``images`` is a folder, bucket prefix or glob (``s3://pictures/in/``,
  ``gs://b/in/**/*.jpg``, ``dags/assets/``); or ``manifest`` is a CSV / JSON-lines file with an
  ``image`` column and optional ``prompt_text``, ``seed``, ``ratio``, ``duration``, ``model``,
  ``watermark`` (empty cells take the defaults below). ``image_conn_id`` reads them.
* Each image becomes one mapped task that reads it, creates the Runway task, waits in the
  triggerer and stores the video plus a JSON sidecar under ``output_path`` (``output_conn_id``),
  named by content: a re-run finds the video already there and skips the paid create.
* Paid concurrency: every ``video`` task runs in the Airflow pool ``runway`` (override with
  ``RUNWAY_POOL``). Size it to your account's concurrency and count deferred tasks, since the
  wait happens while deferred: ``airflow pools set runway 2 "Runway concurrency" --include-deferred``.
  Without the pool the scheduler does not start these tasks (``dag.test()`` ignores pools).
* Credits: ``plan`` estimates the whole batch from the catalog's prices before the first paid
  call. Over ``budget_credits`` (when set), or with flavor ``runway`` over the organization's
  ``creditBalance``, the run fails there, naming the estimate, the cap and the biggest items.
* ``summary`` writes ``runway-batch-summary.json`` and ``.md`` beside the videos: counts by
  outcome and failure code, seconds of video made, where each video is, and the credits each
  item was charged (the API's own ``cost``; the catalog's estimate where the API gives none,
  labelled as such).
* Each stored video emits an event on the asset ``runway_batch_videos`` with its sidecar's
  metadata in ``extra``, so downstream DAGs can be scheduled on new videos.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

BUNDLED_PICTURES = str(Path(__file__).parent / "assets") + "/"
RUNWAY_VIDEOS = Asset("runway_batch_videos")
CREDITS_KEY = "runway_credits"

with DAG(
    dag_id="runway_batch_videos",
    description="Pictures in a folder, bucket or manifest -> stored videos with sidecars, idempotent",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["runway", "example", "batch"],
    params={
        "images": Param(os.environ.get("RUNWAY_BATCH_IMAGES", BUNDLED_PICTURES), type="string"),
        "manifest": Param("", type="string", description="CSV or JSON-lines file; used instead of images"),
        "image_conn_id": Param("", type="string", description="connection for reading images (e.g. aws)"),
        "output_path": Param(os.environ.get("RUNWAY_OUTPUT_DIR", "/tmp/runway-videos") + "/", type="string"),
        "output_conn_id": Param("", type="string", description="connection for writing videos"),
        "prompt_text": Param("A slow cinematic camera push-in, gentle natural motion", type="string"),
        "model": Param("", type="string", description="empty: the connection flavor's default model"),
        "ratio": Param("", type="string", description="empty: a ratio the model takes (its API default)"),
        "duration": Param(5, type="integer"),
        "seed": Param(None, type=["null", "integer"]),
        "budget_credits": Param(None, type=["null", "number"], description="refuse a batch estimated above this"),
    },
) as dag:

    @task
    def plan(params: dict[str, Any] | None = None, ti: Any = None) -> list[dict[str, Any]]:
        """List the pictures (names only), give each its operator parameters, check the credits."""
        from airflow_provider_runway.batch.budget import check_batch_credits, describe_credits
        from airflow_provider_runway.batch.planning import ITEM_DEFAULTS, plan_items
        from airflow_provider_runway.hooks.runway import RunwayHook
        from airflow_provider_runway.runway.flavors import default_model, default_ratio

        p = params or {}
        hook = RunwayHook()
        model = p.get("model") or default_model(hook.flavor)
        defaults = {name: p.get(name) for name in ITEM_DEFAULTS}
        defaults.update(model=model, ratio=p.get("ratio") or default_ratio(hook.flavor, model))
        shared = {
            "output_path": str(p["output_path"]).rstrip("/") + "/",
            "image_conn_id": p.get("image_conn_id") or None,
            "output_conn_id": p.get("output_conn_id") or None,
        }
        items = plan_items(
            images=p.get("images") or None,
            manifest=p.get("manifest") or None,
            image_conn_id=shared["image_conn_id"],
            defaults=defaults,
            shared=shared,
        )
        print(f"{len(items)} picture(s) to turn into videos under {shared['output_path']}")
        credits = check_batch_credits(items, p.get("budget_credits"), hook)
        print(describe_credits(credits))
        ti.xcom_push(key=CREDITS_KEY, value=credits)
        return items

    items = plan()

    video = RunwayImageToVideoOperator.partial(
        task_id="video",
        wait_for_completion=True,
        deferrable=True,  # the wait runs in the triggerer; the pool still counts it (include_deferred)
        idempotent=True,
        poll_interval=float(os.environ.get("RUNWAY_POLL_INTERVAL", "5")),
        timeout=60 * 60,
        pool=os.environ.get("RUNWAY_POOL", "runway"),
        outlets=[RUNWAY_VIDEOS],
        map_index_template="{{ task.prompt_image.rsplit('/', 1)[-1][:80] }}",
    ).expand_kwargs(items)

    @task(trigger_rule="all_done")
    def summary(items: list[dict[str, Any]], params: dict[str, Any] | None = None, ti: Any = None) -> dict[str, Any]:
        """What was made, skipped and failed; written as JSON and Markdown beside the videos."""
        from airflow_provider_runway.batch.budget import summary_credits
        from airflow_provider_runway.batch.summary import summarize, summary_markdown, write_summary

        records = ti.xcom_pull(task_ids="video", key="runway_video") if ti is not None else []
        result = summarize(items, records if isinstance(records, list) else [records])
        credits = ti.xcom_pull(task_ids="plan", key=CREDITS_KEY) or {}
        result["credits"] = summary_credits(result["rows"], credits.get("item_credits") or [])
        p = params or {}
        json_at, md_at = write_summary(result, str(p["output_path"]), p.get("output_conn_id") or None)
        print(summary_markdown(result))
        print(f"Summary written to {json_at} and {md_at}")
        return result

    video >> summary(items)


if __name__ == "__main__":
    dag.test()
