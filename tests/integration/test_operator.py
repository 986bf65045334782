"""Operator and sensor behaviour through real Airflow (``dag.test()`` in this process) and the emulator."""

from __future__ import annotations

import ast
import contextlib
import re
import threading
from typing import Any

import pytest

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from tests.integration.dag_runs import (
    Task,
    created_ids,
    dag_source,
    meanwhile,
    polls_of,
    task_logs,
    unsuccessful,
    wait_until,
)
from tests.unit.test_image_to_video_parameters import BAD_PARAMETERS, CAT

pytestmark = pytest.mark.integration
IMAGE = "https://images.example.com/cat.jpg"


def test_bad_input_fails_before_any_request(runway_emulator: Any, runway_connection: Any, run_dag_source: Any) -> None:
    """One bad parameter per task: every task fails with an error naming its parameter, and nothing is sent."""
    tasks = [
        Task("RunwayImageToVideoOperator", task_id, {"prompt_image": CAT, **params})
        for task_id, (params, _) in BAD_PARAMETERS.items()
    ]
    ran = run_dag_source("runway_bad_input", dag_source("runway_bad_input", *tasks))
    logs = task_logs(ran)
    for task_id, (_, field) in BAD_PARAMETERS.items():
        assert ran.tis()[task_id] == ("failed", 1), task_id
        assert re.search(rf"InvalidRequestError: {field}\b", logs[task_id]), logs[task_id][-3000:]
    assert runway_emulator.requests() == []


# What the earlier try's Runway task became, whether the task may pay again, and what the retry
# must then do: (the earlier task is cancelled, resubmit_on_failure, (state, tries), creates, log).
RETRIES = {
    "running-is-reused": (
        False, True, ("success", 2), 1, "Reconnecting to Runway task {first} (RUNNING) created by an earlier try"
    ),
    "cancelled-is-submitted-again": (
        True, True, ("success", 2), 2, "The earlier try's Runway task {first} ended CANCELLED; submitting a new one"
    ),
    "cancelled-fails-when-told-not-to-pay-again": (
        True, False, ("failed", 2), 1, "task {first} ended CANCELLED; resubmit_on_failure=False, not paying again"
    ),
}  # fmt: skip


@pytest.mark.parametrize("cancelled, resubmit, outcome, creates, logged", RETRIES.values(), ids=RETRIES)
def test_a_retry_reuses_resubmits_or_refuses_by_the_earlier_tasks_status(
    runway_emulator: Any,
    runway_connection: Any,
    run_dag_source: Any,
    cancelled: bool,
    resubmit: bool,
    outcome: tuple[str, int],
    creates: int,
    logged: str,
) -> None:
    """The first try gives up on ten unreadable answers in a row, leaving its Runway task to the retry.

    ``retries=2``: a refusal to pay again ends the task at try 2 (AirflowFailException), not try 3.
    """
    submit = Task(
        "RunwayImageToVideoOperator",
        "submit",
        {
            "prompt_image": IMAGE, "wait_for_completion": True, "deferrable": False, "poll_interval": 0.05,
            "cancel_on_timeout": False, "retries": 2, "retry_delay": 0, "resubmit_on_failure": resubmit,
        },
    )  # fmt: skip
    runway_emulator.configure(generation_seconds=0.3 if cancelled else 3600, not_visible_seconds=0)
    runway_emulator.set_faults(malformed={"count": 10, "body": "html", "route": "poll"})
    if cancelled:
        runway_emulator.set_faults(external_cancel={"after_seconds": 0, "count": 1})  # the first task only

    def retry_waits_on_the_first_task() -> bool:  # polls: 10 unreadable, the retry's read, its wait's first
        ids = created_ids(runway_emulator)
        return bool(ids) and polls_of(runway_emulator, ids[0]) >= 12

    def finish_the_first_task() -> None:
        runway_emulator.complete(created_ids(runway_emulator)[0])

    with contextlib.ExitStack() as meanwhile_the_run:
        if not cancelled:  # an hour of generation: it finishes once the retry is waiting on it
            meanwhile_the_run.enter_context(
                meanwhile(retry_waits_on_the_first_task, finish_the_first_task, "the retry waited on the first task")
            )
        ran = run_dag_source("runway_retry", dag_source("runway_retry", submit))
    first, *_ = ids = created_ids(runway_emulator)
    assert ran.tis()["submit"] == outcome, unsuccessful(ran)
    assert len(ids) == creates
    assert "after 10 unreadable answers in a row" in ran.output
    assert logged.format(first=first) in task_logs(ran)["submit"]


def test_dag_parse_imports_add_no_http_stack() -> None:
    """DAG files import the operator and sensor at every parse: they must not pull in the HTTP stack."""
    import subprocess
    import sys

    code = (
        "import sys; from airflow.sdk import DAG, BaseOperator, BaseSensorOperator; before = set(sys.modules); "
        "import airflow_provider_runway.operators.runway, airflow_provider_runway.sensors.runway; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    added = ast.literal_eval(out.strip().splitlines()[-1])
    assert "airflow_provider_runway.operators.runway" in added
    # Only our modules and the standard library (Airflow 3.1 has not yet imported importlib.resources'
    # readers, which load the packaged catalog): nothing third-party, so no HTTP client.
    third_party = [m for m in added if m.split(".")[0] not in {"airflow_provider_runway", *sys.stdlib_module_names}]
    assert third_party == []
    assert "airflow_provider_runway.hooks.runway" not in added
    assert "airflow_provider_runway.triggers.runway" not in added


MODES_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

IMG = "https://images.example.com/{}.jpg"
with DAG("runway_modes", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator(task_id="submit_and_defer", prompt_image=IMG.format(1), wait_for_completion=True,
                               deferrable=True, poll_interval=0.3)
    RunwayImageToVideoOperator(task_id="submit_and_block", prompt_image=IMG.format(2), wait_for_completion=True,
                               deferrable=False, poll_interval=0.3)
    poke = RunwayImageToVideoOperator(task_id="submit_for_poke", prompt_image=IMG.format(3))
    RunwayTaskSensor(task_id="wait_poke", runway_task_id=poke.output, deferrable=False, mode="poke",
                     poll_interval=0.3)
    resched = RunwayImageToVideoOperator(task_id="submit_for_reschedule", prompt_image=IMG.format(4))
    RunwayTaskSensor(task_id="wait_reschedule", runway_task_id=resched.output, deferrable=False, mode="reschedule",
                     poll_interval=1)
"""

FAILING_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG("runway_failures", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    refused = RunwayImageToVideoOperator(task_id="submit_refused", prompt_image="https://images.example.com/a.jpg",
                                         prompt_text="a forbidden scene")
    RunwayTaskSensor(task_id="wait_refused", runway_task_id=refused.output, poll_interval=0.3)
    slow = RunwayImageToVideoOperator(task_id="submit_slow", prompt_image="https://images.example.com/b.jpg",
                                      model="gen4_turbo", ratio="1280:720")
    RunwayTaskSensor(task_id="wait_slow_poke", runway_task_id=slow.output, deferrable=False, mode="poke",
                     poll_interval=0.3, timeout=2)
"""


def test_operator_and_sensor_modes_all_succeed(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    ran = run_dag_source("runway_modes", MODES_DAG)
    output = ran.output
    assert ran.state == "success", output[-6000:]
    stats = runway_emulator.stats()
    assert stats["creates"]["count"] == 4
    assert {t["status"] for t in stats["tasks"].values()} == {"SUCCEEDED"}
    assert output.count("succeeded; output:") >= 4
    # Before any wait starts: which task, how often, until when (UTC).
    deadline = r"deadline \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 3600 s\)"
    for where, every in [
        (r"in the triggerer \(deferred\)", "0.3"),
        ("in this worker", "0.3"),
        (r"in this worker \(poke mode\)", "0.3"),
        (r"in this worker \(reschedule mode\)", "1"),
    ]:
        line = rf"Waiting for Runway task [0-9a-f-]{{36}} {where}: polling about every {every} s, {deadline}"
        assert re.search(line, output), line


def test_failures_are_clear_and_leave_nothing_running(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    runway_emulator.configure(generation_seconds=30.0, not_visible_seconds=0.3)
    output = run_dag_source("runway_failures", FAILING_DAG).output
    assert "SAFETY.INPUT.TEXT" in output
    assert "it will not be resubmitted automatically" in output
    assert "Timed out waiting for Runway task" in output
    assert "last status: " in output
    statuses = {t["status"] for t in runway_emulator.stats()["tasks"].values()}
    assert statuses == {"FAILED", "CANCELLED"}, statuses  # the timed-out wait cancelled its task


def test_worker_on_kill_cancels_the_task_being_waited_on(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=3600, not_visible_seconds=0)
    task_id = RunwayHook().submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    op = RunwayImageToVideoOperator(task_id="submit", prompt_image=CAT, poll_interval=0.05, timeout=3600)
    waiter = threading.Thread(target=lambda: op.wait_blocking(task_id, 3600), daemon=True)
    waiter.start()
    wait_until(lambda: polls_of(runway_emulator, task_id) > 0, "the worker's wait polled the task")
    op.on_kill()  # what Airflow calls when the worker is told to stop
    assert runway_emulator.stats()["tasks"][task_id]["status"] == "CANCELLED"
    # The wait ends on its own (the task is gone); a killed worker would not get that far. Joined so
    # that no poll of it lands in the next test's request log.
    waiter.join(60)
