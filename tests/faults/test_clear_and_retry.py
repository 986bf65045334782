"""A retry reconnects to the earlier try's Runway task; a cleared task does what ``reuse_after_clear`` says.

Real Airflow runs (``dag.test()``) against the emulator. The first run's wait gives up on ten
unreadable answers in a row (``cancel_on_timeout=False``, so the Runway task keeps running)
and the task fails with the id still remembered. Then:

* retry: ``retries=1`` -> try 2 of the same lineage reconnects, one paid task;
* clear: a second ``dag.test()`` on the same logical date clears the task instance
  (``SerializedDAG.clear_dags`` -> ``clear_task_instances``, which sets ``max_tries`` anew) and runs
  the same DAG run again. ``reuse_after_clear=False`` submits a new task, ``True`` reconnects.
  Each choice is also run with the task state discarded between the runs, as
  apache/airflow PR #72100 would do on clear: the outcome must not change.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_runway.execution.submitted_tasks import STATE_KEY, variable_key

pytestmark = pytest.mark.integration

IMAGE = "https://images.example.com/cat.jpg"
LOGICAL_DATE = datetime(2026, 3, 1, tzinfo=timezone.utc)
UNREADABLE_TEN_TIMES = {"malformed": {"count": 10, "body": "html", "route": "poll"}}

DAG_SOURCE = """
from datetime import datetime, timedelta
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator(
        task_id="submit", prompt_image={image!r}, wait_for_completion=True, deferrable=False, poll_interval=0.1,
        cancel_on_timeout=False, retries={retries!r}, retry_delay=timedelta(0), reuse_after_clear={reuse!r},
    )
"""


def has_task_state_store() -> bool:
    try:
        from airflow.models.task_state_store import TaskStateStoreModel  # noqa: F401
    except ImportError:  # Airflow < 3.3
        return False
    return True


def discard_task_state(dag_id: str) -> int:
    """What apache/airflow PR #72100 does on clear: drop the task instance's task_state_store rows."""
    from airflow.models.task_state_store import TaskStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        return int(session.execute(delete(TaskStateStoreModel).where(TaskStateStoreModel.dag_id == dag_id)).rowcount)


def stored_record(dag_id: str, run_id: str) -> dict[str, Any] | None:
    """The record the operator left, wherever it is (task_state_store row or Variable)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        if has_task_state_store():
            from airflow.models.task_state_store import TaskStateStoreModel

            row = session.scalar(
                select(TaskStateStoreModel.value).where(
                    TaskStateStoreModel.dag_id == dag_id, TaskStateStoreModel.key == STATE_KEY
                )
            )
            if row is not None:
                return {"in": "task_state_store", **json.loads(row)}
        variable = session.scalar(select(Variable).where(Variable.key == variable_key(dag_id, run_id, "submit", -1)))
        if variable is not None:
            return {"in": "Variable", **json.loads(variable.val)}
    return None


def returned_id(dag_id: str, run_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "return_value"
            )
        )
    try:  # a JSON column on 3.3, serialised text on 3.1
        return json.loads(value)
    except (TypeError, ValueError):
        return value


@pytest.fixture
def keep_the_dag_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """dag.test() clears the logical date's task instances, then deletes the run: keep it, as a clear does."""
    from airflow.models import dagrun
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    create = dagrun.get_or_create_dagrun

    def existing_run(**kwargs: Any) -> Any:
        session = kwargs["session"]
        run = session.scalar(
            select(dagrun.DagRun).where(
                dagrun.DagRun.dag_id == kwargs["dag"].dag_id, dagrun.DagRun.logical_date == kwargs["logical_date"]
            )
        )
        if run is None:
            return create(**kwargs)
        run.state = DagRunState.RUNNING
        run.dag = kwargs["dag"]
        session.commit()
        return run

    monkeypatch.setattr(dagrun, "get_or_create_dagrun", existing_run)


def first_run_gives_up(runway_emulator: Any, run_dag_source: Any, dag_id: str, source: str) -> Any:
    runway_emulator.configure(generation_seconds=3.0, not_visible_seconds=0)
    runway_emulator.set_faults(**UNREADABLE_TEN_TIMES)
    ran = run_dag_source(dag_id, source, logical_date=LOGICAL_DATE)
    assert ran.tis()["submit"] == ("failed", 1), ran.output[-6000:]
    assert "after 10 unreadable answers in a row" in ran.output
    [first] = [item["task_id"] for item in runway_emulator.stats()["creates"]["items"]]
    return ran, first


def test_a_retry_reconnects_to_the_earlier_tries_task(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    runway_emulator.configure(generation_seconds=3.0, not_visible_seconds=0)
    runway_emulator.set_faults(**UNREADABLE_TEN_TIMES)
    dag_id = "lineage_retry"
    ran = run_dag_source(dag_id, DAG_SOURCE.format(dag_id=dag_id, image=IMAGE, retries=1, reuse=False))
    assert ran.tis()["submit"] == ("success", 2), ran.output[-6000:]
    stats = runway_emulator.stats()
    assert stats["creates"]["count"] == 1
    [task_id] = [item["task_id"] for item in stats["creates"]["items"]]
    # RUNNING, or already SUCCEEDED on a slower machine: either way the same task, not a new one.
    assert re.search(
        rf"Reconnecting to Runway task {task_id} \((RUNNING|SUCCEEDED)\) created by an earlier try", ran.output
    )
    assert stored_record(dag_id, ran.dag_run.run_id) is None  # forgotten once the task succeeded


@pytest.mark.parametrize("discarded", [False, True], ids=["state-kept", "state-discarded-as-pr-72100"])
@pytest.mark.parametrize("reuse", [False, True], ids=["submit-anew", "reuse"])
def test_a_cleared_task_does_what_reuse_after_clear_says(
    runway_emulator: Any,
    runway_connection: Any,
    run_dag_source: Any,
    keep_the_dag_run: None,
    reuse: bool,
    discarded: bool,
) -> None:
    if discarded and not has_task_state_store():
        pytest.skip("Airflow < 3.3 has no task_state_store to discard")
    dag_id = f"cleared_{'reuse' if reuse else 'anew'}_{'discarded' if discarded else 'kept'}"
    source = DAG_SOURCE.format(dag_id=dag_id, image=IMAGE, retries=0, reuse=reuse)
    first_run, first = first_run_gives_up(runway_emulator, run_dag_source, dag_id, source)
    record = stored_record(dag_id, first_run.dag_run.run_id)
    assert record is not None
    assert record["runway_task_id"] == first
    assert record["max_tries"] == 0  # the lineage: retries=0 and never cleared
    expected_store = "Variable" if reuse or not has_task_state_store() else "task_state_store"
    assert record["in"] == expected_store
    if discarded:
        assert discard_task_state(dag_id) == (0 if reuse else 1)

    second = run_dag_source(dag_id, source, logical_date=LOGICAL_DATE)  # clears, then runs the same DAG run

    assert second.dag_run.run_id == first_run.dag_run.run_id
    [ti] = second.dag_run.get_task_instances()
    assert (str(ti.state), ti.max_tries) == ("success", 1), second.output[-6000:]  # cleared: max_tries = 1 + 0
    creates = [item["task_id"] for item in runway_emulator.stats()["creates"]["items"]]
    if reuse:
        assert creates == [first]
        assert f"Reconnecting to Runway task {first}" in second.output
        assert returned_id(dag_id, ti.run_id) == first
    else:
        assert len(creates) == 2
        assert returned_id(dag_id, ti.run_id) == creates[1]
        if not discarded:  # the earlier run's id was still there: say why it is not reused
            assert f"reuse_after_clear=False: submitting a new Runway task (task {first} is left as it is)" in (
                second.output
            )
    assert stored_record(dag_id, second.dag_run.run_id) is None
