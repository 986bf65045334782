"""Real Airflow processes: one triggerer holds hundreds of deferred Runway waits and finishes them all.

One mapped sensor over ``WAITS`` Runway tasks (created by one task, so that worker time goes to
the waits): every sensor defers, the one triggerer runs all their triggers at once, polling
every 5 s, and once the tasks succeed every trigger fires and every sensor succeeds.

Airflow's triggerer logs "Triggerer's async thread was blocked" when its event loop stalls for
more than 0.2 s; a Runway trigger must never cause that while the waits run. The triggerer runs
at a raised CPU priority so that other work on a shared 2-core machine (the stack's own workers
and scheduler included) is not reported as a stall; the loop's own work still is.
The watchdog cannot say what stalled the loop. One cause is no trigger's: a full garbage
collection of the trigger runner process (Python 3.11, a few hundred thousand objects) stops
every thread for 0.3-0.5 s on these machines, whichever allocation sets it off; a control run
with 300 of Airflow's own DateTimeSensorAsync waits logs the same warning. Every process of the
stack records its long full collections (gc_watch/sitecustomize.py), and the test fails on any
stall that, without the collections inside it, would still cross the watchdog's threshold.
Slow (minutes, mostly Airflow running every sensor twice in a worker): ``make test-scale``.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_runway.runway.remote_task import RUNNING, SUCCEEDED
from tests.processes.emulated_api import RUNS_UNTIL_FINISHED, finish_runway_tasks

if TYPE_CHECKING:
    from tests.processes.stack import AirflowStack

pytestmark = [pytest.mark.processes, pytest.mark.scale]

DAG_ID = "runway_proc_scale"
WAITS = 300
BLOCKED = re.compile(r"Triggerer's async thread was blocked for ([\d.]+) seconds")
# Airflow's default [triggerer] blocked_main_thread_warning_threshold (3.1 hard-codes it).
WATCHDOG_THRESHOLD = 0.2
# Log timestamps and the collector's own clock readings come from different threads.
CLOCK_SLACK = 0.05
RUNNING_TRIGGERS = re.compile(r"(\d+) triggers currently running")


def _triggerer_log(stack: AirflowStack) -> list[str]:
    return stack.components["triggerer"].log_path.read_text(errors="replace").splitlines()


def _phase(line: str, ends: dict[str, float]) -> str:
    """Which phase of the test a triggerer log line (ISO timestamp first) belongs to."""
    at = datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
    return next((name for name, end in ends.items() if at <= end), "after")


def _stalls(window: list[str]) -> list[tuple[str, float, float]]:
    """(log line, start, end) of every stall the triggerer's watchdog reported."""
    stalls = []
    for line in window:
        if match := BLOCKED.search(line):
            end = datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
            stalls.append((line, end - float(match.group(1)), end))
    return stalls


def _not_collecting(start: float, end: float, collections: list[tuple[float, float]]) -> float:
    """Seconds of the stall [start, end] outside every full garbage collection of the process."""
    inside = sum(
        max(0.0, min(end, c_end + CLOCK_SLACK) - max(start, c_start - CLOCK_SLACK)) for c_start, c_end in collections
    )
    return max(0.0, end - start - inside)


def test_one_triggerer_holds_hundreds_of_runway_waits(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=RUNS_UNTIL_FINISHED, max_concurrency=WAITS)
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
    runway_ids = list(stats["tasks"])
    assert len(runway_ids) == WAITS
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {RUNNING}
    all_deferred_and_polled()
    held_at_once = max(held)

    finish_runway_tasks(emulator, runway_ids)
    released = time.time()
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
    assert stats["creates"]["count"] == WAITS
    assert stats["cancels"]["count"] == 0, stats["cancels"]
    assert {stats["tasks"][t]["status"] for t in runway_ids} == {SUCCEEDED}
    polls = [stats["tasks"][t]["polls"] for t in runway_ids]
    assert min(polls) >= 2, "every trigger polled its task while RUNNING and again once it had SUCCEEDED"
    phases = {"filling": all_deferred, "holding": released, "firing": fired}
    collections = stack.full_collections("triggerer")
    stalls = [
        (f"[{_phase(line, phases)}] {line[:120]}", end - start, _not_collecting(start, end, collections))
        for line, start, end in _stalls(window)
    ]
    per_phase = ", ".join(f"{p} {sum(1 for s in stalls if s[0].startswith(f'[{p}]'))}" for p in phases)
    print(
        f"\ntriggerer scale: one triggerer held {held_at_once} deferred Runway waits at once (its own count: "
        f"{max(reported, default=0)}), polling every 5 s; run start -> all deferred {all_deferred - started:.0f} s, "
        f"tasks finished -> every trigger fired {fired - released:.1f} s, -> DAG run success {done - fired:.0f} s; "
        f"total {done - started:.0f} s; polls {sum(polls)} (min per task {min(polls)}); "
        f"blocked-loop warnings while the waits ran: {len(stalls)} ({per_phase}); "
        + "; ".join(f"{took:.2f} s, of it {took - rest:.2f} s a full garbage collection" for _, took, rest in stalls)
    )
    by_the_loop = [
        f"{line} ({rest:.2f} s outside garbage collection)" for line, _, rest in stalls if rest > WATCHDOG_THRESHOLD
    ]
    assert by_the_loop == [], "\n".join(by_the_loop)
