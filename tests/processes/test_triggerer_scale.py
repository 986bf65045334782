"""Real Airflow processes: one triggerer holds hundreds of deferred Runway waits and finishes them all.

One mapped sensor over ``WAITS`` Runway tasks (created by one task, so that the worker time goes
to the waits): every sensor defers, the one triggerer runs all their triggers at once, polling
every 5 s, and once the tasks succeed every trigger fires and every sensor succeeds. Airflow's
triggerer logs "Triggerer's async thread was blocked" when its event loop stalls (0.2 s by
default): a Runway trigger must never cause that. Slow (minutes): ``make test-scale``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_runway.tasks import SUCCEEDED
from tests.processes.emulated_api import finish_runway_tasks
from tests.processes.stack import AirflowStack

pytestmark = [pytest.mark.processes, pytest.mark.scale]

DAG_ID = "runway_proc_scale"
WAITS = 300
# Until every sensor has deferred and been polled, no task may finish; the test then finishes them.
GENERATION_SECONDS = 600.0
BLOCKED = "Triggerer's async thread was blocked"


def _blocked_warnings(stack: AirflowStack) -> list[str]:
    lines = []
    for path in sorted(Path(stack.process_logs).glob("triggerer-*.log")):
        lines += [line[:300] for line in path.read_text(errors="replace").splitlines() if BLOCKED in line]
    return lines


def test_one_triggerer_holds_hundreds_of_runway_waits(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=GENERATION_SECONDS, max_concurrency=WAITS)
    blocked_before = _blocked_warnings(stack)
    started = time.time()
    run_id = stack.trigger(DAG_ID, "scale", conf={"count": WAITS})
    held: list[int] = []

    def all_deferred_and_polled() -> dict[str, Any] | None:
        held.append(sum(1 for row in stack.db.trigger_rows() if row["triggerer_id"] is not None))
        return stack.sensors_deferred_and_polled(DAG_ID, run_id, WAITS)

    seen = stack.wait_for(f"all {WAITS} sensors deferred and polled", all_deferred_and_polled, 900, interval=2.0)
    all_deferred = time.time()
    held.append(sum(1 for row in stack.db.trigger_rows() if row["triggerer_id"] is not None))
    runway_ids = list(seen["stats"]["tasks"])
    assert len(runway_ids) == WAITS

    finish_runway_tasks(emulator, runway_ids, timeout=GENERATION_SECONDS + 120)
    finished = time.time()

    def triggers_fired() -> bool:
        return not stack.db.trigger_rows()

    stack.wait_for("every trigger to fire its event", triggers_fired, 300, interval=1.0)
    fired = time.time()
    state = stack.wait_for_run(DAG_ID, run_id, timeout=900)
    done = time.time()

    sensors = stack.db.task_instances(DAG_ID, run_id, "wait")
    assert state == "success", {ti["state"] for ti in sensors}
    assert [(ti["state"], ti["try_number"]) for ti in sensors] == [("success", 1)] * WAITS
    assert max(held) == WAITS, f"the triggerer never held every wait at once: {max(held)} of {WAITS}"
    stats = emulator.stats()
    assert stats["creates"]["count"] == WAITS
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {SUCCEEDED}
    polls = [stats["tasks"][t]["polls"] for t in runway_ids]
    assert min(polls) >= 2, "every trigger polled its task while RUNNING and again once it had SUCCEEDED"
    assert _blocked_warnings(stack) == blocked_before, "\n".join(_blocked_warnings(stack)[len(blocked_before) :])
    print(
        f"\ntriggerer scale: one triggerer held {max(held)} deferred Runway waits (poll every 5 s); "
        f"run start -> all deferred {all_deferred - started:.0f} s, "
        f"tasks finished -> every trigger fired {fired - finished:.1f} s, "
        f"-> DAG run success {done - fired:.0f} s; total {done - started:.0f} s; "
        f"polls {sum(polls)} (min per task {min(polls)}), blocked-loop warnings 0"
    )
