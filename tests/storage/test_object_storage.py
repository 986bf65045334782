"""Stored images and videos through a real S3-compatible server and local folders, through real Airflow
(``dag.test()`` in this process) against the emulator.

The S3 side goes through the same code path as a user's ``s3://`` URL: Airflow's
``ObjectStoragePath`` with an ``aws`` connection, s3fs, HTTP to moto on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.batch.planning import list_images, read_manifest
from airflow_provider_runway.execution.outcomes import XCOM_VIDEO_KEY
from airflow_provider_runway.media.inputs import resolve_prompt_image
from tests.integration.dag_runs import (
    Task,
    all_xcoms,
    created_ids,
    dag_source,
    meanwhile,
    task_logs,
    unsuccessful,
    xcom_values,
)
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, GIF, oversize_png

if TYPE_CHECKING:
    from tests.storage.s3 import S3Server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runway_emulator(pending_seconds=0, generation_seconds=0.1, not_visible_seconds=0),
]
IMAGE = "https://images.example.com/cat.jpg"
WAIT = {"wait_for_completion": True, "deferrable": False, "poll_interval": 0.1}


def make(task_id: str = "make", **kwargs: Any) -> Task:
    """An image-to-video task that waits for its video (and stores it, given an output_path)."""
    return Task("RunwayImageToVideoOperator", task_id, {"prompt_image": IMAGE, **WAIT, **kwargs})


def test_images_are_listed_and_read_through_the_airflow_connection(s3_server: S3Server) -> None:
    bucket = s3_server.bucket("in")
    cat = s3_server.put(bucket, "pictures/cat.png", CAT_PNG)
    s3_server.put(bucket, "pictures/fractal.jpg", FRACTAL_JPEG)
    s3_server.put(bucket, "pictures/readme.txt", b"not a picture")
    s3_server.put(bucket, "pictures/deeper/d.png", CAT_PNG)
    conn = s3_server.conn_id
    assert list_images(f"s3://{bucket}/pictures/", conn) == [cat, f"s3://{bucket}/pictures/fractal.jpg"]
    assert list_images(f"s3://{bucket}/pictures/**/*.png", conn) == [
        f"s3://{bucket}/pictures/cat.png",
        f"s3://{bucket}/pictures/deeper/d.png",
    ]
    uri = resolve_prompt_image(cat, flavor="cometapi", conn_id=conn).value()
    assert base64.b64decode(uri.partition(",")[2]) == CAT_PNG
    s3_server.put(bucket, "batch/m.csv", b"image,seed\n../pictures/cat.png,3\n")
    assert read_manifest(f"s3://{bucket}/batch/m.csv", conn) == [
        {"prompt_image": f"s3://{bucket}/batch/../pictures/cat.png", "seed": "3"}
    ]


def test_bad_input_or_output_fails_before_any_paid_call_naming_the_path(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    """One bad image or output per task; the sensor checks its output before it starts waiting."""
    bucket = s3_server.bucket("in")
    conn = s3_server.conn_id
    good = s3_server.put(bucket, "ok.png", CAT_PNG)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = {  # task id -> (image, output, the field the error names)
        "missing_key": (f"s3://{bucket}/nope.png", f"{tmp_path}/out/", "prompt_image"),
        "missing_bucket": ("s3://no-such-bucket-here/cat.png", f"{tmp_path}/out/", "prompt_image"),
        "gif": (s3_server.put(bucket, "cat.png", GIF), f"{tmp_path}/out/", "prompt_image"),
        "oversize": (s3_server.put(bucket, "big.png", oversize_png()), f"{tmp_path}/out/", "prompt_image"),
        "unwritable_s3": (good, "s3://no-such-output-bucket/videos/", "output_path"),
        "unwritable_local": (good, f"{blocker}/videos/", "output_path"),
    }
    tasks = [
        Task(
            "RunwayImageToVideoOperator",
            task_id,
            {"prompt_image": image, "image_conn_id": conn, "output_path": output, "output_conn_id": conn, **WAIT},
        )
        for task_id, (image, output, _) in cases.items()
    ]
    sensor = Task(
        "RunwayTaskSensor", "sensor", {"runway_task_id": "t", "output_path": f"{blocker}/v/", "deferrable": True}
    )
    ran = run_dag_source("runway_bad_storage", dag_source("runway_bad_storage", *tasks, sensor))
    logs, outcomes = task_logs(ran), xcom_values(ran, XCOM_VIDEO_KEY)
    for task_id, (image, output, field) in cases.items():
        named = image if field == "prompt_image" else output.rstrip("/")
        assert ran.tis()[task_id] == ("failed", 1), task_id
        refusal = rf"InvalidRequestError: {field}\b.*{re.escape(named)}"
        assert re.search(refusal, logs[task_id]), logs[task_id][-3000:]
        assert outcomes[task_id]["failure_code"] == "INVALID_INPUT", task_id  # recorded for summaries
    assert ran.tis()["sensor"] == ("failed", 1)
    assert "InvalidRequestError: output_path: cannot write to" in logs["sensor"], logs["sensor"][-3000:]
    assert runway_emulator.requests() == []


def test_a_failed_store_after_success_logs_what_was_paid_for(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    """The output bucket was there when the task started (checked), and is gone when the video is ready."""
    bucket = s3_server.bucket("out")
    runway_emulator.configure(generation_seconds=3600, not_visible_seconds=0)

    def bucket_goes_away_then_the_video_is_ready() -> None:
        s3_server.client.delete_bucket(Bucket=bucket)
        runway_emulator.complete(created_ids(runway_emulator)[0])

    task = make(output_path=f"s3://{bucket}/videos/", output_conn_id=s3_server.conn_id)
    with meanwhile(lambda: bool(created_ids(runway_emulator)), bucket_goes_away_then_the_video_is_ready, "the create"):
        ran = run_dag_source("runway_store_fails", dag_source("runway_store_fails", task))
    [paid] = created_ids(runway_emulator)
    assert ran.tis()["make"] == ("failed", 1)
    logged = task_logs(ran)["make"]
    assert f"AirflowException: Storing the video of Runway task {paid} at s3://{bucket}/videos/" in logged
    still_there = rf"The output is still at {re.escape(runway_emulator.base_url)}\S*{paid}"
    said = rf"Runway task {paid} SUCCEEDED \(paid\) but storing .* {still_there}"
    assert re.search(said, logged), logged[-3000:]
    record = xcom_values(ran, XCOM_VIDEO_KEY)["make"]
    assert (record["failure_code"], record["runway_task_id"]) == ("STORE_FAILED", paid)


def test_a_stored_video_to_s3_then_skipped(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    """The operator's whole path in one worker: read from S3, create, wait, store to S3; run again: skipped."""
    bucket_in, bucket_out = s3_server.bucket("in"), s3_server.bucket("out")
    image = s3_server.put(bucket_in, "pictures/cat.png", CAT_PNG)
    conn = s3_server.conn_id
    task = make(
        prompt_image=image, image_conn_id=conn, output_path=f"s3://{bucket_out}/videos/", output_conn_id=conn,
        idempotent=True,
    )  # fmt: skip
    source = dag_source("runway_s3_video", task)
    ran = run_dag_source("runway_s3_video", source)
    assert ran.state == "success", unsuccessful(ran)
    [create] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert base64.b64decode(create["body"]["promptImage"].partition(",")[2]) == CAT_PNG
    runway_task_id = xcom_values(ran)["make"]
    record = xcom_values(ran, XCOM_VIDEO_KEY)["make"]
    assert record["outcome"] == "created" and record["runway_task_id"] == runway_task_id
    keys = s3_server.keys(bucket_out)
    assert [k.rsplit(".", 1)[1] for k in keys] == ["json", "mp4"]
    assert record["video"] == f"s3://{bucket_out}/{keys[1]}"
    assert "base64" not in str(all_xcoms(ran))  # no data URI payload in XCom

    again = run_dag_source("runway_s3_video", source)
    assert xcom_values(again)["make"] == runway_task_id
    assert runway_emulator.stats()["creates"]["count"] == 1
    assert xcom_values(again, XCOM_VIDEO_KEY)["make"]["outcome"] == "skipped"


@pytest.mark.runway_connection("runway")
def test_an_oversize_image_is_uploaded_with_flavor_runway(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    bucket = s3_server.bucket("in")
    image = s3_server.put(bucket, "big.png", oversize_png())
    params = {"prompt_image": image, "image_conn_id": s3_server.conn_id, "ratio": "1280:720"}
    ran = run_dag_source(
        "runway_upload", dag_source("runway_upload", Task("RunwayImageToVideoOperator", "make", params))
    )
    assert ran.state == "success", unsuccessful(ran)
    creates = [r for r in runway_emulator.requests() if r["method"] == "POST" and r["path"].endswith("image_to_video")]
    assert creates[0]["body"]["promptImage"].startswith("runway://")
    assert runway_emulator.stats()["uploads"]["count"] == 1


def test_a_retry_after_a_failed_store_reconnects_and_stores_without_paying_again(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    """Try 1 cannot download the finished video (one 503), so its store fails; try 2 reconnects to the
    SUCCEEDED task and stores it. Deferrable: the wait runs in the trigger (inline in dag.test())."""
    bucket_out = s3_server.bucket("out")
    runway_emulator.set_faults(server_error={"count": 1, "status": 503, "route": "output"})
    task = make(
        deferrable=True, retries=1, retry_delay=0, output_path=f"s3://{bucket_out}/videos/",
        output_conn_id=s3_server.conn_id,
    )  # fmt: skip
    ran = run_dag_source("runway_store_retried", dag_source("runway_store_retried", task))
    assert ran.tis()["make"] == ("success", 2), unsuccessful(ran)
    [paid] = created_ids(runway_emulator)  # it reconnected to the task already paid for
    logged = task_logs(ran)["make"]
    assert f"AirflowException: Storing the video of Runway task {paid}" in logged
    assert f"Reconnecting to Runway task {paid} (SUCCEEDED) created by an earlier try" in logged
    assert xcom_values(ran, XCOM_VIDEO_KEY)["make"]["outcome"] == "created"
    assert any(k.endswith(".mp4") for k in s3_server.keys(bucket_out))


def test_nothing_here_can_reach_beyond_loopback() -> None:
    import socket

    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="only connect to loopback"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused by the guard before any packet


def test_a_named_output_is_made_again_only_when_the_request_changes(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    """Three tasks in a row store to the same file name: seed 1, seed 2 (replaces it), seed 2 again (skipped)."""
    clip = tmp_path / "clips" / "cat.mp4"
    seeds = {"seed_1": 1, "seed_2": 2, "seed_2_again": 2}
    named = {"output_path": str(clip), "idempotent": True}
    tasks = [make(task_id, seed=seed, **named) for task_id, seed in seeds.items()]
    ran = run_dag_source("runway_named", dag_source("runway_named", *tasks, dependencies=" >> ".join(seeds)))
    assert ran.state == "success", unsuccessful(ran)
    outcomes = {task_id: record["outcome"] for task_id, record in xcom_values(ran, XCOM_VIDEO_KEY).items()}
    assert outcomes == {"seed_1": "created", "seed_2": "created", "seed_2_again": "skipped"}
    assert json.loads(clip.with_suffix(".json").read_text())["seed"] == 2
    assert runway_emulator.stats()["creates"]["count"] == 2
    assert sorted(p.name for p in clip.parent.iterdir()) == ["cat.json", "cat.mp4"]  # no staging leftovers
