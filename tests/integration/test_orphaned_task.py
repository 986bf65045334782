"""A task process that outlives its Airflow supervisor pays for nothing a retry cannot know.

On a killed worker, Airflow's task runner (in a process group of its own) can outlive the
supervisor that forked it. Everything it records (task state, Variables, log lines) travels
through that supervisor, so a Runway task it creates then would be unknown to the retry, which
would pay for it again. Here a real parent process stands in for the supervisor and is
SIGKILLed; the child (the task process) talks HTTP to the emulator and records through a store
that fails as the supervisor's pipe does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.runway_emulator(generation_seconds=3600)]

# The task process: records its supervisor (its parent), says ready, waits for "go", then creates.
TASK = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from types import SimpleNamespace

    from airflow_provider_runway.execution.checkpoint import (
        SupervisorGoneError, TaskStateRecord, ensure_supervised, keep_created,
    )
    from airflow_provider_runway.hooks.runway import RunwayHook


    class SupervisorPipe:
        '''task_state_store as the Task SDK reaches it: through the supervisor, which is gone.'''

        def set(self, name, value):
            raise BrokenPipeError(32, "Broken pipe")


    folder, when = Path(sys.argv[1]), sys.argv[2]
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1)
    record = TaskStateRecord({"ti": ti, "task_state_store": SupervisorPipe()}, None, "runway_task_id")
    hook = RunwayHook()
    body = {"promptImage": "https://images.example.com/cat.jpg", "model": "gen4_turbo", "ratio": "1280:720"}
    if when == "before":
        ensure_supervised(record)  # the supervisor is alive now; it dies while the create is on its way
    (folder / "ready").write_text("")
    while not (folder / "go").exists():
        time.sleep(0.02)
    outcome = {}
    try:
        if when == "after":
            ensure_supervised(record)
        created = hook.create(
            "image_to_video",
            body,
            on_created=lambda c: keep_created(record, record.set(c.id, "the task"), c.id, hook.cancel_unrecorded),
        )
        outcome = {"created": created.id}
    except SupervisorGoneError as err:
        outcome = {"error": str(err)}
    (folder / "outcome.json").write_text(json.dumps(outcome))
    """
)
# The supervisor: forks the task process and waits (it is SIGKILLed).
SUPERVISOR = "import subprocess, sys; subprocess.Popen(sys.argv[1:]).wait()"


def run_orphaned(folder: Path, when: str) -> dict[str, Any]:
    """Start supervisor -> task, SIGKILL the supervisor once the task is ready, let the task go on."""
    script = folder / "task.py"
    script.write_text(TASK)
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, sys.executable, str(script), str(folder), when])
    deadline = time.monotonic() + 60
    while not (folder / "ready").exists():
        assert supervisor.poll() is None and time.monotonic() < deadline, "the task process never got ready"
        time.sleep(0.05)
    os.kill(supervisor.pid, signal.SIGKILL)
    supervisor.wait()
    (folder / "go").write_text("")
    while not (folder / "outcome.json").exists():
        assert time.monotonic() < deadline, "the orphaned task process never finished"
        time.sleep(0.05)
    return dict(json.loads((folder / "outcome.json").read_text()))


def test_a_create_answered_after_the_supervisor_died_is_cancelled_at_once(
    runway_emulator: Any, runway_connection: Any, tmp_path: Path
) -> None:
    outcome = run_orphaned(tmp_path, "before")
    [task] = runway_emulator.stats()["tasks"].values()
    assert task["status"] == "CANCELLED"  # cancelled while PENDING: refunded, and a retry makes it anew
    assert "created after this task's Airflow supervisor died" in outcome["error"]
    assert "cancelled at once" in outcome["error"]


def test_no_create_once_the_supervisor_is_gone(runway_emulator: Any, runway_connection: Any, tmp_path: Path) -> None:
    outcome = run_orphaned(tmp_path, "after")
    assert outcome == {"error": "this task's Airflow supervisor is gone; no Runway task is created from here"}
    assert [r for r in runway_emulator.requests() if r["method"] == "POST"] == []


def test_a_store_that_fails_while_the_supervisor_lives_keeps_the_task() -> None:
    """A glitch of the store alone is not a reason to cancel: the task goes on (and says so)."""
    from types import SimpleNamespace

    from airflow_provider_runway.execution.checkpoint import TaskStateRecord, keep_created

    class Failing:
        def set(self, name: str, value: Any) -> None:
            raise ConnectionError("the API server blinked")

    logged: list[str] = []
    log = SimpleNamespace(error=lambda message, *args: logged.append(message % args))
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1)
    record = TaskStateRecord({"ti": ti, "task_state_store": Failing()}, log, "runway_task_id")
    saved = record.set("task-1", "the task")
    keep_created(record, saved, "task-1", lambda _: pytest.fail("cancelled while the supervisor lives"))
    assert saved is False
    assert logged == ["Could not remember the task: the API server blinked"]
