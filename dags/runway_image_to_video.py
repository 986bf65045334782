"""One picture in, one stored video out: the simplest Runway DAG.

One task creates the image-to-video task (a paid call), waits for it in the triggerer
(deferrable: no worker slot is held) and stores the video with a JSON sidecar in
``output_dir`` (a local folder, or ``s3://...``/``gs://...`` with ``output_conn_id``). No model
is named, so the connection's flavor picks its default (CometAPI: ``gen3a_turbo``; Runway:
``gen4_turbo``) and a ratio that model takes: the DAG runs unchanged on both flavors, and on
the local emulator (``runway-emulator``) without spending credits. ``idempotent=True`` names the
video by its request: a re-run finds it stored and pays nothing.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

CAT_IMAGE = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"

with DAG(
    dag_id="runway_image_to_video",
    description="Runway image-to-video: one picture, one stored video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["runway", "example"],
    params={
        "prompt_image": Param(CAT_IMAGE, type="string", description="https URL, data: URI or a stored image"),
        "prompt_text": Param("The cat slowly yawns and blinks at the camera", type="string"),
        "output_dir": Param(os.environ.get("RUNWAY_OUTPUT_DIR", "/tmp/runway-videos"), type="string"),
    },
) as dag:
    RunwayImageToVideoOperator(
        task_id="make_video",
        prompt_image="{{ params.prompt_image }}",
        prompt_text="{{ params.prompt_text }}",
        duration=5,
        wait_for_completion=True,
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poll_interval=float(os.environ.get("RUNWAY_POLL_INTERVAL", "10")),
        output_path="{{ params.output_dir }}/",
        idempotent=True,
    )


if __name__ == "__main__":
    dag.test()
