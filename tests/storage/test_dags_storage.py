"""Stored images to stored videos through real Airflow (``dag.test()`` in this process), the emulator and S3
on loopback.

Each DAG runs twice where it matters: the second run must find what the first stored and pay
for nothing (the emulator's create count does not move).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.ui.routes import ui_task_tab
from tests.paths import ROOT
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, GIF, SUNSET_WEBP

if TYPE_CHECKING:
    from tests.storage.s3 import S3Server

pytestmark = pytest.mark.integration

STORAGE_DAG = """
from datetime import datetime
from airflow.sdk import DAG, Asset, AssetAlias
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG("runway_storage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator(
        task_id="make", prompt_image="{image}", image_conn_id="s3_test", seed=5, prompt_text="{{{{ 'waves' }}}}",
        wait_for_completion=True, deferrable=True, poll_interval=0.3,
        output_path="{output}", output_conn_id="s3_test", idempotent=True,
        outlets=[Asset("runway_test_videos"), AssetAlias("runway_test_alias")],
    )
    submit = RunwayImageToVideoOperator(task_id="submit", prompt_image="{local_image}", prompt_text="sensor stores it")
    RunwayTaskSensor(task_id="wait", runway_task_id=submit.output, output_path="{local_out}", poll_interval=0.3,
                     deferrable=False, mode="poke")  # the deferrable finish path is the operator's ("make")
"""


@pytest.fixture
def dag_env(s3_server: S3Server, runway_connection: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The S3 connection and credentials, the emulator's connection and quick polls, for dag.test()."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUNWAY_POLL_INTERVAL", "0.3")  # read by the example DAGs at parse
    monkeypatch.setenv("RUNWAY_RESUME_SETTLE_SECONDS", "0")  # dag.test() has no scheduler to race


def ran(result: Any) -> str:
    """A DagTestRun as one text: the run's state, then everything it printed and logged."""
    return f"{result.state}\n{result.output}"


def query(airflow_home: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(airflow_home) / "airflow.db") as db:
        return db.execute(sql, args).fetchall()


def xcoms(airflow_home: str, dag_id: str, key: str) -> list[tuple[str, Any]]:
    rows = query(
        airflow_home, "select task_id, value from xcom where dag_id = ? and key = ? order by timestamp", dag_id, key
    )
    return [(task_id, json.loads(value)) for task_id, value in rows]


def creates(emulator: Any) -> int:
    return int(emulator.stats()["creates"]["count"])


def test_operator_and_sensor_store_videos_and_a_rerun_skips_the_paid_create(
    s3_server: S3Server, runway_emulator: Any, airflow_db: str, dag_env: None, run_dag_source: Any, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    bucket_in, bucket_out = s3_server.bucket("in"), s3_server.bucket("out")
    image = s3_server.put(bucket_in, "pictures/cat.png", CAT_PNG)
    local_image = tmp_path / "fractal.jpg"
    local_image.write_bytes(FRACTAL_JPEG)
    local_out = tmp_path / "videos"
    source = STORAGE_DAG.format(image=image, output=f"s3://{bucket_out}/videos/", local_image=local_image,
                                local_out=f"{local_out}/")  # fmt: skip
    output = ran(run_dag_source("runway_storage", source))
    assert output.startswith("success"), output[-6000:]
    assert creates(runway_emulator) == 2
    make_create = next(r for r in runway_emulator.requests() if r["method"] == "POST" and r["body"].get("seed") == 5)
    assert base64.b64decode(make_create["body"]["promptImage"].partition(",")[2]) == CAT_PNG
    assert base64.b64encode(CAT_PNG).decode()[:64] not in output  # the payload is never logged

    # operator -> S3: the video and its sidecar
    mp4_key = next(k for k in s3_server.keys(bucket_out) if k.endswith(".mp4"))
    json_key = mp4_key[: -len(".mp4")] + ".json"
    assert s3_server.keys(bucket_out) == sorted([mp4_key, json_key])
    video = s3_server.get(bucket_out, mp4_key)
    meta = json.loads(s3_server.get(bucket_out, json_key))
    assert meta["video"] == f"s3://{bucket_out}/{mp4_key}"
    assert meta["source_image"] == image and meta["sources"][0]["sha256"] == hashlib.sha256(CAT_PNG).hexdigest()
    assert (meta["prompt_text"], meta["seed"], meta["model"]) == ("waves", 5, "gen3a_turbo")
    assert meta["bytes"] == len(video) and meta["sha256"] == hashlib.sha256(video).hexdigest()
    assert meta["seconds"] == pytest.approx(5.0, abs=0.11) and meta["created_at"] and meta["finished_at"]
    assert video[4:8] == b"ftyp"

    # sensor -> local folder: the sidecar knows the request the upstream operator made
    [local_mp4] = list(local_out.glob("*.mp4"))
    local_meta = json.loads(local_mp4.with_suffix(".json").read_text())
    assert local_meta["prompt_text"] == "sensor stores it" and local_meta["source_image"] == str(local_image)
    assert local_meta["bytes"] == local_mp4.stat().st_size

    # XCom, the extra link, the rendered field and the asset event
    home = airflow_db
    links = dict(xcoms(home, "runway_storage", "_link_RunwayVideoLink"))
    [(run_id,)] = query(home, "select run_id from dag_run where dag_id = 'runway_storage'")
    tab = {task: ui_task_tab("runway_storage", run_id, task, -1) for task in ("make", "wait")}
    assert links == {**tab, "submit": ""}  # the Runway tab of what stored something; nothing for a bare submit
    [(_, rendered)] = query(home, "select task_id, rendered_fields from rendered_task_instance_fields "
                                  "where dag_id = 'runway_storage' and task_id = 'make'")  # fmt: skip
    assert json.loads(rendered)["prompt_image"] == image  # a path stays a path
    all_xcom = query(home, "select value from xcom where dag_id = 'runway_storage'")
    assert not any("base64" in str(value) for (value,) in all_xcom)
    events = query(home, "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.name = ?",
                   "runway_test_videos")  # fmt: skip
    assert [json.loads(extra)["outcome"] for (extra,) in events] == ["created"]
    assert json.loads(events[0][0])["video"] == meta["video"]
    by_alias = "select count(*) from asset_event e join asset a on a.id = e.asset_id where a.uri = ?"
    assert query(home, by_alias, meta["video"]) == [(1,)]  # the alias made the video its own asset

    output = ran(run_dag_source("runway_storage", source))
    assert output.startswith("success"), output[-6000:]
    assert creates(runway_emulator) == 3  # "make" paid nothing; the plain submit created again
    assert f"Skipped, already done: {meta['video']}" in output
    assert s3_server.keys(bucket_out) == sorted([mp4_key, json_key])
    events = query(home, "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.name = ?",
                   "runway_test_videos")  # fmt: skip
    assert [json.loads(extra)["outcome"] for (extra,) in events] == ["created", "skipped"]
    assert query(home, by_alias, meta["video"]) == [(2,)]


BATCH_DAG = ROOT / "dags" / "runway_batch_videos.py"


def test_batch_dag_turns_a_bucket_of_pictures_into_videos_once(
    s3_server: S3Server, runway_emulator: Any, airflow_db: str, dag_env: None, run_dag_in_place: Any
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    bucket_in, bucket_out = s3_server.bucket("pictures"), s3_server.bucket("videos")
    images = {
        s3_server.put(bucket_in, "in/cat.png", CAT_PNG),
        s3_server.put(bucket_in, "in/fractal.jpg", FRACTAL_JPEG),
        s3_server.put(bucket_in, "in/sunset.webp", SUNSET_WEBP),
    }
    s3_server.put(bucket_in, "in/README.txt", b"not a picture: not listed")
    conf = {
        "images": f"s3://{bucket_in}/in/",
        "image_conn_id": s3_server.conn_id,
        "output_path": f"s3://{bucket_out}/made/",
        "output_conn_id": s3_server.conn_id,
    }
    output = ran(run_dag_in_place(BATCH_DAG, run_conf=conf))
    assert output.startswith("success"), output[-6000:]
    assert creates(runway_emulator) == 3
    keys = s3_server.keys(bucket_out)
    sidecars = [json.loads(s3_server.get(bucket_out, k)) for k in keys if k.endswith(".json") and "summary" not in k]
    assert {meta["source_image"] for meta in sidecars} == images
    for meta in sidecars:
        assert meta["video"].removeprefix(f"s3://{bucket_out}/") in keys
    summary = json.loads(s3_server.get(bucket_out, "made/runway-batch-summary.json"))
    assert summary["outcomes"] == {"created": 3, "skipped": 0, "failed": 0, "not_started": 0}
    assert summary["seconds_of_video_made"] == pytest.approx(15.0, abs=0.4)
    assert "3 image(s): 3 created" in s3_server.get(bucket_out, "made/runway-batch-summary.md").decode()

    output = ran(run_dag_in_place(BATCH_DAG, run_conf=conf))
    assert output.startswith("success"), output[-6000:]
    assert creates(runway_emulator) == 3  # the second run paid for nothing
    assert output.count("Skipped, already done") == 3
    summary = json.loads(s3_server.get(bucket_out, "made/runway-batch-summary.json"))
    assert summary["outcomes"] == {"created": 0, "skipped": 3, "failed": 0, "not_started": 0}
    assert sorted(summary["skipped_already_done"]) == sorted(images)
    assert s3_server.keys(bucket_out) == keys


def test_batch_manifest_reports_each_failure_by_code(
    s3_server: S3Server, runway_emulator: Any, dag_env: None, run_dag_in_place: Any, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    bucket = s3_server.bucket("batch")
    s3_server.put(bucket, "cat.png", CAT_PNG)
    s3_server.put(bucket, "cat.gif", GIF)
    s3_server.put(bucket, "fractal.jpg", FRACTAL_JPEG)
    lines = [
        {"image": "cat.png", "seed": 1},
        {"image": "cat.gif"},
        {"image": "fractal.jpg", "prompt_text": "a forbidden scene"},
    ]
    manifest = s3_server.put(bucket, "manifest.jsonl", "\n".join(json.dumps(line) for line in lines).encode())
    out = tmp_path / "out"
    conf = {"manifest": manifest, "images": "", "image_conn_id": s3_server.conn_id, "output_path": f"{out}/"}
    run_dag_in_place(BATCH_DAG, run_conf=conf)  # two of its items fail; the summary still runs
    summary = json.loads((out / "runway-batch-summary.json").read_text())
    assert summary["outcomes"] == {"created": 1, "skipped": 0, "failed": 2, "not_started": 0}
    assert summary["failure_codes"] == {"INVALID_INPUT": 1, "SAFETY.INPUT.TEXT": 1}
    gif_row = summary["rows"][1]
    assert gif_row["image"] == f"s3://{bucket}/cat.gif" and "GIF" in gif_row["message"]
    assert creates(runway_emulator) == 2  # the GIF never reached Runway
    assert (out / "runway-batch-summary.md").read_text().count("| failed |") == 2
