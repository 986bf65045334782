"""Real Airflow processes: marking a deferred sensor after its Runway task SUCCEEDED keeps the video.

The Runway task finishes while its sensor is still deferred (the trigger polled it while RUNNING
and its next poll, on the task's poll grid, is still far), then the user marks the sensor success, or failed,
through the api-server's REST API as the UI does. Airflow >= 3.3 then runs the trigger's
``on_kill``. On Runway's own API a DELETE of a finished task deletes the task and its output,
so the cancel must look before it deletes: afterwards the task is still there, its video still
downloads, and no DELETE reached a finished task.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_runway.runway.remote_task import SUCCEEDED
from tests.processes.emulated_api import (
    RUNS_UNTIL_FINISHED,
    deletes_of,
    deletes_of_finished_tasks,
    download,
    finish_runway_task,
    get_task,
    is_mp4,
    next_poll_in,
    provider_requests,
)
from tests.processes.stack import PROCESS_API_KEY, AirflowStack, needs_trigger_on_kill

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

pytestmark = [pytest.mark.processes, needs_trigger_on_kill]

DAG_ID = "runway_proc_mark_after_success"
FLAVORS = ("cometapi", "runway")
ACTIONS = ((0, "success"), (1, "failed"))
POLL_INTERVAL = 30.0  # the DAG's sensors'
# Time the test needs to finish a task, check it, mark its sensor and have the triggerer act:
# all of it before the trigger's next poll, which would see the task finished and fire.
SAFE_WINDOW = 12.0
ON_KILL_LOG = "Trigger cancelled by user action, invoking on_kill"
TRIGGER_DONE_LOG = "trigger completed"


def _far_from_next_poll(emulator: EmulatorHandle, runway_id: str) -> bool:
    """True when the trigger has polled the task and its next poll is more than SAFE_WINDOW away."""
    stats = emulator.stats()
    times = stats["polls"]["by_task"].get(runway_id, {}).get("times", [])
    return bool(times) and next_poll_in(runway_id, POLL_INTERVAL, times[-1], stats["now"]) > SAFE_WINDOW


def _on_kill_finished(stack: AirflowStack, run_id: str, sensor: str, map_index: int) -> str | None:
    """The trigger log once the triggerer has run on_kill and ended the trigger, else None."""
    text = "\n".join(stack.trigger_logs(DAG_ID, run_id, sensor, map_index).values())
    kill_at = text.find(ON_KILL_LOG)
    return text if kill_at >= 0 and TRIGGER_DONE_LOG in text[kill_at:] else None


def _damage_to_finished_task(emulator: EmulatorHandle, flavor: str, runway_id: str, video_url: str) -> list[str]:
    """What a cancel did to a SUCCEEDED task that it should have left alone (empty: nothing)."""
    problems = []
    stats = emulator.stats()
    destroyed = deletes_of_finished_tasks(stats, runway_id)
    if destroyed:
        problems.append(
            f"a DELETE reached Runway task {runway_id} after it had SUCCEEDED ({destroyed}; DELETE statuses "
            f"{deletes_of(emulator, runway_id)}): on Runway's API that deletes the task and its video"
        )
    if stats["tasks"][runway_id]["deleted"]:
        problems.append(f"the emulator deleted task {runway_id}")
    status, task = get_task(emulator, flavor, runway_id, PROCESS_API_KEY)
    if status != 200 or task is None or task.status != SUCCEEDED:
        problems.append(f"GET of the task now answers {status}: {task}")
    for url in (video_url, *(task.output if task else ())):
        status, data = download(url)
        if status != 200 or not is_mp4(data):
            problems.append(f"the video at {url} now answers {status}: {data[:120]!r}")
    return problems


def test_marking_deferred_sensors_after_their_tasks_succeeded_keeps_the_videos(airflow_stack: AirflowStack) -> None:
    stack, emulator = airflow_stack, airflow_stack.emulator
    emulator.reset()
    emulator.configure(generation_seconds=RUNS_UNTIL_FINISHED, max_concurrency=32)
    run_id = stack.trigger(DAG_ID, "mark_after_success")
    sensor_ids = tuple(f"wait_{flavor}" for flavor in FLAVORS)
    stack.wait_for(
        "every sensor deferred, each trigger having polled its RUNNING task",
        lambda: stack.sensors_deferred_and_polled(DAG_ID, run_id, 2 * len(FLAVORS), sensor_ids),
        240,
    )
    runway_ids = {
        flavor: {i: str(v) for i, v in stack.db.xcom_values(DAG_ID, run_id, f"submit_{flavor}").items()}
        for flavor in FLAVORS
    }
    assert all(sorted(ids) == [0, 1] for ids in runway_ids.values()), runway_ids

    # Each case acts as soon as its task is far from its trigger's next poll (the four tasks
    # have independent poll grids), and the triggerer's on_kill runs while the next case acts.
    cases = {
        f"{flavor}: marked {new_state}": (flavor, map_index, new_state, runway_ids[flavor][map_index])
        for flavor in FLAVORS
        for map_index, new_state in ACTIONS
    }
    marked: dict[str, tuple[float, str]] = {}
    deadline = time.monotonic() + 2 * len(cases) * POLL_INTERVAL
    while len(marked) < len(cases):
        assert time.monotonic() < deadline, f"no safe window before the next poll for {set(cases) - set(marked)}"
        ready = [c for c in cases if c not in marked and _far_from_next_poll(emulator, cases[c][3])]
        if not ready:
            time.sleep(0.2)
            continue
        case = ready[0]
        flavor, map_index, new_state, runway_id = cases[case]
        finished_at = finish_runway_task(emulator, runway_id)["finished_at"]
        status, task = get_task(emulator, flavor, runway_id, PROCESS_API_KEY)
        assert status == 200 and task is not None and task.status == SUCCEEDED and task.output, (status, task)
        video_url = task.output[0]
        assert download(video_url)[0] == 200
        sensor = f"wait_{flavor}"
        [ti] = [t for t in stack.db.task_instances(DAG_ID, run_id, sensor) if t["map_index"] == map_index]
        assert ti["state"] == "deferred", f"{case}: the trigger saw the task finish before the user acted: {ti}"

        marked_at = time.time()
        status, answer = stack.api(
            "PATCH",
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{sensor}/{map_index}",
            {"new_state": new_state},
            authorized=True,
        )
        assert status == 200, (case, status, answer)
        [changed] = answer["task_instances"]
        assert (changed["map_index"], changed["state"]) == (map_index, new_state), changed
        # The scenario held: the trigger never polled between the task's end and the user's action.
        assert provider_requests(emulator, runway_id, finished_at, marked_at) == [], case
        marked[case] = (marked_at, video_url)

    on_kill_seconds: dict[str, float] = {}
    damaged: dict[str, list[str]] = {}
    for case, (flavor, map_index, _, runway_id) in cases.items():
        marked_at, video_url = marked[case]
        logs = stack.wait_for(
            f"{case}: the triggerer to run on_kill and end the trigger",
            functools.partial(_on_kill_finished, stack, run_id, f"wait_{flavor}", map_index),
            60,
            interval=0.25,
        )
        on_kill_seconds[case] = time.time() - marked_at
        damage = _damage_to_finished_task(emulator, flavor, runway_id, video_url)
        if damage:
            damaged[case] = [*damage, f"trigger log:\n{logs[-2500:]}"]

    # Every flavor and user action is tried before judging, so a failure reports each one.
    assert not damaged, "\n\n".join(f"{case}: " + "\n  ".join(problems) for case, problems in damaged.items())
    state = stack.wait_for_run(DAG_ID, run_id, timeout=120)
    sensors = {
        (ti["task_id"], ti["map_index"]): (ti["state"], ti["try_number"])
        for ti in stack.db.task_instances(DAG_ID, run_id)
        if ti["task_id"] in sensor_ids
    }
    assert state == "failed", sensors  # map index 1 of each sensor was marked failed
    assert sensors == {(s, i): (new_state, 1) for s in sensor_ids for i, new_state in ACTIONS}
    stats = emulator.stats()
    assert stats["creates"]["count"] == 2 * len(FLAVORS), stats["creates"]
    every_id = [runway_id for ids in runway_ids.values() for runway_id in ids.values()]
    assert {stats["tasks"][t]["status"] for t in every_id} == {SUCCEEDED}
    print(
        "\nmark after success: "
        + ", ".join(f"{case} -> on_kill done within {sec:.1f} s" for case, sec in on_kill_seconds.items())
        + f"; DELETEs sent: {sum(len(deletes_of(emulator, t)) for t in every_id)}"
    )
