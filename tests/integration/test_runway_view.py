"""The Runway view inside Airflow's real API server app (``create_app``), after real DAG runs.

A DAG runs with ``dag.test()`` against the emulator; then the whole API server app, with the
plugin mounted from its entry point, answers as it would a browser: no token 401, a user kept
out of the DAG 403, a viewer the page with its totals, a failure's code and meaning, and the
video with byte ranges. A mapped task (one made, one refused by Runway's moderation) in
``make check``; the batch DAG (its chunk: one made, one refused by Runway, one refused before any
call) in ``make test``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_runway.ui.routes import URL_PREFIX
from tests.ui.batch_inputs import BATCH_DAG, BATCH_DAG_ID, MADE_PROMPT, SAFETY_PROMPT, batch_conf
from tests.ui.view_app import OUTSIDER, VIEWER, client_as, serving_app

pytestmark = pytest.mark.integration


MAPPED_DAG_ID = "runway_view_mapped"
MAPPED_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

with DAG("runway_view_mapped", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator.partial(
        task_id="make", wait_for_completion=True, deferrable=True, poll_interval=0.3, output_path="{out}/",
    ).expand_kwargs([
        {{"prompt_image": "{pictures}/cat.png", "prompt_text": "{made}"}},
        {{"prompt_image": "{pictures}/fractal.jpg", "prompt_text": "{refused}"}},
    ])
"""


@pytest.fixture
def api_server_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from serving_app(monkeypatch, MAPPED_DAG_ID)


def media_src(html: str) -> str:
    [src] = re.findall(r'<video controls preload="metadata" playsinline src="([^"]+)"', html)
    return src.replace("&amp;", "&")


def test_a_mapped_task_is_shown_to_those_who_may_see_it_and_its_video_is_served_in_ranges(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path, api_server_app: Any
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    conf = batch_conf(tmp_path)  # its pictures
    pictures = Path(conf["manifest"]).parent
    source = MAPPED_DAG.format(out=tmp_path / "out", pictures=pictures, made=MADE_PROMPT, refused=SAFETY_PROMPT)
    run_id = run_dag_source(MAPPED_DAG_ID, source).dag_run.run_id
    run_page = f"{URL_PREFIX}/dags/{MAPPED_DAG_ID}/runs/{run_id}"
    second = f"{run_page}/tasks/make?map_index=1"
    viewer, outsider = client_as(api_server_app, VIEWER), client_as(api_server_app, OUTSIDER)

    for page in (run_page, second):
        assert client_as(api_server_app, None).get(page).status_code == 401
        assert outsider.get(page).status_code == 403  # reads other DAGs, not this one
    html = viewer.get(run_page).text
    assert 'data-total="made"><b>1</b>' in html and 'data-total="failed"><b>1</b>' in html
    picture = viewer.get(second).text  # a mapped task instance: its own picture
    assert 'data-failure-code="SAFETY.INPUT.TEXT"' in picture and MADE_PROMPT not in picture

    src = media_src(html)
    assert client_as(api_server_app, None).get(src).status_code == 401
    assert outsider.get(src).status_code == 403  # the video itself is guarded too
    whole = viewer.get(src)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes" and whole.content[4:8] == b"ftyp"
    # What a browser's <video> sends: identity only. Then no compression on either Starlette.
    part = viewer.get(src, headers={"Range": "bytes=100-299", "Accept-Encoding": "identity;q=1, *;q=0"})
    assert part.status_code == 206 and "content-encoding" not in part.headers
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole.content)}"
    assert part.content == whole.content[100:300]
    # A client that accepts gzip: Airflow 3.1's Starlette compresses video too; decoded, the range is exact.
    gzip_ok = viewer.get(src, headers={"Range": "bytes=100-299", "Accept-Encoding": "gzip"})
    assert gzip_ok.status_code == 206 and gzip_ok.content == whole.content[100:300]
    assert viewer.get(src, headers={"Range": f"bytes={len(whole.content)}-"}).status_code == 416


@pytest.fixture
def batch_run(
    runway_emulator: Any, runway_connection: Any, run_dag_in_place: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    monkeypatch.setenv("RUNWAY_POLL_INTERVAL", "0.3")
    return run_dag_in_place(BATCH_DAG, run_conf=batch_conf(tmp_path))


@pytest.mark.slow
def test_a_batch_runs_tab_shows_each_pictures_output_cost_and_failure(
    batch_run: Any, api_server_app: Any, runway_emulator: Any
) -> None:
    run_id = batch_run.dag_run.run_id
    page = f"{URL_PREFIX}/dags/{BATCH_DAG_ID}/runs/{run_id}"
    assert client_as(api_server_app, None).get(page).status_code == 401
    outsider = client_as(api_server_app, OUTSIDER)  # reads every DAG but this one
    assert outsider.get(page).status_code == 403
    client = client_as(api_server_app, VIEWER)
    answer = client.get(page)
    assert answer.status_code == 200, answer.text[:2000]
    html = answer.text

    totals = dict(re.findall(r'data-total="(\w+)"><b>([^<]+)</b>', html))
    charged = [task["credits"] for task in runway_emulator.stats()["tasks"].values()]
    assert totals["made"] == "1" and totals["skipped"] == "0" and totals["failed"] == "2"
    assert float(totals["credits"]) == sum(c for c in charged if c)  # the API's own figures, added up
    assert html.count("<video controls") == 1
    assert MADE_PROMPT in html and SAFETY_PROMPT in html
    assert 'data-failure-code="SAFETY.INPUT.TEXT"' in html and "content moderation" in html
    assert 'data-failure-code="INVALID_INPUT"' in html and "before any paid call" in html

    whole = client.get(media_src(html))
    assert whole.status_code == 200 and whole.content[4:8] == b"ftyp"
    assert outsider.get(media_src(html)).status_code == 403
