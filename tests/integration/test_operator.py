"""Operator and sensor behaviour through real Airflow (``airflow dags test``) and the emulator."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest

from airflow_provider_runway.execution.submitted_tasks import SubmittedTask
from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.runway.errors import InvalidRequestError

pytestmark = pytest.mark.integration
CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"ratio": "1:1"}, "ratio"),
        ({"duration": 7}, "duration"),
        ({"seed": 1_000_000_000}, "seed"),
        ({"prompt_text": "x" * 513}, "prompt_text"),
        ({"prompt_image": "http://example.com/cat.jpg"}, "prompt_image"),
        ({"prompt_image": "https://10.0.0.1/cat.jpg"}, "prompt_image"),
        ({"watermark": "maybe"}, "watermark"),
        ({"extra_body": {"seed": 3}}, "extra_body"),
    ],
)
def test_bad_input_fails_before_any_request(
    runway_emulator: Any, runway_connection: Any, params: dict[str, Any], field: str
) -> None:
    op = RunwayImageToVideoOperator(task_id="submit", **{"prompt_image": CAT, **params})
    with pytest.raises(InvalidRequestError) as caught:
        op.execute(context={})  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).startswith(field)
    assert runway_emulator.requests() == []


class RecordStore:
    """Stands in for task_state_store / the Variable: the decision logic is what is tested."""

    max_tries = 0

    def __init__(self, value: str | None) -> None:
        self.value = value

    def get(self) -> SubmittedTask | None:
        return SubmittedTask(self.value, max_tries=0, try_number=1) if self.value else None


@pytest.mark.parametrize("status_setup, reused", [("running", True), ("succeeded", True), ("cancelled", False)])
def test_retry_reuses_or_resubmits_by_the_earlier_tasks_status(
    runway_emulator: Any, runway_connection: Any, status_setup: str, reused: bool
) -> None:
    runway_emulator.configure(generation_seconds=0.2 if status_setup == "succeeded" else 60, not_visible_seconds=0)
    hook = RunwayHook()
    earlier = hook.submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    if status_setup == "cancelled":
        runway_emulator.cancel(earlier)
    elif status_setup == "succeeded":
        import time

        time.sleep(1.0)
    op = RunwayImageToVideoOperator(task_id="submit", prompt_image=CAT)
    assert op._reusable_task(hook, RecordStore(earlier)) == (earlier if reused else None)  # type: ignore[arg-type]


def test_retry_refuses_to_pay_again_when_told(runway_emulator: Any, runway_connection: Any) -> None:
    from airflow_provider_runway._compat import AirflowFailException

    runway_emulator.configure(not_visible_seconds=0)
    hook = RunwayHook()
    earlier = hook.submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    runway_emulator.cancel(earlier)
    op = RunwayImageToVideoOperator(task_id="submit", prompt_image=CAT, resubmit_on_failure=False)
    with pytest.raises(AirflowFailException, match="not paying again"):
        op._reusable_task(hook, RecordStore(earlier))  # type: ignore[arg-type]


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
    import threading
    import time

    runway_emulator.configure(generation_seconds=60, not_visible_seconds=0)
    hook = RunwayHook()
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    op = RunwayImageToVideoOperator(task_id="submit", prompt_image=CAT, poll_interval=0.2, timeout=3)
    waiter = threading.Thread(target=lambda: op.wait_blocking(task_id, 3), daemon=True)
    waiter.start()
    time.sleep(0.5)
    op.on_kill()  # what Airflow calls when the worker is told to stop
    assert runway_emulator.stats()["tasks"][task_id]["status"] == "CANCELLED"
    waiter.join(5)
