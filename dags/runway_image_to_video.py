"""Turn the seed's cat picture into a video with Runway's gen3a_turbo, then keep the video.

submit (paid create, id to XCom) >> wait (deferrable sensor) >> store (download before the
signed output URL expires). Point ``runway_default`` at CometAPI, Runway, or the local
emulator (``runway-emulator``) to try it without spending credits.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

CAT_IMAGE = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"

with DAG(
    dag_id="runway_image_to_video",
    description="Runway image-to-video: submit, wait, store the video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["runway", "example"],
    params={
        "prompt_image": Param(CAT_IMAGE, type="string", description="https URL or data:image/... URI"),
        "prompt_text": Param("The cat slowly yawns and blinks at the camera", type="string"),
        "output_dir": Param(os.environ.get("RUNWAY_OUTPUT_DIR", "/tmp/runway-videos"), type="string"),
    },
) as dag:
    submit = RunwayImageToVideoOperator(
        task_id="submit",
        prompt_image="{{ params.prompt_image }}",
        prompt_text="{{ params.prompt_text }}",
        model="gen3a_turbo",
        duration=5,
    )

    wait = RunwayTaskSensor(
        task_id="wait",
        runway_task_id=submit.output,
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poll_interval=float(os.environ.get("RUNWAY_POLL_INTERVAL", "5")),
        timeout=30 * 60,
    )

    @task
    def store(runway_task: dict[str, Any], params: dict[str, Any] | None = None) -> str:
        """Download the video (its URL expires within 24-48 h) and return where it is."""
        from airflow_provider_runway.hooks.runway import RunwayHook

        url = runway_task["output"][0]
        print(f"Runway video URL: {url}")
        target = os.path.join((params or {})["output_dir"], f"{runway_task['id']}.mp4")
        size = RunwayHook().download_output(url, target)
        print(f"Stored {size} bytes at {target}")
        return target

    store(wait.output)


if __name__ == "__main__":
    dag.test()
