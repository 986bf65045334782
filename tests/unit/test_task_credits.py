"""The API's own money (SDK 5.14+): ``estimatedCost`` on creates and unfinished tasks, ``cost`` on final ones."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.runway.credits import final_credits, task_credits
from airflow_provider_runway.runway.errors import MalformedResponseError
from airflow_provider_runway.runway.remote_task import RunwayTask, parse_created, parse_task, read_credits


@pytest.mark.parametrize(
    "payload, expected",
    [
        ({"id": "t1", "estimatedCost": {"credits": 25.5}}, ("t1", 25.5)),
        ({"id": "t1"}, ("t1", None)),  # a proxy that does not pass the figure on
        ({"id": "t1", "estimatedCost": {"credits": "lots"}}, ("t1", None)),
        ({"id": "t1", "estimatedCost": {"credits": True}}, ("t1", None)),
        ({"code": "success", "data": {"task_id": "t2", "estimatedCost": {"credits": 10}}}, ("t2", 10.0)),
        # the Model Router (generate/*): the estimate is the routing's
        ({"id": "t3", "routing": {"model": "gen4.5", "estimatedCost": {"credits": 60}}}, ("t3", 60.0)),
    ],
)
def test_a_create_answer_gives_the_id_and_the_apis_estimate(payload: Any, expected: tuple[str, Any]) -> None:
    created = parse_created(payload)
    assert (created.id, created.estimated_credits) == expected


def test_a_create_answer_without_an_id_is_malformed_whatever_it_costs() -> None:
    with pytest.raises(MalformedResponseError):
        parse_created({"estimatedCost": {"credits": 5}})


def test_polls_carry_the_estimate_while_unfinished_and_the_cost_once_final() -> None:
    running = parse_task({"id": "t", "status": "RUNNING", "estimatedCost": {"credits": 40}})
    assert (running.estimated_credits, running.cost_credits) == (40.0, None)
    done = parse_task({"id": "t", "status": "SUCCEEDED", "output": ["https://x/o.mp4"], "cost": {"credits": 35}})
    assert (done.estimated_credits, done.cost_credits) == (None, 35.0)
    refunded = parse_task({"id": "t", "status": "CANCELLED", "cost": {"credits": 0}})
    assert refunded.cost_credits == 0.0
    wrapped = parse_task(
        {
            "code": "success",
            "data": {
                "task_id": "t",
                "status": "SUCCESS",
                "data": {"id": "t", "status": "SUCCEEDED", "cost": {"credits": 12}},
            },
        }
    )
    assert wrapped.cost_credits == 12.0


def test_the_figures_survive_the_trip_through_xcom_and_trigger_events() -> None:
    task = RunwayTask(id="t", status="SUCCEEDED", output=("https://x/o.mp4",), cost_credits=35.0)
    data = task.to_dict()
    assert data["cost"] == {"credits": 35.0} and "estimatedCost" not in data
    assert RunwayTask.from_dict(data) == task


@pytest.mark.parametrize("value", [None, {}, {"credits": -1}, {"credits": None}, "5", [5]])
def test_anything_but_a_non_negative_number_of_credits_reads_as_no_figure(value: Any) -> None:
    assert read_credits(value) is None


def test_the_credits_record_prefers_the_apis_figures_and_says_where_each_came_from() -> None:
    assert task_credits(25.0) == {
        "charged": None,
        "estimated": 25.0,
        "estimate_source": "catalog",
        "catalog_estimate": 25.0,
    }
    assert task_credits(25.0, 30.0)["estimated"] == 30.0
    assert task_credits(None, 30.0)["estimate_source"] == "api"
    assert task_credits(None)["estimate_source"] is None


def test_the_final_record_adds_the_apis_cost_to_what_was_remembered_at_the_create() -> None:
    remembered = task_credits(25.0, 30.0)
    final = final_credits(remembered, {"id": "t", "status": "SUCCEEDED", "cost": {"credits": 28}})
    assert final == {**remembered, "charged": 28.0}
    # a sensor on a task created elsewhere: the task's own figures are all there is
    alone = final_credits(None, {"id": "t", "status": "FAILED", "cost": {"credits": 0}})
    assert alone["charged"] == 0.0 and alone["estimate_source"] is None
