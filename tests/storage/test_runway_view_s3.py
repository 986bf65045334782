"""The Runway view with outputs in object storage: the page reads the sidecar from S3, and a video is
handed to the browser as a presigned URL of the storage (which answers byte ranges itself).

Real parts: ``dag.test()`` against the emulator writes the video to moto's S3 on loopback through an
``aws`` connection; Airflow's API server app serves the view; the presigned URL is fetched as a
browser would, with a ``Range``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_runway.ui.routes import output_href, task_page_href
from tests.storage.images import CAT_PNG
from tests.ui.view_app import VIEWER, client_as, serving_app

if TYPE_CHECKING:
    from tests.storage.s3 import S3Server

pytestmark = pytest.mark.integration

DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

with DAG("runway_view_s3", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator(
        task_id="make", prompt_image="{image}", image_conn_id="{conn}", prompt_text="waves on a cold beach",
        wait_for_completion=True, deferrable=True, poll_interval=0.3, output_path="{output}", output_conn_id="{conn}",
    )
"""


@pytest.fixture
def api_server_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from serving_app(monkeypatch)


def test_a_video_in_s3_plays_from_a_presigned_url_with_ranges(
    s3_server: S3Server,
    runway_emulator: Any,
    runway_connection: Any,
    run_dag_source: Any,
    monkeypatch: pytest.MonkeyPatch,
    api_server_app: Any,
) -> None:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    bucket_in, bucket_out = s3_server.bucket("in"), s3_server.bucket("out")
    image = s3_server.put(bucket_in, "cat.png", CAT_PNG)
    source = DAG.format(image=image, conn=s3_server.conn_id, output=f"s3://{bucket_out}/videos/")
    ran = run_dag_source("runway_view_s3", source)
    assert ran.state == "success", ran.output[-4000:]
    [key] = [k for k in s3_server.keys(bucket_out) if k.endswith(".mp4")]
    video = s3_server.get(bucket_out, key)

    client = client_as(api_server_app, VIEWER)
    run_id = ran.dag_run.run_id
    page = client.get(task_page_href("/runway", "runway_view_s3", run_id, "make", -1))
    assert page.status_code == 200, page.text[:2000]
    assert "waves on a cold beach" in page.text and f"s3://{bucket_out}/{key}" in page.text

    answer = client.get(output_href("/runway", "runway_view_s3", run_id, "make", -1), follow_redirects=False)
    assert answer.status_code == 307
    signed = answer.headers["location"]
    assert urlsplit(signed).netloc == urlsplit(s3_server.endpoint).netloc and "Signature" in signed
    part = requests.get(signed, headers={"Range": "bytes=0-1023"}, timeout=30)  # what the <video> asks first
    assert part.status_code == 206 and part.content == video[:1024]
    assert part.headers["Content-Range"] == f"bytes 0-1023/{len(video)}"
