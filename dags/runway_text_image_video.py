"""Text to image to video to upscale: each step's stored output is the next step's input.

settings >> image (text_to_image) >> video (image_to_video) >> upscale (video_upscale) >> report

* Each step stores its output with ``output_path`` in this run's folder under ``output_path``
  (``1-image/``, ``2-video/``, ``3-upscaled/``) and the next step reads that stored file
  (sent inline, or uploaded with flavor ``runway`` when large). Storing is what makes the chain
  work: Runway's output URLs expire within 24-48 h, and a URL Runway cannot fetch (a private
  one, or the local emulator's ``http://127.0.0.1``) is refused as an input.
* Both flavors offer the three endpoints (``docs/models.md``); the connection (``runway_conn_id``)
  decides which one runs. Empty parameters take the flavor's defaults: the default model of
  each endpoint, and a video ratio that model accepts (``1280:768`` for CometAPI's gen3a_turbo,
  ``1280:720`` for Runway's gen4_turbo).
* CometAPI's text_to_image needs at least one reference image: ``reference_image`` defaults to
  the bundled picture; with flavor ``runway`` an empty value sends none.
* ``max_credits`` caps each step's estimated cost (the upscale's price follows the input
  video's length and cannot be estimated, so a cap refuses it; leave it empty to run it).
* Each step is idempotent: clearing a step re-uses what it already stored, paying nothing.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_runway.operators.generate import RunwayTextToImageOperator, RunwayVideoUpscaleOperator
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

BUNDLED_PICTURE = str(Path(__file__).parent / "assets" / "demo_cat.png")
SETTINGS = "{{ ti.xcom_pull(task_ids='settings')['%s'] }}"
READ_WITH = "{{ params.output_conn_id or '' }}"  # each step reads what the previous one wrote
STORED = "{{ ti.xcom_pull(task_ids='%s', key='runway_output')['output'] }}"

with DAG(
    dag_id="runway_text_image_video",
    description="Runway text -> image -> video -> upscale, each stored output feeding the next step",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["runway", "example", "chain"],
    render_template_as_native_obj=True,  # an empty setting renders as None (not "None"): the flavor's default
    params={
        "runway_conn_id": Param("runway_default", type="string", description="its flavor decides the defaults"),
        "prompt_text": Param("A red fox sitting in a snowy birch forest at dawn, photographic", type="string"),
        "reference_image": Param(BUNDLED_PICTURE, type="string", description="image for text_to_image (CometAPI)"),
        "image_ratio": Param("1920:1080", type="string"),
        "video_prompt": Param("The camera slowly pushes in; snow falls gently", type="string"),
        "video_model": Param("", type="string", description="empty: the flavor's default"),
        "video_ratio": Param("", type="string", description="empty: one the flavor's default model takes"),
        "duration": Param(5, type="integer"),
        "output_path": Param(os.environ.get("RUNWAY_OUTPUT_DIR", "/tmp/runway-chain") + "/", type="string"),
        "output_conn_id": Param("", type="string", description="connection for writing outputs"),
        "max_credits": Param(None, type=["null", "number"], description="refuse a step estimated above this"),
    },
) as dag:

    @task
    def settings(params: dict[str, Any] | None = None, run_id: str | None = None) -> dict[str, Any]:
        """The run's folder and the flavor's defaults for empty parameters (no paid call)."""
        import re

        from airflow_provider_runway.hooks.runway import RunwayHook
        from airflow_provider_runway.runway.flavors import default_ratio

        p = params or {}
        flavor = RunwayHook(p["runway_conn_id"]).flavor
        folder = f"{str(p['output_path']).rstrip('/')}/{re.sub(r'[^A-Za-z0-9._-]+', '_', str(run_id))}/"
        chosen = {
            "flavor": flavor,
            "folder": folder,
            "video_model": p.get("video_model") or None,
            "video_ratio": p.get("video_ratio") or default_ratio(flavor, p.get("video_model") or None),
            "reference_image": p.get("reference_image") or None,
        }
        print(f"Flavor {flavor}; outputs under {folder}")
        return chosen

    common: dict[str, Any] = {
        "runway_conn_id": "{{ params.runway_conn_id }}",
        "output_conn_id": "{{ params.output_conn_id or '' }}",
        "max_credits": "{{ params.max_credits }}",
        "wait_for_completion": True,
        "deferrable": True,
        "idempotent": True,
        "poll_interval": float(os.environ.get("RUNWAY_POLL_INTERVAL", "5")),
        "timeout": 60 * 60,
    }

    image = RunwayTextToImageOperator(
        task_id="image",
        prompt_text="{{ params.prompt_text }}",
        ratio="{{ params.image_ratio }}",
        reference_images=SETTINGS % "reference_image",
        output_path=SETTINGS % "folder" + "1-image/",
        **common,
    )
    video = RunwayImageToVideoOperator(
        task_id="video",
        prompt_image=STORED % "image",
        prompt_text="{{ params.video_prompt }}",
        model=SETTINGS % "video_model",
        ratio=SETTINGS % "video_ratio",
        duration="{{ params.duration }}",
        output_path=SETTINGS % "folder" + "2-video/",
        image_conn_id=READ_WITH,
        **common,
    )
    upscale = RunwayVideoUpscaleOperator(
        task_id="upscale",
        video_uri=STORED % "video",
        output_path=SETTINGS % "folder" + "3-upscaled/",
        input_conn_id=READ_WITH,
        **common,
    )

    @task
    def report(ti: Any = None) -> dict[str, Any]:
        """Where each step's output is stored."""
        outputs = {step: ti.xcom_pull(task_ids=step, key="runway_output") for step in ("image", "video", "upscale")}
        for step, record in outputs.items():
            print(
                f"{step}: {record.get('output')} ({record.get('outcome')}, Runway task {record.get('runway_task_id')})"
            )
        return outputs

    settings() >> image >> video >> upscale >> report()


if __name__ == "__main__":
    dag.test()
