"""Real Airflow processes: kills of the triggerer and of a worker never make the provider pay twice.

The tests share one stack (see conftest.py) and run in file order; the secrets scan comes last
so that it sees everything the earlier runs wrote.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from airflow_provider_runway.runway.remote_task import TERMINAL_STATUSES as TERMINAL
from tests.processes.emulated_api import RUNS_UNTIL_FINISHED, finish_runway_task, finish_runway_tasks, polls_between
from tests.processes.stack import HAS_TASK_STATE_STORE, PROCESS_API_KEY, AirflowStack

pytestmark = pytest.mark.processes

MAPPED = 10


def test_triggerer_sigkill_while_every_sensor_is_deferred(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=RUNS_UNTIL_FINISHED, max_concurrency=32)
    dag_id = "runway_proc_mapped"
    run_id = stack.trigger(dag_id, "triggerer_kill")

    def every_sensor_deferred_and_polled() -> dict[str, Any] | None:
        seen = stack.sensors_deferred_and_polled(dag_id, run_id, MAPPED)
        triggers = stack.db.trigger_rows() if seen is not None else []
        if seen is None or len(triggers) != MAPPED:
            return None
        return {**seen, "triggers": triggers}

    seen = stack.wait_for(
        f"all {MAPPED} mapped sensors deferred with a running trigger each", every_sensor_deferred_and_polled, 240
    )
    stack.trigger_snapshots.extend(seen["triggers"])
    before = {t: s["status"] for t, s in emulator.stats()["tasks"].items()}
    assert len(before) == MAPPED and not set(before.values()) & TERMINAL, f"finished before the kill: {before}"

    killed_at = stack.kill("triggerer")  # SIGKILL to the triggerer's process group (its runner child too)
    states = {ti["state"] for ti in stack.db.task_instances(dag_id, run_id, "wait")}
    assert states == {"deferred"}, states
    time.sleep(3)  # a quiet gap: nothing may poll while no triggerer runs
    restarted_at = time.time()
    stack.start("triggerer", "triggerer")
    stack.wait_for(
        "the new triggerer to poll every Runway task",
        lambda: all(polls_between(emulator.stats(), t, restarted_at) for t in before),
        120,
    )
    finish_runway_tasks(emulator, before)

    state = stack.wait_for_run(dag_id, run_id, timeout=240)
    sensors = stack.db.task_instances(dag_id, run_id, "wait")
    submits = stack.db.task_instances(dag_id, run_id, "submit")
    assert state == "success", f"{sensors}\n{stack.tails()}"
    assert [ti["state"] for ti in submits] == ["success"] * MAPPED
    assert [ti["state"] for ti in sensors] == ["success"] * MAPPED
    # Resumed by the new triggerer, not by an Airflow retry of the sensor.
    assert [ti["try_number"] for ti in sensors] == [1] * MAPPED

    stats = emulator.stats()
    assert stats["creates"]["count"] == MAPPED, stats["creates"]
    assert stats["creates"]["attempts"] == MAPPED
    assert {s["status"] for s in stats["tasks"].values()} == {"SUCCEEDED"}, stats["tasks"]
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    images = {item["body"]["promptImage"] for item in emulator.requests() if item["method"] == "POST"}
    assert len(images) == MAPPED
    resumed = {}
    for task_id, task in stats["tasks"].items():
        assert polls_between(stats, task_id, 0, killed_at) >= 1
        # The old triggerer (and its trigger-runner child) is really gone ...
        assert polls_between(stats, task_id, killed_at + 1.5, restarted_at) == 0, task_id
        # ... and the new one picked every trigger up and polled it to the end.
        resumed[task_id] = polls_between(stats, task_id, restarted_at)
        assert resumed[task_id] >= 1, (task_id, stats["polls"]["by_task"][task_id])
        assert task["finished_at"] > killed_at
    finished_after_restart = sum(1 for t in stats["tasks"].values() if t["finished_at"] > restarted_at)
    first_resumed = min(min(x for x in s["times"] if x >= restarted_at) for s in stats["polls"]["by_task"].values())
    print(
        f"\ntriggerer kill: {MAPPED} mapped tasks, creates={stats['creates']['count']}, "
        f"polls before kill={sum(polls_between(stats, t, 0, killed_at) for t in stats['tasks'])}, "
        f"polls after restart={sum(resumed.values())} (min per task {min(resumed.values())}), "
        f"Runway tasks finishing after the restart={finished_after_restart}, "
        f"gap kill->first resumed poll={first_resumed - killed_at:.1f} s, "
        f"kill {killed_at - min(c['at'] for c in stats['creates']['items']):.1f} s after the first create"
    )


def test_worker_sigkill_after_submit_reconnects_on_retry(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=RUNS_UNTIL_FINISHED)
    dag_id, task_id = "runway_proc_blocking", "submit_and_wait"
    run_id = stack.trigger(dag_id, "worker_kill")

    def created_stored_and_polled() -> str | None:
        stats = emulator.stats()
        if stats["creates"]["count"] != 1:
            return None
        runway_id = stats["creates"]["items"][0]["task_id"]
        if stats["tasks"][runway_id]["polls"] < 1:
            return None  # the worker polls only after it has stored the id
        return runway_id

    runway_id = stack.wait_for("the worker to create and start polling a Runway task", created_stored_and_polled, 180)
    assert stack.db.stored_runway_task_id(dag_id, run_id, task_id) == runway_id
    [ti] = stack.db.task_instances(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("running", 1), ti
    runner, chain = stack.wait_for("the task runner process", lambda: _find_runner(stack, ti["id"]), 30, interval=0.25)
    print("\nworker kill: process chain (task runner first):\n  " + "\n  ".join(chain))
    os.kill(runner.pid, signal.SIGKILL)
    killed_at = time.time()
    assert emulator.stats()["tasks"][runway_id]["status"] not in TERMINAL
    stack.wait_for(
        "the retry to poll the Runway task again",
        lambda: polls_between(emulator.stats(), runway_id, killed_at + 0.5),
        120,
    )
    finish_runway_task(emulator, runway_id)

    def ti_finished() -> dict[str, Any] | None:
        [current] = stack.db.task_instances(dag_id, run_id, task_id)
        return current if current["state"] in ("success", "failed") else None

    final = stack.wait_for("the retried task to finish", ti_finished, 180, interval=1.0)
    assert final["state"] == "success", f"{final}\n{stack.task_log(dag_id, run_id, task_id, final['try_number'])}"
    assert final["try_number"] == 2, final
    assert stack.wait_for_run(dag_id, run_id, timeout=60) == "success"

    second_try = stack.task_log(dag_id, run_id, task_id, attempt=2)
    assert f"Reconnecting to Runway task {runway_id}" in second_try, second_try[-3000:]
    stats = emulator.stats()
    assert stats["creates"]["count"] == 1, stats["creates"]  # exactly one paid create for one task
    assert stats["creates"]["attempts"] == 1
    assert stats["tasks"][runway_id]["status"] == "SUCCEEDED"
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    assert polls_between(stats, runway_id, killed_at) >= 1
    # The final task reached XCom and the retry bookkeeping is gone once the task succeeded.
    assert stack.db.xcom_values(dag_id, run_id, task_id, key="runway_task")[-1]["status"] == "SUCCEEDED"
    assert stack.db.stored_runway_task_id(dag_id, run_id, task_id) is None
    mechanism = "task_state_store" if HAS_TASK_STATE_STORE else "Variable"
    print(
        f"worker kill: creates={stats['creates']['count']}, "
        f"polls after kill={polls_between(stats, runway_id, killed_at)}, store={mechanism}"
    )


def _find_runner(stack: AirflowStack, ti_id: str) -> Any:
    try:
        return stack.task_runner(ti_id)
    except LookupError:
        return None


def test_retry_after_a_cancelled_runway_task_submits_again(airflow_stack: AirflowStack) -> None:
    """The earlier try's task was CANCELLED (outside Airflow): the retry legitimately pays again, once."""
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=4.0)
    emulator.set_faults(external_cancel={"after_seconds": 2, "count": 1})  # only the first create
    dag_id, task_id = "runway_proc_resubmit", "submit_and_wait"
    run_id = stack.trigger(dag_id, "resubmit")

    assert stack.wait_for_run(dag_id, run_id, timeout=180) == "success"
    [ti] = stack.db.task_instances(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("success", 2), ti
    stats = emulator.stats()
    assert stats["creates"]["count"] == 2, stats["creates"]
    first, second = (item["task_id"] for item in stats["creates"]["items"])
    assert stats["tasks"][first]["status"] == "CANCELLED"
    assert stats["tasks"][first]["cancel_source"] == "fault"
    assert stats["tasks"][second]["status"] == "SUCCEEDED"
    assert "CANCELLED" in stack.task_log(dag_id, run_id, task_id, attempt=1)
    second_try = stack.task_log(dag_id, run_id, task_id, attempt=2)
    assert f"The earlier try's Runway task {first} ended CANCELLED; submitting a new one" in second_try
    assert "Reconnecting" not in second_try
    assert stack.db.xcom_values(dag_id, run_id, task_id) == {-1: second}


def _occurrences(data: bytes) -> int:
    return data.count(PROCESS_API_KEY.encode())


def test_api_key_never_stored_anywhere(airflow_stack: AirflowStack) -> None:
    """Every byte under AIRFLOW_HOME (logs, sqlite DB and WAL) and the tables that hold task data."""
    stack, emulator = airflow_stack, airflow_stack.emulator
    if not stack.finished_runs:
        pytest.skip("no DAG ran in this session: run the whole module")
    # The key was in use: every API request the emulator saw carried exactly this key.
    api_requests = emulator.requests()
    assert api_requests
    assert all(r["auth_matches_pinned_key"] for r in api_requests)

    files = stack.api_key_in_files()
    scanned = len(files)
    assert any(name.startswith("logs/") for name in files), "no task logs were scanned"
    assert "airflow.db" in files
    leaked = {name: count for name, count in files.items() if count}

    def column(sql: str) -> list[Any]:
        return [row[0] for row in stack.db.query(sql)]

    tables = {
        "xcom": column("SELECT value FROM xcom"),
        "rendered_task_instance_fields": column("SELECT rendered_fields FROM rendered_task_instance_fields"),
        "trigger": [stack.db.decrypt(row["kwargs"]) for row in stack.db.trigger_rows()],
        "trigger (captured while deferred)": [stack.db.decrypt(row["kwargs"]) for row in stack.trigger_snapshots],
        "task_instance.next_kwargs": column("SELECT next_kwargs FROM task_instance"),
        "variable": [
            stack.db.decrypt(v) if e else v for v, e in stack.db.query("SELECT val, is_encrypted FROM variable")
        ],
    }
    if HAS_TASK_STATE_STORE:
        tables["task_state_store"] = column("SELECT value FROM task_state_store")
    rows = {name: len(values) for name, values in tables.items()}
    in_tables = {name: sum(_occurrences(str(v).encode()) for v in values) for name, values in tables.items()}
    assert rows["xcom"] > 0
    assert rows["rendered_task_instance_fields"] > 0
    assert rows["trigger (captured while deferred)"] == MAPPED
    assert all(PROCESS_API_KEY not in kwargs for kwargs in tables["trigger (captured while deferred)"])
    print(f"\nsecrets: scanned {scanned} files under AIRFLOW_HOME, rows per table {rows}, key occurrences {in_tables}")
    assert leaked == {}, f"the API key occurs in {leaked}"
    assert sum(in_tables.values()) == 0, in_tables
