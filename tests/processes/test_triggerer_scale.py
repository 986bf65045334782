"""Real Airflow processes: one triggerer holds hundreds of deferred Runway waits and finishes them all.

One mapped sensor over ``WAITS`` Runway tasks (created by one task, so that worker time goes to
the waits): every sensor defers, the one triggerer runs all their triggers at once, polling
every 5 s, and once the tasks succeed every trigger fires and every sensor succeeds.

Airflow's triggerer logs "Triggerer's async thread was blocked" when its event loop stalls for
more than 0.2 s; a Runway trigger must never cause that while the waits run. The triggerer runs
at a raised CPU priority so that other work on a shared 2-core machine (the stack's own workers
and scheduler included) is not reported as a stall; the loop's own work still is.
Slow (minutes, mostly Airflow running every sensor twice in a worker): ``make test-scale``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.tasks import SUCCEEDED, THROTTLED
from tests.processes.emulated_api import ThrottledQueue, finish_runway_tasks
from tests.processes.stack import PROCESS_API_KEY

if TYPE_CHECKING:
    from tests.processes.stack import AirflowStack

pytestmark = [pytest.mark.processes, pytest.mark.scale]

DAG_ID = "runway_proc_scale"
WAITS = 300
BLOCKED = "Triggerer's async thread was blocked"
RUNNING_TRIGGERS = re.compile(r"(\d+) triggers currently running")


def _triggerer_log(stack: AirflowStack) -> list[str]:
    return stack.components["triggerer"].log_path.read_text(errors="replace").splitlines()


def test_one_triggerer_holds_hundreds_of_runway_waits(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    queue = ThrottledQueue(emulator, PROCESS_API_KEY)  # every task waits THROTTLED until released
    stack.raise_priority("triggerer")
    log_start = len(_triggerer_log(stack))
    started = time.time()
    run_id = stack.trigger(DAG_ID, "scale", conf={"count": WAITS})
    held: list[int] = []

    def all_deferred_and_polled() -> dict[str, Any] | None:
        held.append(sum(1 for row in stack.db.trigger_rows() if row["triggerer_id"] is not None))
        return stack.sensors_deferred_and_polled(DAG_ID, run_id, WAITS)

    stack.wait_for(f"all {WAITS} sensors deferred and polled", all_deferred_and_polled, 1200, interval=2.0)
    all_deferred = time.time()
    stats = emulator.stats()
    runway_ids = [t for t in stats["tasks"] if t != queue.slot_holder]
    assert len(runway_ids) == WAITS
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {THROTTLED}
    all_deferred_and_polled()
    held_at_once = max(held)

    queue.release()
    released = time.time()
    finish_runway_tasks(emulator, runway_ids)
    stack.wait_for("every trigger to fire its event", lambda: not stack.db.trigger_rows(), 300, interval=1.0)
    fired = time.time()
    window = _triggerer_log(stack)[log_start:]
    state = stack.wait_for_run(DAG_ID, run_id, timeout=1200)
    done = time.time()

    sensors = stack.db.task_instances(DAG_ID, run_id, "wait")
    assert state == "success", {ti["state"] for ti in sensors}
    assert [(ti["state"], ti["try_number"]) for ti in sensors] == [("success", 1)] * WAITS
    assert held_at_once == WAITS, f"the triggerer never held every wait at once: {held_at_once} of {WAITS}"
    reported = [int(m.group(1)) for line in window if (m := RUNNING_TRIGGERS.search(line))]
    stats = emulator.stats()
    assert stats["creates"]["count"] == WAITS + 1
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {SUCCEEDED}
    polls = [stats["tasks"][t]["polls"] for t in runway_ids]
    assert min(polls) >= 2, "every trigger polled its task while THROTTLED and again once it had SUCCEEDED"
    blocked = [line[:200] for line in window if BLOCKED in line]
    print(
        f"\ntriggerer scale: one triggerer held {held_at_once} deferred Runway waits at once (its own count: "
        f"{max(reported, default=0)}), polling every 5 s; run start -> all deferred {all_deferred - started:.0f} s, "
        f"tasks released -> every trigger fired {fired - released:.1f} s, -> DAG run success {done - fired:.0f} s; "
        f"total {done - started:.0f} s; polls {sum(polls)} (min per task {min(polls)}); "
        f"blocked-loop warnings while the waits ran: {len(blocked)}"
    )
    assert blocked == [], "\n".join(blocked)
