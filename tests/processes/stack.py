"""A real Airflow stack (api-server, scheduler with LocalExecutor, dag-processor, triggerers) in one
temporary AIRFLOW_HOME, against the Runway emulator running in its own process.

The home holds the DAG file, task logs and one log file per started process
(``process-logs/<name>-<n>.log``); the metadata DB is SQLite in the home or a PostgreSQL server
the caller started. Each process runs in its own session/process group so that it can be killed
as a whole, and on exit every process group is stopped and any process still carrying this
AIRFLOW_HOME is swept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psutil
import pytest

from airflow_provider_runway.runway.remote_task import TERMINAL_STATUSES as TERMINAL
from tests.processes.metadata import TRANSIENT_DB_ERRORS, MetadataDB

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

AIRFLOW_VERSION = tuple(int(part) for part in version("apache-airflow").split(".")[:2])
# Airflow >= 3.3 keeps the Runway task id in task_state_store; older ones in a Variable.
HAS_TASK_STATE_STORE = AIRFLOW_VERSION >= (3, 3)
# Distinctive so that a scan of every byte under AIRFLOW_HOME finds it if it ever leaks.
PROCESS_API_KEY = "rwprocs-key-5b8e2c7f19d4a06e3c1b7f2a9d8e4c60"
BIN = Path(sys.executable).parent  # the venv running pytest: its `airflow` is the one under test
TAIL_LINES = 40
# A user's action on a deferred task reaches the trigger (its on_kill) only from Airflow 3.3.
needs_trigger_on_kill = pytest.mark.skipif(
    AIRFLOW_VERSION < (3, 3),
    reason=(
        f"Airflow {'.'.join(map(str, AIRFLOW_VERSION))}: BaseTrigger.on_kill() exists from Airflow 3.3; older "
        "triggerers cancel a trigger without calling it, so a user's action never reaches the Runway API"
    ),
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_TRY_AGAIN: tuple[type[Exception], ...] = (*TRANSIENT_DB_ERRORS, urllib.error.URLError, ConnectionError)

T = TypeVar("T")


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        return f"<unreadable: {err}>"
    return "\n".join(line[:400] for line in text.splitlines()[-lines:])


@dataclass
class Component:
    """One started Airflow process (and its process group)."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_at: float
    expected_alive: bool = True

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class AirflowStack:
    """The running stack plus helpers to drive it as a user would and to kill parts of it."""

    home: Path
    env: dict[str, str]
    api_port: int
    db: MetadataDB
    emulator: EmulatorHandle
    components: dict[str, Component] = field(default_factory=dict)
    history: list[Component] = field(default_factory=list)
    # Trigger rows captured while sensors were deferred (rows are deleted once they fire).
    trigger_snapshots: list[dict[str, Any]] = field(default_factory=list)
    finished_runs: list[tuple[str, str]] = field(default_factory=list)
    failed: bool = False
    _token: str | None = None

    @property
    def process_logs(self) -> Path:
        return self.home / "process-logs"

    # -- processes -------------------------------------------------------------------------

    def _command(self, args: tuple[str, ...]) -> dict[str, Any]:
        """``airflow <args>`` in the home, with the stack's environment and no stdin."""
        return {"args": [str(BIN / "airflow"), *args], "cwd": self.home, "env": self.env, "stdin": subprocess.DEVNULL}

    def start(self, name: str, *args: str) -> Component:
        """Start ``airflow <args>`` in its own session; output goes to process-logs/<name>-<n>.log."""
        count = sum(1 for c in self.history if c.name == name)
        log_path = self.process_logs / f"{name}-{count + 1}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(**self._command(args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        component = Component(name, proc, log_path, time.time())
        self.components[name] = component
        self.history.append(component)
        return component

    def kill(self, name: str, sig: int = signal.SIGKILL) -> float:
        """Signal the component's whole process group (its forked children die with it)."""
        component = self.components[name]
        component.expected_alive = False
        killed_at = time.time()
        with suppress(ProcessLookupError):
            os.killpg(component.proc.pid, sig)
        component.proc.wait(timeout=30)
        return killed_at

    def raise_priority(self, name: str, niceness: int = -10) -> None:
        """Renice a component and its children: CPU taken by other work on the machine then no
        longer shows up as a stall of this process (its own work still does)."""
        leader = psutil.Process(self.components[name].proc.pid)
        for proc in (leader, *leader.children(recursive=True)):
            proc.nice(niceness)

    def check_alive(self) -> None:
        for component in self.components.values():
            if component.expected_alive and not component.alive:
                raise AssertionError(
                    f"airflow {component.name} (pid {component.proc.pid}) exited with {component.proc.returncode}"
                    f"\n{self.tails()}"
                )

    def airflow(self, *args: str, timeout: float = 120) -> str:
        """Run a one-off ``airflow`` CLI command; its output is kept under process-logs too."""
        count = sum(1 for _ in self.process_logs.glob("cli-*.log"))
        log_path = self.process_logs / f"cli-{count + 1}-{args[0]}.log"
        result = subprocess.run(**self._command(args), capture_output=True, timeout=timeout, check=False)
        output = (result.stdout + result.stderr).decode(errors="replace")
        log_path.write_text(f"$ airflow {' '.join(args)}\n{output}")
        if result.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} exited with {result.returncode}:\n{output[-4000:]}")
        return output

    def full_collections(self, command: str) -> list[tuple[float, float]]:
        """(start, end) unix times of each long full garbage collection in the ``airflow <command>``
        processes (a triggerer's trigger runner included), as recorded by gc_watch/sitecustomize.py."""
        pauses = []
        for record in self.process_logs.glob("gc-*.log"):
            for line in record.read_text().splitlines():
                end, seconds, _pid, *argv = line.split()
                if argv == [command]:
                    pauses.append((float(end) - float(seconds), float(end)))
        return sorted(pauses)

    def tails(self, lines: int = TAIL_LINES) -> str:
        parts = []
        for component in self.history:
            state = "running" if component.alive else f"exited {component.proc.returncode}"
            parts.append(
                f"----- {component.log_path.name} (pid {component.proc.pid}, {state}) -----\n"
                f"{_tail(component.log_path, lines)}"
            )
        return "\n".join(parts)

    def wait_for(self, what: str, predicate: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
        """Poll ``predicate`` until it returns something truthy; fail with process log tails."""
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            try:
                result = predicate()
            except _TRY_AGAIN as err:
                result, last_error = None, err  # DB locked or busy emulator: try again
            if result:
                return result
            self.check_alive()
            if time.monotonic() >= deadline:
                note = f" (last error: {last_error!r})" if last_error else ""
                raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}{note}\n{self.tails()}")
            time.sleep(interval)

    # -- DAG runs --------------------------------------------------------------------------

    def sensors_deferred_and_polled(
        self, dag_id: str, run_id: str, count: int, sensor_ids: tuple[str, ...] = ("wait",)
    ) -> dict[str, Any] | None:
        """All ``count`` mapped sensors (task ids ``sensor_ids``) deferred and every Runway task
        polled, else None.

        Fails fast (not by timeout) if a Runway task already finished: the machine is then too
        slow for the test's generation time.
        """
        stats = self.emulator.stats()
        finished = {t: s["status"] for t, s in stats["tasks"].items() if s["status"] in TERMINAL}
        assert not finished, f"Runway tasks finished before every sensor was deferred: {finished}"
        sensors = [ti for ti in self.db.task_instances(dag_id, run_id) if ti["task_id"] in sensor_ids]
        if len(sensors) != count or any(ti["state"] != "deferred" for ti in sensors):
            return None
        if sum(1 for s in stats["tasks"].values() if s["polls"] > 0) != count:
            return None
        return {"sensors": sensors, "stats": stats}

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        self.wait_for(f"DAG {dag_id} to be parsed and serialized", lambda: self.db.has_dag(dag_id), timeout)

    def trigger(self, dag_id: str, label: str, conf: dict[str, Any] | None = None) -> str:
        """Start a DAG run through the REST API, as the UI's Trigger button does."""
        self.wait_for_dag(dag_id)
        run_id = f"{label}__{uuid.uuid4().hex[:8]}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        status, answer = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", body, authorized=True)
        assert status == 200, f"triggering {dag_id} answered {status}: {answer}"
        return run_id

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        def finished() -> str | None:
            state = self.db.dag_run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        state = self.wait_for(f"DAG run {dag_id}/{run_id} to finish", finished, timeout, interval=1.0)
        self.finished_runs.append((dag_id, run_id))
        return state

    def task_log_folder(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Path:
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return folder / f"map_index={map_index}" if map_index >= 0 else folder

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int, map_index: int = -1) -> str:
        folder = self.task_log_folder(dag_id, run_id, task_id, map_index)
        path = folder / f"attempt={attempt}.log"
        assert path.is_file(), f"no task log at {path}; present: {sorted(str(p) for p in folder.rglob('*'))}"
        return path.read_text(errors="replace")

    def trigger_logs(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, str]:
        """The triggerer's log files of one task instance, by file name (``...trigger.<job id>.log``)."""
        folder = self.task_log_folder(dag_id, run_id, task_id, map_index)
        paths = sorted(folder.glob("*.log*")) if folder.is_dir() else []
        return {p.name: p.read_text(errors="replace") for p in paths if ".trigger." in p.name}

    # -- the public REST API, called as a user would ----------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def api(self, method: str, path: str, body: Any = None, *, authorized: bool = False) -> tuple[int, Any]:
        """One call to the running api-server: (HTTP status, decoded JSON body or text); never raises on 4xx/5xx.

        ``authorized`` logs in as the admin user first (once per stack).
        """
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if authorized:
            headers["Authorization"] = f"Bearer {self.api_token()}"
        request = urllib.request.Request(self.api_url + path, data=data, headers=headers, method=method)
        try:
            with _NO_PROXY.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def api_token(self) -> str:
        """A JWT for SimpleAuthManager's ``admin`` user, from ``POST /auth/token`` with the password that
        the api-server generated into AIRFLOW_HOME at startup (the login a user or script would do)."""
        if self._token is not None:
            return self._token
        passwords_file = self.home / "simple_auth_manager_passwords.json.generated"

        def admin_password() -> str | None:
            try:
                return str(json.loads(passwords_file.read_text())["admin"])
            except (OSError, ValueError, KeyError):
                return None  # not written (completely) yet

        password = self.wait_for(f"the api-server to write {passwords_file.name}", admin_password, 60)
        status, answer = self.api("POST", "/auth/token", {"username": "admin", "password": password})
        assert status == 201 and isinstance(answer, dict), f"POST /auth/token answered {status}: {answer}"
        self._token = str(answer["access_token"])
        return self._token

    # -- worker processes ------------------------------------------------------------------

    def task_runner(self, ti_id: str, under: str = "scheduler") -> tuple[psutil.Process, list[str]]:
        """The process executing a task instance, with the chain of titles above it up to ``under``.

        LocalExecutor workers are children of the scheduler titled ``airflow worker --
        LocalExecutor...``; a Celery worker's pool processes are children of ``airflow celery
        worker``. Each runs the task's supervisor and forks the task runner, which Airflow titles
        ``airflow worker -- <task instance uuid>``.
        """
        wanted = uuid.UUID(str(ti_id))
        top = psutil.Process(self.components[under].proc.pid)
        prefix = "airflow worker -- "
        for proc in top.children(recursive=True):
            try:
                title = " ".join(proc.cmdline()).strip()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if not title.startswith(prefix) or title.startswith(prefix + "LocalExecutor"):
                continue
            try:
                found = uuid.UUID(title[len(prefix) :].split()[0])
            except ValueError:
                continue
            if found == wanted:
                chain = []
                for parent in proc.parents():
                    chain.append(f"{parent.pid} {' '.join(parent.cmdline()).strip()[:100]}")
                    if parent.pid == top.pid:
                        break
                return proc, [f"{proc.pid} {title}", *chain]
        raise LookupError(f"no task runner process for task instance {ti_id}")

    def api_key_in_files(self) -> dict[str, int]:
        """Occurrences of PROCESS_API_KEY in every file under AIRFLOW_HOME, by relative path."""
        key = PROCESS_API_KEY.encode()
        return {
            str(path.relative_to(self.home)): path.read_bytes().count(key)
            for path in sorted(self.home.rglob("*"))
            if path.is_file()
        }

    # -- teardown --------------------------------------------------------------------------

    def stop_all(self) -> list[str]:
        """Stop every process group, then sweep anything still using this AIRFLOW_HOME."""
        for component in reversed(self.history):
            component.expected_alive = False
            if component.alive:
                with suppress(ProcessLookupError):
                    os.killpg(component.proc.pid, signal.SIGTERM)
        stopping = time.monotonic()
        took = {}
        for component in self.history:
            with suppress(subprocess.TimeoutExpired):
                component.proc.wait(timeout=20)
            took[component.log_path.stem] = time.monotonic() - stopping
            with suppress(ProcessLookupError, PermissionError):  # the group may outlive its leader
                os.killpg(component.proc.pid, signal.SIGKILL)
            if component.alive:
                component.proc.wait(timeout=10)
        print("\nstack stopped: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in took.items()))
        strays = []
        deadline = time.monotonic() + 10
        while True:
            left = self._processes_of_this_home()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for proc in left:
            try:
                strays.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        return strays

    def _processes_of_this_home(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            if proc.pid == os.getpid():
                continue
            try:
                if proc.environ().get("AIRFLOW_HOME") == str(self.home):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found
