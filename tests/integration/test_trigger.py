"""RunwayTaskTrigger run on a real event loop against the emulator."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import time
from typing import Any

import pytest
from runway_emulator.pytest_plugin import TEST_API_KEY

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.triggers.background_import import HOOK_MODULE
from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"

pytestmark = pytest.mark.integration


def run_trigger(trigger: RunwayTaskTrigger, limit: float = 30.0) -> list[dict[str, Any]]:
    """Drain the trigger completely: every event it yields, until its generator returns."""

    async def drain() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(drain(), limit))


def submit(**body: Any) -> str:
    return RunwayHook().submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo", **body})


def make_trigger(task_id: str, **kwargs: Any) -> RunwayTaskTrigger:
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("deadline", time.time() + 20)
    kwargs.setdefault("not_visible_until", time.time() + 10)
    return RunwayTaskTrigger(runway_task_id=task_id, **kwargs)


def test_serialize_round_trip_is_plain_json_without_the_key() -> None:
    trigger = make_trigger("abc", runway_conn_id="runway_default", deadline=1_900_000_000.5)
    classpath, kwargs = trigger.serialize()
    text = json.dumps(kwargs)
    assert TEST_API_KEY not in text
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**json.loads(text))
    assert rebuilt.serialize() == (classpath, kwargs)


def test_exactly_one_success_event(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=0.6, not_visible_seconds=0.5)
    task_id = submit()
    events = run_trigger(make_trigger(task_id))
    assert len(events) == 1
    [event] = events
    assert event["status"] == "success"
    assert event["task"]["status"] == "SUCCEEDED"
    assert event["task"]["output"]


@pytest.mark.slow  # real retry back-offs (~9 s)
def test_transient_errors_do_not_end_the_wait(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0)
    task_id = submit()
    runway_emulator.set_faults(
        server_error={"count": 4, "status": 503, "route": "poll"},
        reset={"count": 2, "route": "poll"},
        rate_limit={"count": 2, "route": "poll", "retry_after": 0.2},
    )
    [event] = run_trigger(make_trigger(task_id))
    assert event["status"] == "success"
    assert runway_emulator.stats()["faults"]["server_error"]["remaining"] == 0


def test_deadline_yields_a_timeout_event_with_the_last_status(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=60, not_visible_seconds=0)
    task_id = submit()
    [event] = run_trigger(make_trigger(task_id, deadline=time.time() + 1.5))
    assert event["status"] == "timeout"
    assert event["task"]["status"] in ("PENDING", "THROTTLED", "RUNNING")
    assert "last status" in event["message"]


def test_not_visible_within_grace_keeps_waiting(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(not_visible_seconds=1.5, generation_seconds=0.5)
    task_id = submit()
    [event] = run_trigger(make_trigger(task_id, not_visible_until=time.time() + 5))
    assert event["status"] == "success"


def test_not_visible_past_grace_is_an_unknown_id(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(not_visible_seconds=60)
    task_id = submit()
    [event] = run_trigger(make_trigger(task_id, not_visible_until=time.time() + 1))
    assert event["status"] == "error"
    assert "unknown" in event["message"]


def test_malformed_answers_end_with_a_clear_error_not_a_loop(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=60, not_visible_seconds=0)
    task_id = submit()
    runway_emulator.set_faults(malformed={"count": 100, "body": "html", "route": "poll"})
    [event] = run_trigger(make_trigger(task_id, poll_interval=0.05, max_unreadable=5))
    assert event["status"] == "error"
    assert "unreadable" in event["message"]


def test_failed_task_reports_failure_code(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    task_id = submit(promptText="a forbidden scene")
    [event] = run_trigger(make_trigger(task_id))
    assert event["status"] == "failed"
    assert event["task"]["failureCode"].startswith("SAFETY.INPUT")


def test_trigger_restarted_from_kwargs_finishes_the_same_task_on_its_poll_grid(
    runway_emulator: Any, runway_connection: Any
) -> None:
    """Stopped right after a poll and rebuilt from its kwargs, it does not poll again before the interval."""
    runway_emulator.configure(generation_seconds=3.0, not_visible_seconds=0)
    task_id = submit()
    trigger = make_trigger(task_id, poll_interval=2.0)

    def polls() -> list[float]:
        return list(runway_emulator.stats()["polls"]["by_task"].get(task_id, {}).get("times", []))

    async def first_poll_then_stop() -> None:
        gen = trigger.run()
        task = asyncio.ensure_future(gen.__anext__())
        while not polls():
            await asyncio.sleep(0.02)
        task.cancel()  # what a triggerer shutdown does

    asyncio.run(first_poll_then_stop())
    _, kwargs = trigger.serialize()
    [event] = run_trigger(RunwayTaskTrigger(**json.loads(json.dumps(kwargs))))
    assert event["status"] == "success"
    assert runway_emulator.stats()["creates"]["count"] == 1
    times = polls()
    assert len(times) >= 2
    # A fresh random first delay could poll ~1 s after the predecessor; the shared grid keeps 2 s.
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.8, times


@pytest.mark.slow  # 30 triggers over several real poll intervals (~7 s)
def test_a_batch_of_triggers_polls_spread_and_never_faster_than_asked(
    runway_emulator: Any, runway_connection: Any
) -> None:
    """Deferred at the same moment, the triggers' first polls spread over the interval, not a burst."""
    runway_emulator.configure(generation_seconds=3.0, not_visible_seconds=0, max_concurrency=30)
    task_ids = [submit() for _ in range(30)]

    async def all_of_them() -> list[list[dict[str, Any]]]:
        async def drain(trigger: RunwayTaskTrigger) -> list[dict[str, Any]]:
            return [event.payload async for event in trigger.run()]

        return await asyncio.gather(*(drain(make_trigger(t, poll_interval=2.0)) for t in task_ids))

    started = time.time()
    results = asyncio.run(asyncio.wait_for(all_of_them(), 60))
    assert [[e["status"] for e in events] for events in results] == [["success"]] * 30
    by_task = runway_emulator.stats()["polls"]["by_task"]
    firsts = sorted(by_task[t]["times"][0] - started for t in task_ids)
    assert firsts[0] >= 0.9  # the first poll waits a little: a deferral is not a burst
    assert firsts[-1] - firsts[0] >= 1.0, firsts  # spread over the interval
    assert max(sum(1 for f in firsts if w <= f < w + 0.25) for w in firsts) <= 15, firsts
    gaps = [b - a for t in task_ids for a, b in itertools.pairwise(by_task[t]["times"])]
    assert min(gaps) >= 1.8, sorted(gaps)[:5]


def test_missing_connection_is_an_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_RUNWAY_NOPE", raising=False)
    [event] = run_trigger(make_trigger("abc", runway_conn_id="runway_nope"))
    assert event["status"] == "error"
    assert "connection" in event["message"].lower()


def test_on_kill_cancels_the_remote_task_but_cleanup_does_not(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=60, not_visible_seconds=0)
    task_id = submit()
    trigger = make_trigger(task_id)
    asyncio.run(trigger.cleanup())  # runs on every triggerer restart: must leave the task alone
    assert runway_emulator.stats()["cancels"]["count"] == 0
    asyncio.run(trigger.on_kill())  # a user marked the deferred task failed/success or cleared it
    assert runway_emulator.stats()["tasks"][task_id]["status"] == "CANCELLED"


def test_on_kill_respects_cancel_on_kill_false(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=60, not_visible_seconds=0)
    task_id = submit()
    asyncio.run(make_trigger(task_id, cancel_on_kill=False).on_kill())
    assert runway_emulator.stats()["cancels"]["count"] == 0


FIRST_HOOK_IMPORT = """
import asyncio, sys, threading
from airflow_provider_runway.triggers.background_import import HOOK_MODULE
from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

assert HOOK_MODULE not in sys.modules, "the trigger module must not import the HTTP stack"
seen = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == HOOK_MODULE:
            seen.append(threading.current_thread().name)
        return None

sys.meta_path.insert(0, Watch())

async def staggered():
    # Triggers keep starting while the first one's import is still running (a mapped batch
    # deferring at once): each must get the finished hook, never a half-imported module.
    async def start(i):
        await asyncio.sleep(i * 0.01)
        return type(await RunwayTaskTrigger(f"t{i}").runway_hook()).__name__
    return await asyncio.gather(*(start(i) for i in range(60)))

names = asyncio.run(staggered())
assert set(names) == {"RunwayHook"}, names
print(names[0], seen)
"""


def test_the_first_trigger_imports_the_http_stack_off_the_event_loop() -> None:
    # A triggerer runs every trigger on one loop: a ~0.5 s import there stalls all of them.
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", FIRST_HOOK_IMPORT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    # One import for all 60, in a thread of its own (not the loop's default executor, which
    # Airflow's async logging shares).
    assert run.stdout.strip().splitlines()[-1] == f"RunwayHook ['import {HOOK_MODULE}']"
