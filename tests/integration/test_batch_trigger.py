"""RunwayBatchTrigger run on a real event loop against the emulator: one trigger, many Runway tasks."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import pytest
from runway_emulator.pytest_plugin import TEST_API_KEY

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.triggers.batch import RunwayBatchTrigger

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
pytestmark = pytest.mark.integration


def events_of(trigger: RunwayBatchTrigger, limit: float = 60.0) -> list[dict[str, Any]]:
    async def drain() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(drain(), limit))


def submit(**body: Any) -> str:
    return RunwayHook().create_task("image_to_video", {"promptImage": CAT, "model": "gen3a_turbo", **body})


def rebuilt(trigger: RunwayBatchTrigger) -> RunwayBatchTrigger:
    """The trigger as another triggerer rebuilds it from its serialized kwargs."""
    classpath, kwargs = trigger.serialize()
    text = json.dumps(kwargs)
    assert TEST_API_KEY not in text
    module, _, name = classpath.rpartition(".")
    again: RunwayBatchTrigger = getattr(importlib.import_module(module), name)(**json.loads(text))
    assert again.serialize() == (classpath, kwargs)
    return again


def test_one_event_once_enough_tasks_ended_carrying_each_ended_task(
    runway_emulator: Any, runway_connection: Any
) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0, max_concurrency=10)
    quick = [submit(), submit()]
    refused = submit(promptText="a forbidden scene")  # FAILED: SAFETY.INPUT.TEXT
    deadline = time.time() + 30
    trigger = rebuilt(
        RunwayBatchTrigger({task: deadline for task in [*quick, refused]}, poll_interval=0.2, resume_when=3)
    )
    [event] = events_of(trigger)
    ended = event["ended"]
    assert set(ended) == {*quick, refused}
    assert [ended[task]["status"] for task in quick] == ["success", "success"]
    assert ended[refused]["status"] == "failed" and ended[refused]["task"]["failureCode"] == "SAFETY.INPUT.TEXT"
    assert all(ended[task]["task"]["cost"]["credits"] >= 0 for task in [*quick, refused])


def test_no_event_before_hold_until_even_when_the_tasks_are_done(runway_emulator: Any, runway_connection: Any) -> None:
    runway_emulator.configure(generation_seconds=0.2, not_visible_seconds=0)
    task = submit()
    hold = time.time() + 2.0
    trigger = RunwayBatchTrigger({task: None}, poll_interval=0.2, resume_when=1, hold_until=hold)
    [event] = events_of(trigger)
    assert time.time() >= hold  # the scheduler must have seen the deferring worker's exit first
    assert event["ended"][task]["status"] == "success"


def test_a_task_past_its_deadline_ends_as_timed_out_while_the_others_go_on(
    runway_emulator: Any, runway_connection: Any
) -> None:
    runway_emulator.configure(generation_seconds=600, not_visible_seconds=0)
    slow = submit()
    trigger = RunwayBatchTrigger({slow: time.time() + 1.0}, poll_interval=0.2, resume_when=1)
    [event] = events_of(trigger)
    assert event["ended"][slow]["status"] == "timeout"
