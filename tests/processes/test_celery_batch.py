"""Real processes, distributed: the batch DAG on the CeleryExecutor, one of two workers SIGKILLed mid-batch.

A PostgreSQL metadata database, Redis as broker and result backend, S3 on moto for pictures and
videos, two Celery workers and two triggerers, all started by the test. 200 pictures in chunks of
25: 8 batch tasks, 4 at a time, each keeping a quarter of the account's concurrency running.
Once a batch task that has stored videos, has paid Runway tasks in flight and pictures left is
running on a worker, that worker and every process it started are SIGKILLed. The task's
heartbeat stops, the scheduler fails the try and retries it on the other worker, and the retry
reconnects to the Runway tasks from the ledger the killed try saved. Every picture ends as one
video and one sidecar, each Runway task is created once and never cancelled, and the summary
counts all 200.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_runway.runway.remote_task import SUCCEEDED
from tests.paths import ROOT
from tests.processes.celery_stack import (
    celery_settings,
    kill_worker_mid_batch,
    new_database,
    redis_server,
    s3_on_loopback,
    start_worker,
)
from tests.processes.launch import HAS_ASYNC_POSTGRES_DRIVER, running_stack
from tests.processes.stack import AIRFLOW_VERSION
from tests.storage.images import png

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

    from tests.processes.stack import AirflowStack
    from tests.storage.s3 import S3Server

pytest.importorskip("airflow.providers.celery", reason="apache-airflow-providers-celery (Python >= 3.11)")

pytestmark = [
    pytest.mark.processes,
    pytest.mark.celery,
    pytest.mark.skipif(
        AIRFLOW_VERSION < (3, 3) and not HAS_ASYNC_POSTGRES_DRIVER,
        reason=f"Airflow {'.'.join(map(str, AIRFLOW_VERSION))} cannot start on PostgreSQL without asyncpg",
    ),
]

BATCH_DAG = ROOT / "dags" / "runway_batch_videos.py"
DAG_ID = "runway_batch_videos"
BATCH_TASK = "videos"
WORKERS = ("worker-a", "worker-b")
TRIGGERERS = {"triggerer-a": (), "triggerer-b": ("--skip-serve-logs",)}  # one log server port per machine
PICTURES = 200
CHUNK_SIZE = 25
PARALLEL_CHUNKS = 4
ACCOUNT_CONCURRENCY = 32
CONCURRENCY = ACCOUNT_CONCURRENCY // PARALLEL_CHUNKS  # the DAG's advice: the account's share per chunk
GENERATION_SECONDS = 3.0
SECONDS_PER_VIDEO = 5
RUN_TIMEOUT = 1500.0


@pytest.fixture(scope="module")
def shared_s3() -> Iterator[S3Server]:
    """The object store every worker reads pictures from and writes videos to."""
    with s3_on_loopback() as s3:
        yield s3


@pytest.fixture(scope="module")
def celery_airflow(
    processes_emulator: EmulatorHandle, postgres_url: str, shared_s3: S3Server
) -> Iterator[AirflowStack]:
    """The stack on the CeleryExecutor: Redis, a database of its own, two triggerers, two workers, the batch DAG."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="runway-celery-broker-"))
    with ExitStack() as resources:
        resources.callback(shutil.rmtree, folder, ignore_errors=True)
        broker = resources.enter_context(redis_server(folder))
        env = {
            **celery_settings(broker, shared_s3),
            "RUNWAY_PARALLEL_CHUNKS": str(PARALLEL_CHUNKS),
            "RUNWAY_POLL_INTERVAL": "1",
        }
        stack = resources.enter_context(
            running_stack(
                processes_emulator,
                db_url=new_database(postgres_url, "airflow_celery"),
                triggerers=TRIGGERERS,
                env=env,
            )
        )
        for worker in WORKERS:
            start_worker(stack, worker)
        shutil.copy(BATCH_DAG, stack.home / "dags" / BATCH_DAG.name)
        stack.wait_for_dag(DAG_ID, timeout=180)
        print(f"\nCelery stack (2 workers, 2 triggerers) up in {time.monotonic() - started:.0f} s")
        yield stack


def _pictures(s3: S3Server, bucket: str) -> set[str]:
    """PICTURES small PNGs of distinct content (random pixels), as s3:// URLs."""
    urls, digests = set(), set()
    for index in range(PICTURES):
        data = png(32, 24, noise=True)
        digests.add(hashlib.sha256(data).hexdigest())
        urls.add(s3.put(bucket, f"in/picture-{index:03d}.png", data))
    assert len(digests) == PICTURES
    return urls


def test_a_batch_finishes_once_when_a_celery_worker_is_killed_mid_batch(
    celery_airflow: AirflowStack, shared_s3: S3Server
) -> None:
    stack, s3, emulator = celery_airflow, shared_s3, celery_airflow.emulator
    emulator.reset()
    emulator.configure(
        generation_seconds=GENERATION_SECONDS, max_concurrency=ACCOUNT_CONCURRENCY, credit_balance=1_000_000
    )
    bucket_in, bucket_out = s3.bucket("pictures"), s3.bucket("videos")
    pictures = _pictures(s3, bucket_in)
    conf = {
        "images": f"s3://{bucket_in}/in/",
        "image_conn_id": s3.conn_id,
        "output_path": f"s3://{bucket_out}/made/",
        "output_conn_id": s3.conn_id,
        "chunk_size": CHUNK_SIZE,
        "concurrency": CONCURRENCY,
    }
    started = time.monotonic()
    run_id = stack.trigger(DAG_ID, "celery", conf=conf)

    caught = stack.wait_for(
        f"a batch task running on a Celery worker with {CONCURRENCY} paid Runway tasks in flight",
        lambda: kill_worker_mid_batch(stack, WORKERS, DAG_ID, run_id, BATCH_TASK, CONCURRENCY),
        RUN_TIMEOUT,
        interval=0.25,
    )
    killed_after = time.monotonic() - started
    creates_at_kill = emulator.stats()["creates"]["count"]
    videos_at_kill = sum(1 for key in s3.keys(bucket_out) if key.endswith(".mp4"))
    map_index = caught.ti["map_index"]
    left_in_flight = caught.ledger.in_flight  # what the killed try paid for and did not store: reconnect to it
    assert 0 < creates_at_kill < PICTURES and 0 < videos_at_kill < PICTURES, (creates_at_kill, videos_at_kill)
    assert f"-H {caught.worker} " in caught.chain[-1], caught.chain  # its runner was a process of that worker

    state = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
    run_seconds = time.monotonic() - started
    batch_tasks = stack.db.task_instances(DAG_ID, run_id, BATCH_TASK)
    assert state == "success", stack.db.task_instances(DAG_ID, run_id)
    assert len(batch_tasks) == PICTURES // CHUNK_SIZE
    assert {ti["state"] for ti in batch_tasks} == {"success"}, batch_tasks
    [retried] = [ti for ti in batch_tasks if ti["map_index"] == map_index]
    assert retried["try_number"] >= 2, retried  # the killed try failed by its heartbeat, and a retry finished
    killed_try = stack.task_log(DAG_ID, run_id, BATCH_TASK, caught.ti["try_number"], map_index)
    assert "picture(s); up to" in killed_try  # the killed worker ran this batch task
    retry_log = stack.task_log(DAG_ID, run_id, BATCH_TASK, caught.ti["try_number"] + 1, map_index)
    for runway_id in left_in_flight:
        assert f"Reconnecting to Runway task {runway_id}" in retry_log, runway_id

    # Every picture stored exactly once: one video and one sidecar, each from its own Runway task.
    keys = s3.keys(bucket_out)
    summary_keys = {"made/runway-batch-summary.json", "made/runway-batch-summary.md"}
    assert summary_keys <= set(keys)
    videos = [key for key in keys if key.endswith(".mp4")]
    sidecar_keys = [key for key in keys if key.endswith(".json") and key not in summary_keys]
    sidecars = [json.loads(s3.get(bucket_out, key)) for key in sidecar_keys]
    assert (len(videos), len(sidecars), len(keys)) == (PICTURES, PICTURES, 2 * PICTURES + 2)
    assert sorted(meta["source_image"] for meta in sidecars) == sorted(pictures)
    assert sorted(meta["video"] for meta in sidecars) == sorted(f"s3://{bucket_out}/{key}" for key in videos)

    stats = emulator.stats()
    runway_ids = {meta["runway_task_id"] for meta in sidecars}
    assert stats["creates"]["count"] == PICTURES, stats["creates"]["count"]
    assert runway_ids == set(stats["tasks"]), "each picture's sidecar names its own, only Runway task"
    assert {task["status"] for task in stats["tasks"].values()} == {SUCCEEDED}
    assert stats["cancels"]["count"] == 0 and stats["deletes"]["count"] == 0, (stats["cancels"], stats["deletes"])

    summary = json.loads(s3.get(bucket_out, "made/runway-batch-summary.json"))
    assert summary["outcomes"] == {"created": PICTURES, "skipped": 0, "failed": 0, "not_started": 0}
    assert sorted(row["runway_task_id"] for row in summary["rows"]) == sorted(runway_ids)
    assert summary["seconds_of_video_made"] == pytest.approx(PICTURES * SECONDS_PER_VIDEO, abs=PICTURES * 0.1)
    charged = sum(task["credits"] for task in stats["tasks"].values())
    assert summary["credits"]["credits_charged"] == pytest.approx(charged)
    assert summary["credits"]["items"]["charged"] == PICTURES

    leaked = {name: count for name, count in stack.api_key_in_files().items() if count}
    assert leaked == {}, f"the API key occurs in {leaked}"
    print(
        f"\nCelery batch (Airflow {'.'.join(map(str, AIRFLOW_VERSION))}): "
        f"{PICTURES} pictures in {len(batch_tasks)} chunks done in {run_seconds:.0f} s; {caught.worker} SIGKILLed "
        f"{killed_after:.0f} s in, running chunk {map_index} try {caught.ti['try_number']} "
        f"({len(left_in_flight)} Runway tasks in flight, {creates_at_kill} created, {videos_at_kill} stored); "
        f"{caught.process_groups} process groups; that chunk ended at try "
        f"{retried['try_number']}; creates={stats['creates']['count']} (attempts {stats['creates']['attempts']}), "
        f"cancels={stats['cancels']['count']}\n  runner: {' <- '.join(caught.chain)}"
    )
