"""Real Airflow processes: a user acting on a deferred sensor makes the trigger cancel its Runway task.

Airflow 3.3 added ``BaseTrigger.on_kill()``: when the task instance of a running trigger is marked
failed or success, or cleared, the triggerer's ``clean_unused`` deletes the trigger row, the
supervisor's ``update_triggers`` queues it for cancellation and the runner cancels its asyncio task
with the "user action" message, which makes ``run_trigger`` await ``trigger.on_kill()``.
``RunwayTaskTrigger.on_kill`` DELETEs the Runway task. Older triggerers cancel the asyncio task
without that message and never call ``on_kill`` (3.1 has no ``BaseTrigger.on_kill`` at all).

Here the user is a script calling the public REST API of the running api-server, logged in as the
SimpleAuthManager admin (``POST /auth/token``). The file sorts before ``test_never_pays_twice.py``
so that its secrets scan also covers the logs written here.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.processes.emulated_api import deletes_of, finish_runway_task
from tests.processes.stack import AirflowStack, needs_trigger_on_kill

pytestmark = [pytest.mark.processes, needs_trigger_on_kill]

DAG_ID = "runway_proc_user_kill"
SENSORS = 4  # map indexes 0-2 are acted on, 3 is left alone
CONTROL = 3
# Every Runway task runs this long unless cancelled or finished by the test: through all sensors
# deferring and the three user actions.
GENERATION_SECONDS = 60.0
CANCEL_WAIT = 30.0  # bound from the API call to the emulator seeing the DELETE
ON_KILL_LOG = "Trigger cancelled by user action, invoking on_kill"


def _ti_path(run_id: str, map_index: int) -> str:
    return f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/wait/{map_index}"


def _runway_ids(stack: AirflowStack, run_id: str) -> dict[int, str]:
    return {index: str(value) for index, value in stack.db.xcom_values(DAG_ID, run_id, "submit").items()}


def _trigger_logs(stack: AirflowStack, run_id: str, map_index: int) -> str:
    return "\n".join(stack.trigger_logs(DAG_ID, run_id, "wait", map_index).values())


def test_user_kill_of_a_deferred_sensor_cancels_only_its_runway_task(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=GENERATION_SECONDS, max_concurrency=32)
    run_id = stack.trigger(DAG_ID, "user_kill")

    def every_sensor_deferred_and_polled() -> dict[int, str] | None:
        seen = stack.sensors_deferred_and_polled(DAG_ID, run_id, SENSORS)
        if seen is None:
            return None
        stats = seen["stats"]
        ids = _runway_ids(stack, run_id)
        if len(ids) != SENSORS or any(stats["tasks"].get(i, {}).get("polls", 0) < 1 for i in ids.values()):
            return None
        return ids

    runway_ids = stack.wait_for(
        f"all {SENSORS} sensors deferred, each trigger polling its Runway task", every_sensor_deferred_and_polled, 240
    )
    assert len(set(runway_ids.values())) == SENSORS

    # The API really checks who asks: without the token nothing changes.
    status, answer = stack.api("PATCH", _ti_path(run_id, 0), {"new_state": "failed"})
    assert status == 401, (status, answer)
    assert stack.db.task_instances(DAG_ID, run_id, "wait")[0]["state"] == "deferred"

    def mark(map_index: int, state: str) -> tuple[int, Any]:
        return stack.api("PATCH", _ti_path(run_id, map_index), {"new_state": state}, authorized=True)

    def clear(map_index: int) -> tuple[int, Any]:
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": [["wait", map_index]],
            "only_failed": False,
            "reset_dag_runs": False,
        }
        return stack.api("POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances", body, authorized=True)

    actions = [
        (0, "mark failed", lambda: mark(0, "failed"), "failed"),
        (1, "mark success", lambda: mark(1, "success"), "success"),
        (2, "clear", lambda: clear(2), None),
    ]
    cancelled: list[str] = []
    latencies: dict[str, float] = {}
    for map_index, label, act, new_state in actions:
        runway_id = runway_ids[map_index]
        acted_at = time.time()
        status, answer = act()
        assert status == 200, f"{label}: {status} {answer}"
        [ti] = answer["task_instances"]
        assert (ti["task_id"], ti["map_index"], ti["state"]) == ("wait", map_index, new_state), (label, ti)

        def cancel_seen(runway_id: str = runway_id) -> dict[str, Any] | None:
            items = emulator.stats()["cancels"]["items"]
            return next((c for c in items if c["task_id"] == runway_id), None)

        cancel = stack.wait_for(f"{label} to cancel Runway task {runway_id}", cancel_seen, CANCEL_WAIT, interval=0.2)
        cancelled.append(runway_id)
        latencies[label] = cancel["at"] - acted_at
        assert (cancel["source"], cancel["status_before"]) == ("api", "RUNNING"), cancel

        stats = emulator.stats()
        # Exactly the killed sensors' tasks were cancelled, each once; every other one still runs.
        assert [c["task_id"] for c in stats["cancels"]["items"]] == cancelled, stats["cancels"]
        assert stats["tasks"][runway_id]["status"] == "CANCELLED"
        assert stats["tasks"][runway_id]["cancel_source"] == "api"
        for other in range(map_index + 1, SENSORS):
            assert stats["tasks"][runway_ids[other]]["status"] == "RUNNING", (label, other, stats["tasks"])
        assert stack.db.task_instances(DAG_ID, run_id, "wait")[CONTROL]["state"] == "deferred"

    # The untouched sensor's trigger keeps polling its task after all three kills ...
    last_kill = time.time()
    control_id = runway_ids[CONTROL]
    stack.wait_for(
        "the untouched sensor's trigger to keep polling",
        lambda: sum(1 for t in emulator.stats()["polls"]["by_task"][control_id]["times"] if t > last_kill) >= 3,
        30,
    )
    # ... and sees its Runway task succeed: the DAG run finishes once it has.
    finish_runway_task(emulator, control_id, timeout=GENERATION_SECONDS + 60)
    state = stack.wait_for_run(DAG_ID, run_id, timeout=120)
    sensors = {ti["map_index"]: ti for ti in stack.db.task_instances(DAG_ID, run_id, "wait")}
    assert state == "failed", sensors  # map index 0 was marked failed
    assert (sensors[0]["state"], sensors[0]["try_number"]) == ("failed", 1)
    assert (sensors[1]["state"], sensors[1]["try_number"]) == ("success", 1)
    # The cleared sensor ran again and found its Runway task gone (cancelled and deleted).
    assert (sensors[2]["state"], sensors[2]["try_number"]) == ("failed", 2)
    assert (sensors[CONTROL]["state"], sensors[CONTROL]["try_number"]) == ("success", 1)

    stats = emulator.stats()
    assert stats["creates"]["count"] == SENSORS, stats["creates"]  # a clear of the sensor never pays again
    assert [c["task_id"] for c in stats["cancels"]["items"]] == cancelled
    assert stats["tasks"][control_id]["status"] == "SUCCEEDED"
    assert stats["tasks"][control_id]["cancel_source"] is None
    assert deletes_of(emulator, control_id) == []
    for map_index in range(3):
        # One accepted DELETE per killed task (the cleared sensor's re-run may add a refused one).
        assert deletes_of(emulator, runway_ids[map_index]).count(204) == 1, map_index
    # The DELETE came from the trigger's on_kill in the triggerer, not from a worker.
    for map_index in range(3):
        logs = _trigger_logs(stack, run_id, map_index)
        assert ON_KILL_LOG in logs, (map_index, logs[-3000:])
        assert f"Cancelled Runway task {runway_ids[map_index]}" in logs, (map_index, logs[-3000:])
    assert ON_KILL_LOG not in _trigger_logs(stack, run_id, CONTROL)
    print(
        "\nuser kill: "
        + ", ".join(f"{label} -> cancel after {seconds:.1f} s" for label, seconds in latencies.items())
        + f"; control polled {stats['tasks'][control_id]['polls']} times and SUCCEEDED, "
        f"creates={stats['creates']['count']}, cancels={stats['cancels']['count']}"
    )
