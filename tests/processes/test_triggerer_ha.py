"""Real Airflow processes, high availability: two triggerers share the Runway waits, one is SIGKILLed.

Airflow runs several triggerers only on a real database, so this stack runs on a PostgreSQL
server the test starts itself. Triggerer A starts alone with room for half the waits
(``--capacity``); once it is full, triggerer B starts and takes the rest. A is then SIGKILLed
mid-wait: when its heartbeat is older than ``[triggerer] triggerer_health_check_threshold``,
``Trigger.assign_unassigned`` hands its triggers to B, which rebuilds them from their kwargs and
polls on. Every wait finishes, nothing is created twice, nothing is cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.runway.remote_task import SUCCEEDED
from tests.processes.emulated_api import RUNS_UNTIL_FINISHED, deletes_of, finish_runway_tasks, polls_between
from tests.processes.launch import HAS_ASYNC_POSTGRES_DRIVER, running_stack
from tests.processes.stack import AIRFLOW_VERSION

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

    from tests.processes.stack import AirflowStack

pytestmark = [
    pytest.mark.processes,
    pytest.mark.ha,
    pytest.mark.skipif(
        AIRFLOW_VERSION < (3, 3) and not HAS_ASYNC_POSTGRES_DRIVER,
        reason=(
            f"Airflow {'.'.join(map(str, AIRFLOW_VERSION))} cannot start on PostgreSQL without an async driver "
            "(asyncpg); Airflow 3.3 runs without it"
        ),
    ),
]

DAG_ID = "runway_proc_ha"
WAITS = 8
CAPACITY_A = WAITS // 2
HEALTH_CHECK_THRESHOLD = 8  # seconds, whole (3.1 reads an int): [triggerer] triggerer_health_check_threshold
ON_KILL_LOG = "Trigger cancelled by user action"


@pytest.fixture(scope="module")
def ha_stack(processes_emulator: EmulatorHandle, postgres_url: str) -> Iterator[AirflowStack]:
    with running_stack(
        processes_emulator,
        db_url=postgres_url,
        triggerers={"triggerer-a": ("--capacity", str(CAPACITY_A))},
        env={"AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(HEALTH_CHECK_THRESHOLD)},
        dag_ids=(DAG_ID,),
    ) as stack:
        yield stack


def _assignment(stack: AirflowStack, runway_ids: list[str]) -> dict[str, int | None]:
    """Runway task id -> id of the triggerer job its trigger is assigned to (None: unassigned)."""
    found: dict[str, int | None] = {}
    for row in stack.db.trigger_rows():
        kwargs = stack.db.decrypt(row["kwargs"])
        for runway_id in runway_ids:
            if runway_id in kwargs:
                found[runway_id] = row["triggerer_id"]
    return found


def test_a_killed_triggerers_waits_are_taken_over(ha_stack: AirflowStack) -> None:
    stack, emulator = ha_stack, ha_stack.emulator
    assert stack.db.is_postgres
    emulator.reset()
    emulator.configure(generation_seconds=RUNS_UNTIL_FINISHED, max_concurrency=32)
    [job_a] = stack.db.running_jobs("TriggererJob")
    run_id = stack.trigger(DAG_ID, "ha", conf={"count": WAITS})
    runway_ids: list[str] = stack.wait_for(
        "the Runway tasks to be created",
        lambda: stack.db.xcom_values(DAG_ID, run_id, "create_runway_tasks").get(-1),
        180,
    )
    assert len(runway_ids) == WAITS

    def a_full() -> dict[str, int | None] | None:
        assigned = _assignment(stack, runway_ids)
        holders = list(assigned.values())
        if len(assigned) != WAITS or holders.count(job_a) != CAPACITY_A or holders.count(None) != WAITS - CAPACITY_A:
            return None
        return assigned

    stack.wait_for(f"triggerer A to take {CAPACITY_A} of the {WAITS} waits", a_full, 240)
    stack.start("triggerer-b", "triggerer")

    def shared() -> dict[str, Any] | None:
        jobs = stack.db.running_jobs("TriggererJob")
        if len(jobs) != 2 or stack.sensors_deferred_and_polled(DAG_ID, run_id, WAITS) is None:
            return None
        assigned = _assignment(stack, runway_ids)
        if sorted(assigned.values(), key=str) != sorted([job_a] * CAPACITY_A + [jobs[1]] * (WAITS - CAPACITY_A)):
            return None
        stats = emulator.stats()
        if any(polls_between(stats, t, stack.components["triggerer-b"].started_at) == 0 for t in runway_ids):
            return None  # every wait polled since B started: both triggerers are running theirs
        return {"job_b": jobs[1], "assigned": assigned}

    seen = stack.wait_for("triggerers A and B to share the waits, each polling its own", shared, 240)
    job_b: int = seen["job_b"]
    of_a = sorted(t for t, job in seen["assigned"].items() if job == job_a)
    of_b = sorted(t for t, job in seen["assigned"].items() if job == job_b)

    killed_at = stack.kill("triggerer-a")  # SIGKILL to A's process group: its trigger runner dies too
    assert {ti["state"] for ti in stack.db.task_instances(DAG_ID, run_id, "wait")} == {"deferred"}

    def taken_over() -> dict[str, float] | None:
        if set(_assignment(stack, runway_ids).values()) != {job_b}:
            return None
        stats = emulator.stats()
        firsts = {}
        for task_id in of_a:
            times = [t for t in stats["polls"]["by_task"][task_id]["times"] if t > killed_at + 1.5]
            if not times:
                return None
            firsts[task_id] = min(times)
        return firsts

    resumed = stack.wait_for("triggerer B to take A's waits over and poll them", taken_over, 120)
    finish_runway_tasks(emulator, runway_ids)
    state = stack.wait_for_run(DAG_ID, run_id, timeout=240)

    sensors = stack.db.task_instances(DAG_ID, run_id, "wait")
    assert state == "success", sensors
    # Resumed by B, not by an Airflow retry of the sensor.
    assert [(ti["state"], ti["try_number"]) for ti in sensors] == [("success", 1)] * WAITS
    stats = emulator.stats()
    assert (stats["creates"]["count"], stats["creates"]["attempts"]) == (WAITS, WAITS), stats["creates"]
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    assert all(deletes_of(emulator, t) == [] for t in runway_ids)
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {SUCCEEDED}
    takeover = min(resumed.values()) - killed_at
    # B's own waits were polled on through the takeover.
    for task_id in of_b:
        assert polls_between(stats, task_id, killed_at, killed_at + HEALTH_CHECK_THRESHOLD + 2) >= 1, task_id
    # B ran A's triggers (its log file per trigger) and never ran on_kill for any.
    for map_index, runway_id in enumerate(runway_ids):
        logs = stack.trigger_logs(DAG_ID, run_id, "wait", map_index)
        assert not any(ON_KILL_LOG in text for text in logs.values()), (map_index, logs)
        if runway_id in of_a:
            assert any(name.endswith(f".trigger.{job_b}.log") for name in logs), (map_index, sorted(logs))
    print(
        f"\ntriggerer HA (PostgreSQL): {WAITS} waits, A held {len(of_a)}, B held {len(of_b)}; A SIGKILLed, "
        f"B polled A's waits {takeover:.1f} s later (health check threshold {HEALTH_CHECK_THRESHOLD:.0f} s, "
        f"heartbeat 1 s); creates={stats['creates']['count']}, cancels={stats['cancels']['count']}"
    )
