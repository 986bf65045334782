"""Turn a folder (or bucket prefix) of pictures, or a manifest, into stored videos, never paying twice.

plan (list the pictures, in chunks) >> videos (one batch task per chunk) >> summary

* Inputs: ``images`` is a folder, bucket prefix or glob (``s3://pictures/in/``,
  ``gs://b/in/**/*.jpg``, ``dags/assets/``); or ``manifest`` is a CSV / JSON-lines file with an
  ``image`` column and optional ``prompt_text``, ``seed``, ``ratio``, ``duration``, ``model``,
  ``watermark`` (empty cells take the defaults below). ``image_conn_id`` reads them. Listing
  reads names only.
* Any number of pictures: ``plan`` splits them into chunks of ``chunk_size`` (100 by default),
  and each chunk is one ``RunwayBatchOperator`` task, so 10,000 pictures are 100 task instances,
  far under ``[core] max_map_length``. Each task reads its pictures, keeps up to
  ``concurrency`` Runway tasks running, waits for them in one trigger, stores every video plus a
  JSON sidecar under ``output_path`` (``output_conn_id``), named by content: a re-run finds the
  videos already there and pays nothing.
* Concurrency: ``concurrency`` is the number of Runway tasks one chunk keeps running; up to
  ``RUNWAY_PARALLEL_CHUNKS`` chunks (2 by default) run at once, so set ``concurrency`` to your
  account's concurrency divided by that. No pool is needed on Airflow 3.3; on 3.1, which does
  not count deferred chunks there, ``RUNWAY_POOL`` names a pool made with ``--include-deferred``.
* Credits: ``plan`` logs what the batch may cost (an upper bound: stored pictures cost nothing).
  With ``budget_credits`` each chunk keeps a running total of its creates' estimates (the API's
  own ``estimatedCost``) against its share of the budget and stops creating before passing it;
  the pictures left are reported as not started, never paid.
* ``summary`` writes ``runway-batch-summary.json`` and ``.md`` beside the videos: counts by
  outcome and failure code, seconds of video made, where each video is, and the credits each
  picture was charged (the API's own ``cost``; an estimate where the API gives none, labelled).
  It fails, after writing, when any picture failed, so the run shows it.
* Stored videos emit an event on the asset ``runway_batch_videos`` (one per chunk, listing its
  videos) and, through the alias ``runway_batch_video_files``, one asset per video.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetAlias, Param, task

from airflow_provider_runway.operators.batch import RunwayBatchOperator

BUNDLED_PICTURES = str(Path(__file__).parent / "assets") + "/"
RUNWAY_VIDEOS = Asset("runway_batch_videos")
RUNWAY_VIDEO_FILES = AssetAlias("runway_batch_video_files")
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
        "chunk_size": Param(100, type="integer", minimum=1, description="pictures per batch task"),
        "concurrency": Param(2, type="integer", minimum=1, description="Runway tasks one chunk keeps running"),
        "budget_credits": Param(None, type=["null", "number"], description="stop creating before passing this"),
    },
) as dag:

    @task
    def plan(params: dict[str, Any] | None = None, ti: Any = None) -> list[dict[str, Any]]:
        """List the pictures (names only), give each its parameters, split them into chunks."""
        from airflow_provider_runway.batch.budget import batch_credits, budget_shares, describe_credits
        from airflow_provider_runway.batch.planning import ITEM_DEFAULTS, chunk_items, plan_items
        from airflow_provider_runway.hooks.runway import RunwayHook
        from airflow_provider_runway.runway.flavors import default_model, default_ratio

        p = params or {}
        hook = RunwayHook()
        model = p.get("model") or default_model(hook.flavor)
        defaults = {name: p.get(name) for name in ITEM_DEFAULTS}
        defaults.update(model=model, ratio=p.get("ratio") or default_ratio(hook.flavor, model))
        items = plan_items(
            images=p.get("images") or None,
            manifest=p.get("manifest") or None,
            image_conn_id=p.get("image_conn_id") or None,
            defaults=defaults,
            shared={},
        )
        chunks = chunk_items(items, int(p.get("chunk_size") or 100))
        print(f"{len(items)} picture(s) in {len(chunks)} chunk(s) to turn into videos under {p['output_path']}")
        credits = batch_credits(items, hook)
        print(describe_credits(credits))
        ti.xcom_push(key=CREDITS_KEY, value={k: v for k, v in credits.items() if k != "item_credits"})
        estimates = credits["item_credits"]
        sizes = [len(chunk) for chunk in chunks]
        per_chunk = [estimates[sum(sizes[:i]) : sum(sizes[: i + 1])] for i in range(len(chunks))]
        shares = budget_shares(per_chunk, p.get("budget_credits"))
        return [{"items": chunk, "budget_credits": share} for chunk, share in zip(chunks, shares, strict=True)]

    chunks = plan()

    videos = RunwayBatchOperator.partial(
        task_id="videos",
        output_path="{{ params.output_path }}",
        input_conn_id="{{ params.image_conn_id }}",
        output_conn_id="{{ params.output_conn_id }}",
        max_in_flight="{{ params.concurrency }}",
        # One trigger per chunk waits for all of its Runway tasks; "false" waits in the worker instead
        # (one worker slot per running chunk, a slot refilled as soon as a task ends).
        deferrable=os.environ.get("RUNWAY_BATCH_DEFERRABLE", "true").lower() != "false",
        poll_interval=float(os.environ.get("RUNWAY_POLL_INTERVAL", "5")),
        timeout=60 * 60,
        # Seconds a trigger holds its event after a deferral (an Airflow scheduler race; 0 is fine
        # without a scheduler, as in `airflow dags test`): docs/troubleshooting.md.
        resume_settle=float(os.environ.get("RUNWAY_RESUME_SETTLE_SECONDS", "15")),
        max_active_tis_per_dagrun=int(os.environ.get("RUNWAY_PARALLEL_CHUNKS", "2")),
        # Airflow 3.1 does not count deferred chunks against the line above: a pool created with
        # --include-deferred bounds them there (docs/troubleshooting.md).
        pool=os.environ.get("RUNWAY_POOL") or "default_pool",
        # A retry never pays twice (each chunk's ledger): it reconnects to what is running or made.
        retries=int(os.environ.get("RUNWAY_BATCH_RETRIES", "2")),
        retry_delay=10,
        outlets=[RUNWAY_VIDEOS, RUNWAY_VIDEO_FILES],
        map_index_template="{{ task.items[0]['prompt_image'].rsplit('/', 1)[-1][:50] }} +{{ task.items | length - 1 }}",
    ).expand_kwargs(chunks)

    @task(trigger_rule="all_done")
    def summary(params: dict[str, Any] | None = None, ti: Any = None) -> dict[str, Any]:
        """What was made, skipped and failed; written as JSON and Markdown beside the videos."""
        from airflow_provider_runway.batch.budget import summary_credits
        from airflow_provider_runway.batch.summary import summarize, summary_markdown, write_summary

        chunks = ti.xcom_pull(task_ids="plan") or []
        items = [item for chunk in chunks for item in chunk["items"]]
        # One list of outcomes per chunk (one XCom per batch task, not one per picture).
        pushed = ti.xcom_pull(task_ids="videos", key="runway_outputs", map_indexes=list(range(len(chunks))))
        records = [record for chunk in pushed or [] if isinstance(chunk, list) for record in chunk]
        result = summarize(items, records)
        result["credits"] = summary_credits(result["rows"])
        p = params or {}
        json_at, md_at = write_summary(result, str(p["output_path"]), p.get("output_conn_id") or None)
        print(summary_markdown(result))
        print(f"Summary written to {json_at} and {md_at}")
        failed = result["outcomes"]["failed"]
        if failed:  # the run shows it: a summary that succeeds would hide failed pictures
            raise RuntimeError(f"{failed} picture(s) failed ({result['failure_codes']}); see {md_at}")
        return result

    videos >> summary()


if __name__ == "__main__":
    dag.test()
