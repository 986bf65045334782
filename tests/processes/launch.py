"""Start a real Airflow stack in a temporary AIRFLOW_HOME and stop every process of it afterwards.

api-server, scheduler (LocalExecutor), dag-processor and one or more triggerers, each in its own
process group, on SQLite in the home or on a PostgreSQL server the caller started; the
``runway_default`` (CometAPI flavor) and ``runway_direct`` (Runway flavor) connections point at
the emulator.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import secrets
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from tests.processes.metadata import MetadataDB
from tests.processes.stack import BIN, HAS_TASK_STATE_STORE, PROCESS_API_KEY, AirflowStack

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

# Airflow derives its async engine's URL from a PostgreSQL one as postgresql+asyncpg.
HAS_ASYNC_POSTGRES_DRIVER = importlib.util.find_spec("asyncpg") is not None
DAG_FILE = Path(__file__).resolve().parent / "dags" / "runway_processes_dags.py"
GC_WATCH = Path(__file__).resolve().parent / "gc_watch"
JOB_TYPES = ("SchedulerJob", "TriggererJob", "DagProcessorJob")
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stack_env(home: Path, db_url: str, api_port: int, fernet_key: str, emulator: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_") and k.lower() not in _PROXY_VARS}
    api = f"http://127.0.0.1:{api_port}"

    def connection(**extra: str) -> str:
        return json.dumps(
            {"conn_type": "runway", "host": emulator.base_url, "password": PROCESS_API_KEY, "extra": extra}
        )

    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # components start `airflow ...` by name
        PYTHONUNBUFFERED="1",
        # Every process records its long full garbage collections (gc_watch/sitecustomize.py).
        PYTHONPATH=os.pathsep.join(filter(None, [str(GC_WATCH), env.get("PYTHONPATH")])),
        RUNWAY_GC_LOG_DIR=str(home / "process-logs"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="16",
        AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="16",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__FERNET_KEY=fernet_key,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{api}/execution/",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=db_url,
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(api_port),
        AIRFLOW__API__BASE_URL=api,
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(16),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        # The default, spelled out: tests log in as this admin through the REST API.
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        # Free ports for the log servers of the scheduler (LocalExecutor) and the triggerer.
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="2",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="10",
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        # A triggerer heartbeats every second; one silent for this long is dead and its triggers
        # go to another (Trigger.assign_unassigned compares Job.latest_heartbeat with it).
        AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="1",
        AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="8",
        AIRFLOW_CONN_RUNWAY_DEFAULT=connection(),
        AIRFLOW_CONN_RUNWAY_DIRECT=connection(flavor="runway"),
    )
    return env


def _api_server_up(port: int) -> bool:
    try:
        with _NO_PROXY.open(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def running_stack(
    emulator: EmulatorHandle,
    *,
    db_url: str | None = None,
    triggerers: Mapping[str, tuple[str, ...]] | None = None,
    env: Mapping[str, str] | None = None,
    dag_ids: tuple[str, ...] = (),
) -> Iterator[AirflowStack]:
    """db migrate, then api-server, scheduler, dag-processor and the triggerers as real processes.

    ``db_url`` defaults to SQLite in the home; ``triggerers`` maps a component name to extra
    ``airflow triggerer`` arguments (default: one ``triggerer``); ``env`` overrides settings.
    The home is removed after a fully passing use and kept (path printed) otherwise, or
    always with RUNWAY_PROCESSES_KEEP_HOME=1.
    """
    from cryptography.fernet import Fernet

    # Not under pytest's basetemp: concurrent pytest sessions prune each other's old basetemps.
    home = Path(tempfile.mkdtemp(prefix="runway-processes-airflow-home-"))
    (home / "dags").mkdir()
    (home / "process-logs").mkdir()
    shutil.copy(DAG_FILE, home / "dags" / DAG_FILE.name)
    port = free_port()
    fernet_key = Fernet.generate_key().decode()
    url = db_url or f"sqlite:///{home / 'airflow.db'}"
    settings = _stack_env(home, url, port, fernet_key, emulator)
    if url.startswith("postgresql") and not HAS_ASYNC_POSTGRES_DRIVER:
        # Without asyncpg Airflow >= 3.3 runs without its async engine: only the REST "wait for a
        # run" endpoint, multi-team lookups and async state-store reads need it, and these tests
        # use none of them. (Older Airflow cannot start without it at all.)
        settings["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = ""
    stack = AirflowStack(
        home=home,
        env={**settings, **(env or {})},
        api_port=port,
        db=MetadataDB(url, fernet_key, HAS_TASK_STATE_STORE),
        emulator=emulator,
    )
    started = time.monotonic()
    try:
        stack.airflow("db", "migrate", timeout=300)
        stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        for name, args in (triggerers if triggerers is not None else {"triggerer": ()}).items():
            stack.start(name, "triggerer", *args)
        stack.wait_for("the api-server to answer /api/v2/monitor/health", lambda: _api_server_up(port), 180)
        for job_type in JOB_TYPES:
            stack.wait_for(f"a running {job_type}", functools.partial(stack.db.running_jobs, job_type), 180)
        for dag_id in dag_ids:
            stack.wait_for_dag(dag_id, timeout=180)
        print(f"\nAirflow {version('apache-airflow')} stack up in {time.monotonic() - started:.1f} s at {home}")
        yield stack
    finally:
        strays = stack.stop_all()
        if stack.failed or strays or os.environ.get("RUNWAY_PROCESSES_KEEP_HOME"):
            print(f"\nKept AIRFLOW_HOME of the processes tests for inspection: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
        if strays:
            raise AssertionError("processes survived the stack's shutdown (killed now): " + "; ".join(strays))
