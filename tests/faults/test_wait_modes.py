"""One fault table, four ways of waiting, one outcome per row.

Every row sets up the emulator (a fault, a config, a task), then waits for the Runway task in
each mode the provider offers:

* ``trigger``: ``RunwayTaskTrigger.run()`` on an event loop (what the triggerer runs);
* ``blocking``: the operator's blocking wait (``wait_for_completion=True, deferrable=False``);
* ``poke``: ``RunwayTaskSensor(mode="poke")`` run by Airflow with ``dag.test()``;
* ``deferrable``: ``RunwayTaskSensor(deferrable=True)`` run by ``dag.test()`` (trigger inline).

Each mode must end with the same final event (status and the row's words in its message). A
wait that diverges (say a 401 that raises in one mode and becomes an event in another) fails
here.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

pytestmark = pytest.mark.integration

IMAGE = "https://images.example.com/cat.jpg"
MODES = ("trigger", "blocking", "poke", "deferrable")
FINISHED = re.compile(r"Runway wait finished after (\d+) polls \((\w+)\): (.*?)(?:\s+\[[\w.]+\].*)?$", re.MULTILINE)

SENSOR_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayTaskSensor(task_id="wait", runway_task_id={task_id!r}, retries=0, **{kwargs!r})
"""


@dataclass(frozen=True)
class Row:
    """One fault: how to set it up, and the one outcome every mode must reach."""

    status: str
    phrase: str
    flavor: str = "cometapi"
    emulator: dict[str, Any] = field(default_factory=dict)  # config before the task is created
    faults: dict[str, Any] = field(default_factory=dict)  # faults before the task is created
    after_create: dict[str, Any] = field(default_factory=dict)  # config once it exists
    prompt: str | None = None
    made_up_id: bool = False
    timeout: float = 20.0
    not_visible_grace: float = 5.0


ROWS = {
    "transient-503-then-success": Row(
        "success", "SUCCEEDED", faults={"server_error": {"count": 2, "status": 503, "route": "poll"}}
    ),
    "endless-unreadable-answers": Row(
        "error",
        "after 10 unreadable answers in a row; last: response is not JSON",
        emulator={"generation_seconds": 30},
        faults={"malformed": {"count": 1000, "body": "html", "route": "poll"}},
    ),
    "not-visible-past-the-grace-window": Row(
        "error",
        "still answers task_not_exist after the grace window",
        emulator={"not_visible_seconds": 30},
        not_visible_grace=1.0,
    ),
    "cancelled-outside": Row("cancelled", "CANCELLED", faults={"external_cancel": {"after_seconds": 0.5}}),
    "content-refused": Row("failed", "FAILED (SAFETY.INPUT.TEXT", prompt="a forbidden scene"),
    "key-rotated-mid-wait": Row(
        "error",
        "The API key was rejected while polling",
        emulator={"generation_seconds": 30},
        after_create={"api_key": "a-rotated-key-the-connection-does-not-have"},
    ),
    "task-gone-404": Row("error", "does not exist (404", flavor="runway", made_up_id=True),
    "timeout-while-throttled": Row(
        "timeout", "last status: THROTTLED", faults={"throttle_extra": {"seconds": 60}}, timeout=1.5
    ),
}
POLL_INTERVAL = 0.1


def prepare(emulator: Any, row: Row) -> str:
    """Fresh emulator state and a Runway task (or a made-up id) set up as the row says."""
    emulator.reset()
    emulator.configure(**{"not_visible_seconds": 0, **row.emulator})
    if row.faults:
        emulator.set_faults(**row.faults)
    if row.made_up_id:
        return str(uuid.uuid4())
    body = {"promptImage": IMAGE, "model": "gen4_turbo" if row.flavor == "runway" else "gen3a_turbo"}
    if row.flavor == "runway":
        body["ratio"] = "1280:720"
    if row.prompt:
        body["promptText"] = row.prompt
    task_id = RunwayHook().submit_image_to_video(body)
    if row.after_create:
        emulator.configure(**row.after_create)
    return task_id


def wait_with_trigger(task_id: str, row: Row, _: Any) -> dict[str, Any]:
    now = time.time()
    trigger = RunwayTaskTrigger(
        runway_task_id=task_id,
        poll_interval=POLL_INTERVAL,
        deadline=now + row.timeout,
        not_visible_until=now + row.not_visible_grace,
    )

    async def drain() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    [event] = asyncio.run(asyncio.wait_for(drain(), 60))
    return event


def wait_blocking(task_id: str, row: Row, _: Any) -> dict[str, Any]:
    op = RunwayImageToVideoOperator(
        task_id="submit", prompt_image=IMAGE, poll_interval=POLL_INTERVAL, not_visible_grace=row.not_visible_grace
    )
    return op.wait_blocking(task_id, row.timeout)


def waiting_sensor(deferrable: bool) -> Callable[[str, Row, Any], dict[str, Any]]:
    def wait(task_id: str, row: Row, run_dag_source: Any) -> dict[str, Any]:
        kwargs = {
            "poll_interval": POLL_INTERVAL,
            "timeout": row.timeout,
            "not_visible_grace": row.not_visible_grace,
            "deferrable": deferrable,
            **({} if deferrable else {"mode": "poke"}),
        }
        dag_id = f"wait_modes_{'deferrable' if deferrable else 'poke'}"
        ran = run_dag_source(dag_id, SENSOR_DAG.format(dag_id=dag_id, task_id=task_id, kwargs=kwargs))
        finished = [m for m in FINISHED.finditer(ran.output) if task_id in m.group(3)]
        assert len(finished) == 1, ran.output[-6000:]
        polls, status, message = finished[0].groups()
        expected_state = "success" if status == "success" else "failed"
        assert ran.tis()["wait"][0] == expected_state, ran.output[-6000:]
        return {"status": status, "message": message, "polls": int(polls), "runway_task_id": task_id}

    return wait


WAITS = {
    "trigger": wait_with_trigger,
    "blocking": wait_blocking,
    "poke": waiting_sensor(deferrable=False),
    "deferrable": waiting_sensor(deferrable=True),
}


@pytest.mark.parametrize(
    ("row", "runway_connection"),
    [pytest.param(row, {"flavor": row.flavor}, id=name) for name, row in ROWS.items()],
    indirect=["runway_connection"],
)
def test_every_mode_ends_the_same_way(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, row: Row
) -> None:
    outcomes: dict[str, tuple[str, str]] = {}
    for mode in MODES:
        task_id = prepare(runway_emulator, row)
        event = WAITS[mode](task_id, row, run_dag_source)
        assert event["runway_task_id"] == task_id
        outcomes[mode] = (event["status"], event["message"])
    assert {mode: status for mode, (status, _) in outcomes.items()} == dict.fromkeys(MODES, row.status), outcomes
    for mode, (_, message) in outcomes.items():
        assert row.phrase in message, (mode, outcomes)
