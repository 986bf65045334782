"""Every emulator fault through the provider's real flow, run by real Airflow.

Each test writes a small DAG -- ``RunwayImageToVideoOperator`` (submit, ``retries=1`` so a
blind re-submit would show up as a second create) >> deferrable ``RunwayTaskSensor`` (wait)
[>> a ``download_output`` task] -- and runs it with ``dag.test()`` in this process: tasks run
through the Task SDK's in-process supervisor and the sensor's trigger runs inline, as under
``airflow dags test``. In-process was measured at ~2 s per run against ~20 s for an
``airflow dags test`` subprocess per case, with the same code paths (``dag.test()``), so the
whole matrix stays well under the 3-minute budget.

After each run the emulator's accounting is checked: creates == the creates the flow meant
to make (never a duplicate), and no task is left PENDING/THROTTLED/RUNNING -- a wait that
gives up must have cancelled its remote task.

======================================  ==========================================================
fault (emulator JSON)                   designed outcome
======================================  ==========================================================
rate_limit x2 on create, Retry-After 1  create retried after >= Retry-After each time; run
                                        succeeds; 1 task, 3 create attempts
server_error 503 x3 on create (burst)   create retried (503 surely created nothing); run
                                        succeeds; 1 task, 4 attempts
server_error 500 x3 on poll (burst)     trigger keeps polling; run succeeds; 1 task
server_error 504 on create              answer may hide a paid task: submit fails "A paid
                                        Runway task may exist", no retry (not even Airflow's);
                                        at most 1 task
reset on poll x2                        trigger keeps polling; run succeeds; 1 task
reset on create (before / after)        submit fails "A paid Runway task may exist ... NOT
                                        retried"; Airflow does not retry it either; 0 / 1 task
slow create past the ``timeout`` extra  same as a reset after create: clear failure, 1 task, no
                                        retry
malformed html page answering a create  same: the task was created but its id is unreadable
slow poll past the ``timeout`` extra    the poll times out and is repeated; run succeeds
malformed html / empty / truncated /    tolerated (< 10 in a row); run succeeds; 1 task
short on poll x3
malformed html on every poll            wait gives up after 10 unreadable answers with a clear
                                        error naming the last one; remote task cancelled
unknown_status x3                       tolerated; run succeeds
unknown_status on every poll            wait gives up naming the status; remote task cancelled
throttle_extra 6 s (long THROTTLED)     THROTTLED is normal waiting: run succeeds, THROTTLED
                                        logged
throttle_extra past the sensor timeout  AirflowSensorTimeout naming the last status
                                        (THROTTLED); remote task cancelled
task_not_exist past not_visible_grace   wait fails "still answers task_not_exist after the
                                        grace window"; a cancel is attempted (the API refuses
                                        it: the task is invisible) -- see the test
external_cancel mid-run                 wait fails (AirflowFailException, no retry) naming
                                        CANCELLED; 1 task
expired output URL (output_ttl)         download fails "output URL expired"; 1 task, SUCCEEDED
======================================  ==========================================================
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dag_runs import meanwhile

pytestmark = pytest.mark.integration

IMAGE = "https://images.example.com/cat.jpg"
CREATE_PATH = "/runwayml/v1/image_to_video"
PAID_TASK_MAY_EXIST = "A paid Runway task may exist"

DAG_TEMPLATE = """
import time
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    submit = RunwayImageToVideoOperator(
        task_id="submit", prompt_image={image!r}, retries=1, retry_delay=timedelta(0), **{submit!r}
    )
    wait = RunwayTaskSensor(task_id="wait", runway_task_id=submit.output, deferrable=True, **{wait!r})
    if {store!r}:

        @task
        def store(runway_task):
            from airflow_provider_runway.hooks.runway import RunwayHook

            time.sleep({download_delay!r})  # a download that happens late, after the URL expired
            target = {out_dir!r} + "/" + runway_task["id"] + ".mp4"
            return RunwayHook().download_output(runway_task["output"][0], target)

        store(wait.output)
"""

WAIT_DEFAULTS: dict[str, Any] = {"poll_interval": 0.2, "timeout": 20, "not_visible_grace": 5}


@dataclass
class FlowResult:
    state: str
    tis: dict[str, tuple[str, int]]  # task_id -> (state, try_number)
    output: str
    stats: dict[str, Any]
    requests: list[dict[str, Any]]
    seconds: float

    @property
    def create_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == CREATE_PATH]

    def requests_for(self, task_id: str, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"].endswith(f"/tasks/{task_id}")]

    @property
    def task_ids(self) -> list[str]:
        return [item["task_id"] for item in self.stats["creates"]["items"]]

    def debug(self) -> str:
        return f"tis={self.tis}\nstats={json.dumps(self.stats, default=str)[:3000]}\n{self.output[-6000:]}"


@pytest.fixture
def run_flow(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> Any:
    """Write this test's DAG, run it with dag.test() and collect the output and the emulator's accounting."""

    def run(
        *, submit: dict[str, Any] | None = None, store: bool = False, download_delay: float = 0.0, **wait: Any
    ) -> FlowResult:
        dag_id = "fault_matrix_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
        source = DAG_TEMPLATE.format(
            dag_id=dag_id,
            image=IMAGE,
            submit=submit or {},
            wait={**WAIT_DEFAULTS, **wait},
            store=store,
            download_delay=download_delay,
            out_dir=str(tmp_path / "videos"),
        )
        ran = run_dag_source(dag_id, source)
        return FlowResult(
            state=ran.state,
            tis=ran.tis(),
            output=ran.output,
            stats=runway_emulator.stats(),
            requests=runway_emulator.requests(),
            seconds=ran.seconds,
        )

    return run


def assert_creates(result: FlowResult, *, tasks: int, attempts: int | None = None) -> None:
    """Exactly the creates the flow meant to make: never a duplicate (paid) task."""
    assert result.stats["creates"]["count"] == tasks, result.debug()
    if attempts is not None:
        assert result.stats["creates"]["attempts"] == attempts, result.debug()
        assert len(result.create_requests) == attempts, result.debug()


def assert_nothing_left_behind(result: FlowResult) -> None:
    assert result.stats["active_tasks"] == [], result.debug()


def assert_succeeded(result: FlowResult) -> None:
    assert result.state == "success", result.debug()
    assert result.tis["submit"] == ("success", 1), result.debug()
    [task_id] = result.task_ids
    assert result.stats["tasks"][task_id]["status"] == "SUCCEEDED", result.debug()
    assert f"Runway task {task_id} succeeded" in result.output, result.debug()
    assert f"Waiting for Runway task {task_id} in the triggerer (deferred)" in result.output
    assert_creates(result, tasks=1)
    assert_nothing_left_behind(result)


def fired(result: FlowResult, kind: str) -> int:
    return int(result.stats["faults_fired"]["by_kind"].get(kind, 0))


# -- create faults ----------------------------------------------------------------------------


def test_rate_limit_on_create_honours_retry_after(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(rate_limit={"count": 2, "route": "create", "retry_after": 1})
    result = run_flow()
    assert_succeeded(result)
    assert_creates(result, tasks=1, attempts=3)
    assert [r["status"] for r in result.create_requests] == [429, 429, 200]
    times = [r["at"] for r in result.create_requests]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times)), times
    assert "retry 2" in result.output


def test_server_error_burst_on_create_is_retried(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(server_error={"count": 3, "status": 503, "route": "create"})
    result = run_flow()
    assert_succeeded(result)
    assert_creates(result, tasks=1, attempts=4)
    assert [r["status"] for r in result.create_requests] == [503, 503, 503, 200]


def test_server_error_burst_on_poll_keeps_waiting(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(server_error={"count": 3, "status": 500, "route": "poll"})
    result = run_flow()
    assert_succeeded(result)
    assert fired(result, "server_error") == 3
    assert "will poll again" in result.output


@pytest.mark.parametrize(
    ("faults", "tasks"),
    [
        pytest.param({"reset": {"route": "create", "when": "before"}}, 0, id="reset-before"),
        pytest.param({"reset": {"route": "create", "when": "after"}}, 1, id="reset-after"),
        pytest.param({"slow": {"route": "create", "when": "after", "delay": 2.0}}, 1, id="slow-past-timeout"),
        pytest.param({"server_error": {"route": "create", "status": 504}}, 0, id="504"),
        pytest.param({"malformed": {"route": "create", "body": "html"}}, 1, id="html-page"),
    ],
)
@pytest.mark.runway_connection(timeout=1)
def test_lost_create_answer_fails_clearly_and_is_never_retried(
    runway_emulator: Any, run_flow: Any, faults: dict[str, Any], tasks: int
) -> None:
    """The create was sent but its answer is lost or ambiguous: a paid task may exist."""
    runway_emulator.set_faults(**faults)
    result = run_flow()
    assert result.state == "failed", result.debug()
    # One try only: an Airflow retry would submit (and pay) again.
    assert result.tis["submit"] == ("failed", 1), result.debug()
    assert PAID_TASK_MAY_EXIST in result.output, result.debug()
    assert "NOT retried" in result.output
    assert_creates(result, tasks=tasks, attempts=1)
    if tasks:
        # The paid task whose id never reached us: nothing can cancel it, which is exactly what the
        # message warns about. It runs to its end on its own (1 s of generation here).
        [orphan] = result.task_ids
        deadline = time.monotonic() + 10
        while runway_emulator.stats()["tasks"][orphan]["status"] != "SUCCEEDED" and time.monotonic() < deadline:
            time.sleep(0.2)
        result.stats = runway_emulator.stats()
    assert_nothing_left_behind(result)


# -- poll faults -------------------------------------------------------------------------------


def test_reset_on_poll_keeps_waiting(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(reset={"count": 2, "route": "poll"})
    result = run_flow()
    assert_succeeded(result)
    assert fired(result, "reset") == 2


@pytest.mark.runway_connection(timeout=1)
def test_slow_poll_past_the_connection_timeout_is_repeated(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(slow={"count": 1, "delay": 2.5, "route": "poll"})
    result = run_flow()
    assert_succeeded(result)
    assert fired(result, "slow") == 1
    assert "no answer within 1 s" in result.output, result.debug()


@pytest.mark.parametrize("body", ["html", "empty", "truncated", "short"])
def test_a_few_malformed_polls_are_tolerated(runway_emulator: Any, run_flow: Any, body: str) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    runway_emulator.set_faults(malformed={"count": 3, "body": body, "route": "poll"})
    result = run_flow()
    assert_succeeded(result)
    assert fired(result, "malformed") == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("html", "response is not JSON: <!DOCTYPE html>", id="html"),
        pytest.param("empty", "empty response body", id="empty"),
    ],
)
def test_endless_malformed_polls_give_up_and_keep_the_task(
    runway_emulator: Any, run_flow: Any, body: str, reason: str
) -> None:
    # The cancel's own look at the task is unreadable too: a task whose state is unknown may
    # be finished, and a DELETE would destroy its paid output, so it is kept.
    runway_emulator.configure(not_visible_seconds=0, generation_seconds=30)
    runway_emulator.set_faults(malformed={"count": 1000, "body": body, "route": "poll"})
    result = run_flow()
    assert result.state == "failed", result.debug()
    assert result.tis["submit"] == ("success", 1)
    assert "after 10 unreadable answers in a row" in result.output, result.debug()
    assert f"last: {reason}" in result.output, result.debug()
    assert_creates(result, tasks=1)
    [task_id] = result.task_ids
    assert f"Could not cancel Runway task {task_id}" in result.output, result.debug()
    assert result.stats["tasks"][task_id]["status"] == "RUNNING", result.debug()
    assert result.stats["deletes"]["count"] == 0, result.debug()


def test_a_few_unknown_statuses_are_tolerated(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    runway_emulator.set_faults(unknown_status={"count": 3, "value": "PROCESSING"})
    result = run_flow()
    assert_succeeded(result)
    assert fired(result, "unknown_status") == 3
    assert "PROCESSING" in result.output  # logged as the status seen


def test_endless_unknown_status_gives_up_naming_it_and_keeps_the_task(runway_emulator: Any, run_flow: Any) -> None:
    # A status this provider does not know may be a finished one: never DELETE it.
    runway_emulator.configure(not_visible_seconds=0, generation_seconds=30)
    runway_emulator.set_faults(unknown_status={"count": 1000, "value": "PROCESSING"})
    result = run_flow()
    assert result.state == "failed", result.debug()
    assert "unrecognised status 'PROCESSING'" in result.output, result.debug()
    assert_creates(result, tasks=1)
    [task_id] = result.task_ids
    assert f"Runway task {task_id} is already PROCESSING; not cancelling" in result.output, result.debug()
    assert result.stats["tasks"][task_id]["status"] == "RUNNING", result.debug()
    assert result.stats["deletes"]["count"] == 0, result.debug()


# -- task faults -------------------------------------------------------------------------------


def test_long_throttled_is_normal_waiting(runway_emulator: Any, run_flow: Any) -> None:
    """Five minutes THROTTLED, ended by the emulator's clock once a poll has seen it (however late the
    sensor starts on a loaded machine)."""
    runway_emulator.set_faults(throttle_extra={"seconds": 300})

    def a_poll_saw_the_task() -> bool:
        polls = [r for r in runway_emulator.requests() if r["method"] == "GET" and "/tasks/" in r["path"]]
        return any(r["status"] == 200 for r in polls)

    with meanwhile(a_poll_saw_the_task, lambda: runway_emulator.advance(300), "a poll saw the task THROTTLED"):
        result = run_flow()
    assert_succeeded(result)
    [task_id] = result.task_ids
    task = result.stats["tasks"][task_id]
    assert task["started_at"] - task["created_at"] >= 300
    assert f"Runway task {task_id}: THROTTLED" in result.output, result.debug()


def test_throttled_past_the_sensor_timeout_times_out_and_cancels(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(throttle_extra={"seconds": 60})
    result = run_flow(timeout=2)
    assert result.state == "failed", result.debug()
    assert "Timed out waiting for Runway task" in result.output, result.debug()
    assert "last status: THROTTLED" in result.output
    assert_creates(result, tasks=1)
    [task_id] = result.task_ids
    assert result.stats["tasks"][task_id]["status"] == "CANCELLED", result.debug()
    assert result.requests_for(task_id, "DELETE"), "the wait that gave up cancelled its task"
    assert_nothing_left_behind(result)


def test_task_not_exist_past_the_grace_window(runway_emulator: Any, run_flow: Any) -> None:
    # Invisible for much longer than the flow takes to give up and try to cancel, on any machine.
    runway_emulator.configure(not_visible_seconds=15, generation_seconds=1)
    result = run_flow(not_visible_grace=1)
    assert result.state == "failed", result.debug()
    assert result.tis["submit"] == ("success", 1)
    assert "still answers task_not_exist after the grace" in result.output, result.debug()
    assert_creates(result, tasks=1)
    [task_id] = result.task_ids
    # The wait gave up, so it tried to cancel the task; the API cannot see it yet and says so.
    deletes = result.requests_for(task_id, "DELETE")
    assert [r["status"] for r in deletes] == [400], result.debug()
    assert "was not cancelled" in result.output
    # CometAPI cannot cancel a task it does not show yet, so this one runs to its end once it
    # appears; the error names its id so the user can find it. It must not be polled or paid again.
    assert f"Runway task {task_id} is unknown" in result.output
    deadline = time.monotonic() + 30
    while runway_emulator.stats()["tasks"][task_id]["status"] != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.2)
    result.stats = runway_emulator.stats()
    assert_creates(result, tasks=1)
    assert_nothing_left_behind(result)


def test_external_cancel_fails_the_wait_without_resubmitting(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.set_faults(external_cancel={"after_seconds": 0.8})
    result = run_flow()
    assert result.state == "failed", result.debug()
    assert result.tis["submit"] == ("success", 1)
    assert result.tis["wait"] == ("failed", 1), result.debug()
    [task_id] = result.task_ids
    assert f"Runway task {task_id} CANCELLED" in result.output, result.debug()
    assert result.stats["tasks"][task_id]["cancel_source"] == "fault"
    assert_creates(result, tasks=1, attempts=1)
    assert_nothing_left_behind(result)


def test_expired_output_url_fails_the_download_clearly(runway_emulator: Any, run_flow: Any) -> None:
    runway_emulator.configure(output_ttl_seconds=0)
    result = run_flow(store=True, download_delay=1.2)
    assert result.state == "failed", result.debug()
    assert result.tis["wait"] == ("success", 1)
    assert result.tis["store"][0] == "failed"
    assert "output URL expired" in result.output, result.debug()
    outputs = [r for r in result.requests if r["path"].startswith("/_emulator/outputs/")]
    assert [r["status"] for r in outputs] == [403], result.debug()
    [task_id] = result.task_ids
    assert result.stats["tasks"][task_id]["status"] == "SUCCEEDED"
    assert_creates(result, tasks=1, attempts=1)
    assert_nothing_left_behind(result)
