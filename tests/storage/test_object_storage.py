"""Stored images and videos through a real S3-compatible server and local folders, against the emulator.

The S3 side goes through the same code path as a user's ``s3://`` URL: Airflow's
``ObjectStoragePath`` with an ``aws`` connection, s3fs, HTTP to moto on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.batch.planning import list_images, read_manifest
from airflow_provider_runway.execution.outcomes import XCOM_VIDEO_KEY
from airflow_provider_runway.execution.store import store_output
from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.media.inputs import resolve_prompt_image
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.runway.errors import InvalidRequestError, RunwayTaskNotVisibleError
from airflow_provider_runway.sensors.runway import RunwayTaskSensor
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, GIF, oversize_png

if TYPE_CHECKING:
    from airflow_provider_runway.runway.remote_task import RunwayTask
    from tests.storage.s3 import S3Server

pytestmark = pytest.mark.integration


class XComRecorder:
    """Where a test calls an operator method directly: records XCom pushes like Airflow's runtime TI."""

    dag_id, run_id, task_id, map_index = "dag", "run", "task", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", map_indexes: Any = None) -> list[Any]:
        return [self.xcom.get(key)]


class StateStore(dict):  # type: ignore[type-arg]
    """Airflow 3.3's task_state_store interface (what survives from one try to the next)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


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


def _operator(**kwargs: Any) -> RunwayImageToVideoOperator:
    kwargs.setdefault("prompt_image", "https://images.example.com/cat.jpg")
    return RunwayImageToVideoOperator(task_id="make", wait_for_completion=True, deferrable=False, **kwargs)


@pytest.mark.parametrize(
    "case",
    ["missing_key", "missing_bucket", "gif", "oversize", "unwritable_s3", "unwritable_local"],
)
def test_bad_input_fails_before_any_paid_call_naming_the_path(
    case: str, s3_server: S3Server, runway_emulator: Any, runway_connection: Any, tmp_path: Path
) -> None:
    bucket = s3_server.bucket("in")
    conn = s3_server.conn_id
    good = s3_server.put(bucket, "ok.png", CAT_PNG)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    image, output, field = {
        "missing_key": (f"s3://{bucket}/nope.png", f"{tmp_path}/out/", "prompt_image"),
        "missing_bucket": ("s3://no-such-bucket-here/cat.png", f"{tmp_path}/out/", "prompt_image"),
        "gif": (s3_server.put(bucket, "cat.png", GIF), f"{tmp_path}/out/", "prompt_image"),
        "oversize": (s3_server.put(bucket, "big.png", oversize_png()), f"{tmp_path}/out/", "prompt_image"),
        "unwritable_s3": (good, "s3://no-such-output-bucket/videos/", "output_path"),
        "unwritable_local": (good, f"{blocker}/videos/", "output_path"),
    }[case]
    op = _operator(prompt_image=image, image_conn_id=conn, output_path=output, output_conn_id=conn)
    with pytest.raises(InvalidRequestError) as caught:
        op.execute(context={})  # type: ignore[arg-type]
    assert caught.value.field == field
    named = image if field == "prompt_image" else output.rstrip("/")
    assert named.rstrip("/") in str(caught.value), str(caught.value)
    assert runway_emulator.requests() == []


def test_sensor_checks_its_output_before_waiting(runway_emulator: Any, runway_connection: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    sensor = RunwayTaskSensor(task_id="wait", runway_task_id="t", output_path=f"{blocker}/v/", deferrable=True)
    with pytest.raises(InvalidRequestError, match="output_path: cannot write to"):
        sensor.execute(context={})  # type: ignore[arg-type]
    assert runway_emulator.requests() == []


def _wait_until_succeeded(hook: RunwayHook, task_id: str) -> RunwayTask:
    for _ in range(200):
        with contextlib.suppress(RunwayTaskNotVisibleError):
            task = hook.get_task(task_id)
            if task.status == "SUCCEEDED":
                return task
        time.sleep(0.1)
    raise AssertionError(f"emulator task {task_id} did not succeed")


def _succeeded_task(hook: RunwayHook) -> dict[str, Any]:
    task_id = hook.submit_image_to_video({"promptImage": "https://images.example.com/a.jpg", "model": "gen3a_turbo"})
    return _wait_until_succeeded(hook, task_id).to_dict()


def test_a_failed_store_after_success_logs_what_was_paid_for(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_runway._compat import AirflowException

    task = _succeeded_task(RunwayHook())
    op = _operator(output_path="s3://bucket-that-went-away/videos/", output_conn_id=s3_server.conn_id)
    ti = XComRecorder()
    with pytest.raises(AirflowException, match="s3://bucket-that-went-away/videos/"):
        store_output(op, {"ti": ti}, task)
    logged = capsys.readouterr().out  # Airflow's structured log goes to stdout
    assert task["id"] in logged and task["output"][0] in logged and "SUCCEEDED (paid)" in logged
    assert ti.xcom[XCOM_VIDEO_KEY]["failure_code"] == "STORE_FAILED"
    assert ti.xcom[XCOM_VIDEO_KEY]["runway_task_id"] == task["id"]


def test_a_stored_video_to_s3_then_skipped(s3_server: S3Server, runway_emulator: Any, runway_connection: Any) -> None:
    """The operator's whole path in one worker: read from S3, create, wait, store to S3, then skip."""
    bucket_in, bucket_out = s3_server.bucket("in"), s3_server.bucket("out")
    image = s3_server.put(bucket_in, "pictures/cat.png", CAT_PNG)
    conn = s3_server.conn_id
    params = {"image_conn_id": conn, "output_path": f"s3://{bucket_out}/videos/", "output_conn_id": conn}
    first, ti = _operator(prompt_image=image, idempotent=True, poll_interval=0.2, **params), XComRecorder()
    runway_task_id = first.execute(context={"ti": ti, "task_state_store": StateStore()})  # type: ignore[arg-type]
    [create] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert base64.b64decode(create["body"]["promptImage"].partition(",")[2]) == CAT_PNG
    record = ti.xcom[XCOM_VIDEO_KEY]
    assert record["outcome"] == "created" and record["runway_task_id"] == runway_task_id
    keys = s3_server.keys(bucket_out)
    assert [k.rsplit(".", 1)[1] for k in keys] == ["json", "mp4"]
    assert record["video"] == f"s3://{bucket_out}/{keys[1]}"
    assert "base64" not in str(ti.xcom)  # no data URI payload in XCom

    again, ti2 = _operator(prompt_image=image, idempotent=True, **params), XComRecorder()
    assert again.execute(context={"ti": ti2, "task_state_store": StateStore()}) == runway_task_id  # type: ignore[arg-type]
    assert runway_emulator.stats()["creates"]["count"] == 1
    assert ti2.xcom[XCOM_VIDEO_KEY]["outcome"] == "skipped"


@pytest.mark.runway_connection("runway")
def test_an_oversize_image_is_uploaded_with_flavor_runway(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any
) -> None:
    bucket = s3_server.bucket("in")
    image = s3_server.put(bucket, "big.png", oversize_png())
    op = RunwayImageToVideoOperator(
        task_id="make", prompt_image=image, image_conn_id=s3_server.conn_id, ratio="1280:720"
    )
    op.execute(context={"ti": XComRecorder(), "task_state_store": StateStore()})  # type: ignore[arg-type]
    creates = [r for r in runway_emulator.requests() if r["method"] == "POST" and r["path"].endswith("image_to_video")]
    assert creates[0]["body"]["promptImage"].startswith("runway://")
    assert runway_emulator.stats()["uploads"]["count"] == 1


def test_a_retry_after_a_failed_store_reconnects_and_stores_without_paying_again(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any
) -> None:
    from airflow_provider_runway._compat import AirflowException, TaskDeferred
    from airflow_provider_runway.execution.wait_tracker import SUCCESS, wait_event

    bucket_out = s3_server.bucket("out")
    op = RunwayImageToVideoOperator(
        task_id="make",
        prompt_image="https://images.example.com/a.jpg",
        wait_for_completion=True,
        deferrable=True,
        output_path=f"s3://{bucket_out}/videos/",
        output_conn_id=s3_server.conn_id,
    )
    state = StateStore()  # what survives between tries (task_state_store)

    def one_try(while_waiting: Any = None) -> dict[str, Any]:
        ti = XComRecorder()  # XCom does not survive a new try
        context: Any = {"ti": ti, "task_state_store": state}
        with pytest.raises(TaskDeferred):
            op.execute(context)  # reads, checks the output, creates (or reconnects), defers
        if while_waiting is not None:
            while_waiting()
        task = _wait_until_succeeded(RunwayHook(), ti.xcom["runway_task_id"])
        op.execute_complete(context, wait_event(SUCCESS, task.id, "done", task))
        return ti.xcom

    with pytest.raises(AirflowException, match="Storing the video"):
        one_try(while_waiting=lambda: s3_server.client.delete_bucket(Bucket=bucket_out))  # the bucket goes away
    assert runway_emulator.stats()["creates"]["count"] == 1
    s3_server.client.create_bucket(Bucket=bucket_out)
    xcom = one_try()  # Airflow's retry
    assert xcom[XCOM_VIDEO_KEY]["outcome"] == "created"
    assert runway_emulator.stats()["creates"]["count"] == 1  # it reconnected to the task already paid for
    assert any(k.endswith(".mp4") for k in s3_server.keys(bucket_out))


def test_nothing_here_can_reach_beyond_loopback() -> None:
    import socket

    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="only connect to loopback"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused by the guard before any packet


def test_a_named_output_is_made_again_only_when_the_request_changes(
    runway_emulator: Any, runway_connection: Any, tmp_path: Path
) -> None:
    clip = tmp_path / "clips" / "cat.mp4"

    def make(seed: int) -> dict[str, Any]:
        op = _operator(output_path=str(clip), idempotent=True, seed=seed, poll_interval=0.2)
        ti = XComRecorder()
        op.execute(context={"ti": ti, "task_state_store": StateStore()})  # type: ignore[arg-type]
        return ti.xcom[XCOM_VIDEO_KEY]

    assert make(1)["outcome"] == "created"
    assert make(2)["outcome"] == "created"  # same file name, other inputs: made again, replaced
    assert json.loads(clip.with_suffix(".json").read_text())["seed"] == 2
    assert make(2)["outcome"] == "skipped"
    assert runway_emulator.stats()["creates"]["count"] == 2
    assert sorted(p.name for p in clip.parent.iterdir()) == ["cat.json", "cat.mp4"]  # no staging leftovers
