"""Task lifecycle with an injected clock: no sockets, no sleeping."""

from __future__ import annotations

from typing import Any

import pytest
from runway_emulator.config import ConfigError, EmulatorConfig
from runway_emulator.protocol import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED, THROTTLED
from runway_emulator.shapes import bare_task, wrapped_task
from runway_emulator.state import SAFETY_CODE, EmulatorState, Task, TaskStateError
from runway_emulator.stats import emulator_stats

BODY = {"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "1280:720"}
ESTIMATE = 24.5  # what the API estimated at create; charged as 25 whole credits


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def make_state(**config: Any) -> tuple[EmulatorState, FakeClock]:
    clock = FakeClock()
    settings: dict[str, Any] = {"pending_seconds": 1.0, "generation_seconds": 10.0, "max_concurrency": 1}
    settings.update(config)
    return EmulatorState(EmulatorConfig(**settings), clock=clock), clock


def status(state: EmulatorState, task: Task) -> str:
    return state.status_now(task)[0]


def url(task: Task, index: int = 0) -> str:
    return f"http://127.0.0.1/_emulator/outputs/{task.id}{f'_{index}' if index else ''}.mp4"


def test_single_task_goes_pending_running_succeeded() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE)
    assert status(state, task) == PENDING
    clock.tick(1.0)
    assert state.status_now(task) == (RUNNING, 0.0)
    clock.tick(5.0)
    assert state.status_now(task) == (RUNNING, 0.5)
    clock.tick(5.0)
    assert status(state, task) == SUCCEEDED
    bare = bare_task(state, task, clock(), url)
    assert bare["output"] == [url(task)]
    assert bare["createdAt"].endswith("Z") and "progress" not in bare


def test_concurrency_throttles_in_fifo_order() -> None:
    state, clock = make_state(max_concurrency=2)
    a, b, c, d = (state.create("runway", dict(BODY), estimate=ESTIMATE) for _ in range(4))
    clock.tick(1.0)
    assert [status(state, t) for t in (a, b, c, d)] == [RUNNING, RUNNING, THROTTLED, THROTTLED]
    clock.tick(10.0)  # a and b finish at t=11, c and d take their slots
    assert [status(state, t) for t in (a, b, c, d)] == [SUCCEEDED, SUCCEEDED, RUNNING, RUNNING]
    assert c.started_at == pytest.approx(a.created_at + 11.0)
    clock.tick(10.0)
    assert {status(state, t) for t in (a, b, c, d)} == {SUCCEEDED}


def test_schedule_is_replayed_when_nobody_polled_in_between() -> None:
    # Nobody looks for 100 s: the lazily computed schedule must still start tasks one after another.
    state, clock = make_state()
    tasks = [state.create("runway", dict(BODY), estimate=ESTIMATE) for _ in range(3)]
    clock.tick(100.0)
    state.catch_up(clock())
    starts = [t.started_at for t in tasks]
    base = tasks[0].created_at
    assert starts == [pytest.approx(base + 1.0), pytest.approx(base + 11.0), pytest.approx(base + 21.0)]


def test_throttle_extra_keeps_a_free_slot_unused() -> None:
    state, clock = make_state(max_concurrency=5)
    task = state.create("runway", dict(BODY), estimate=ESTIMATE, throttle_extra=30.0)
    clock.tick(1.5)
    assert status(state, task) == THROTTLED
    clock.tick(29.5)
    assert status(state, task) == RUNNING


def test_safety_word_fails_after_pending_without_using_a_slot() -> None:
    state, clock = make_state(safety_words=("forbidden",))
    bad = state.create("runway", dict(BODY, promptText="something FORBIDDEN here"), estimate=ESTIMATE)
    good = state.create("runway", dict(BODY), estimate=ESTIMATE)
    assert status(state, bad) == PENDING
    clock.tick(1.0)
    assert status(state, bad) == FAILED
    assert status(state, good) == RUNNING
    bare = bare_task(state, bad, clock(), url)
    assert bare["failureCode"] == SAFETY_CODE and bare["failure"]


def test_cancel_running_task_frees_its_slot() -> None:
    state, clock = make_state()
    first = state.create("runway", dict(BODY), estimate=ESTIMATE)
    second = state.create("runway", dict(BODY), estimate=ESTIMATE)
    clock.tick(3.0)
    assert [status(state, first), status(state, second)] == [RUNNING, THROTTLED]
    assert state.cancel(first, "api") == RUNNING
    assert status(state, first) == CANCELLED
    clock.tick(0.001)
    assert status(state, second) == RUNNING
    assert state.cancels[0]["source"] == "api"
    # The server saw it RUNNING: no refund (runwayml 5.24.0, TasksResource.delete).
    assert bare_task(state, first, clock(), url)["cost"] == {"credits": 25}


def test_cancel_while_throttled_never_runs_and_is_refunded() -> None:
    state, clock = make_state()
    first = state.create("runway", dict(BODY), estimate=ESTIMATE)
    queued = state.create("runway", dict(BODY), estimate=ESTIMATE)
    clock.tick(2.0)
    state.cancel(queued, "admin")
    clock.tick(30.0)
    assert status(state, queued) == CANCELLED and queued.started_at is None
    assert status(state, first) == SUCCEEDED
    assert bare_task(state, queued, clock(), url)["cost"] == {"credits": 0}
    assert state.credits_spent(clock()) == first.credits


def test_cancel_of_finished_task_changes_nothing() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE)
    clock.tick(20.0)
    assert state.cancel(task, "api") == SUCCEEDED
    assert status(state, task) == SUCCEEDED


def test_scheduled_external_cancel() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE, cancel_after=4.0)
    clock.tick(3.9)
    assert status(state, task) == RUNNING
    clock.tick(0.2)
    assert status(state, task) == CANCELLED
    stats = emulator_stats(state)
    assert stats["cancels"]["items"][0]["source"] == "fault"
    assert stats["tasks"][task.id]["cancel_source"] == "fault"
    assert stats["tasks"][task.id]["credits"] == 25  # it was RUNNING when cancelled


def test_delete_hides_the_task_from_its_flavor_only_view() -> None:
    state, _clock = make_state()
    task = state.create("cometapi", dict(BODY), estimate=ESTIMATE)
    assert state.lookup(task.id, "cometapi") is task
    assert state.lookup(task.id, "runway") is None  # the other API has never heard of it
    state.delete(task)
    assert state.lookup(task.id, "cometapi") is None
    assert emulator_stats(state)["tasks"][task.id]["deleted"] is True


def test_wrapped_envelope_maps_statuses() -> None:
    state, clock = make_state(pending_seconds=2.0)
    task = state.create("cometapi", dict(BODY), estimate=ESTIMATE)

    def outer() -> dict[str, Any]:
        now = clock()
        state.catch_up(now)
        return wrapped_task(state, bare_task(state, task, now, url), task, now)["data"]

    assert outer()["status"] == "SUBMITTED"
    clock.tick(1.5)
    assert outer()["status"] == "QUEUED"
    clock.tick(1.0)
    data = outer()
    assert (data["status"], data["progress"], data["data"]["status"]) == ("IN_PROGRESS", "5%", RUNNING)
    assert data["start_time"] == int(task.created_at + 2.0)
    clock.tick(10.0)
    data = outer()
    assert (data["status"], data["progress"], data["result_url"]) == ("SUCCESS", "100%", url(task))
    assert data["finish_time"] == int(task.created_at + 12.0)
    assert data["data"]["cost"] == {"credits": 25}  # the inner task is Runway's, money included


def test_stats_reports_polls_and_intervals() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE)
    for _ in range(3):
        state.record_poll(task, clock())
        clock.tick(2.5)
    stats = emulator_stats(state)
    assert stats["creates"]["count"] == 1
    assert stats["polls"]["by_task"][task.id]["count"] == 3
    assert stats["polls"]["by_task"][task.id]["min_interval"] == pytest.approx(2.5)
    assert stats["active_tasks"] == [task.id]


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="comet_poll_shape"):
        EmulatorConfig(comet_poll_shape="flat")
    with pytest.raises(ConfigError, match="unknown config field"):
        EmulatorConfig().replace({"generation_secs": 1})
    with pytest.raises(ConfigError, match="only be set at startup"):
        EmulatorConfig().replace({"port": 1}, runtime=True)
    assert EmulatorConfig().replace({"safety_words": ["a", "b"]}).safety_words == ("a", "b")
    assert "secret" not in str(EmulatorConfig(api_key="secret").to_dict())


def test_delete_cancels_a_running_task_and_deletes_a_finished_one() -> None:
    state, clock = make_state(max_concurrency=2)
    running, finished = (
        state.create("runway", dict(BODY), estimate=ESTIMATE),
        state.create("runway", dict(BODY), estimate=ESTIMATE),
    )
    clock.tick(1.0)
    finished.done_at = clock()  # finished a moment ago
    clock.tick(0.5)
    assert (status(state, running), status(state, finished)) == (RUNNING, SUCCEEDED)
    assert state.delete(running) == RUNNING
    assert state.delete(finished) == SUCCEEDED
    assert status(state, running) == CANCELLED and status(state, finished) == SUCCEEDED
    assert state.lookup(running.id, "runway") is None and state.lookup(finished.id, "runway") is None
    deletes = emulator_stats(state)["deletes"]
    assert (deletes["count"], deletes["finished"]) == (2, 1)
    assert [(d["task_id"], d["finished"]) for d in deletes["items"]] == [(running.id, False), (finished.id, True)]


@pytest.mark.parametrize("when", [0.5, 2.0])  # PENDING, then RUNNING
def test_complete_finishes_now_and_frees_the_slot(when: float) -> None:
    state, clock = make_state()
    task, queued = (
        state.create("runway", dict(BODY), estimate=ESTIMATE),
        state.create("runway", dict(BODY), estimate=ESTIMATE),
    )
    clock.tick(when)
    before = status(state, task)
    assert state.complete(task) == before
    assert status(state, task) == SUCCEEDED
    assert bare_task(state, task, clock(), url)["output"] == [url(task)]
    clock.tick(1.0)  # the queued task takes the freed slot once its own PENDING is over
    assert status(state, queued) == RUNNING
    with pytest.raises(TaskStateError, match="already SUCCEEDED"):
        state.complete(task)


def test_complete_a_throttled_task_never_uses_a_slot() -> None:
    state, clock = make_state()
    first, throttled, third = (state.create("runway", dict(BODY), estimate=ESTIMATE) for _ in range(3))
    clock.tick(2.0)
    assert status(state, throttled) == THROTTLED
    state.complete(throttled)
    assert status(state, throttled) == SUCCEEDED
    clock.tick(9.0)  # first ends at t=11: the third task is next, not the completed one
    assert (status(state, first), status(state, third)) == (SUCCEEDED, RUNNING)


def test_fail_with_a_code_and_message() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE)
    clock.tick(3.0)
    assert state.fail(task, "INTERNAL.BAD_OUTPUT.CODE01", "bad output") == RUNNING
    assert status(state, task) == FAILED
    bare = bare_task(state, task, clock(), url)
    assert (bare["failureCode"], bare["failure"]) == ("INTERNAL.BAD_OUTPUT.CODE01", "bad output")
    assert bare["cost"] == {"credits": 0}  # a failed task is refunded
    assert state.credits_spent(clock()) == 0
    assert emulator_stats(state)["tasks"][task.id]["failure_code"] == "INTERNAL.BAD_OUTPUT.CODE01"
    with pytest.raises(TaskStateError):
        state.fail(task, "INTERNAL", "again")


def test_fail_overrides_a_pending_safety_failure() -> None:
    state, _clock = make_state(safety_words=("forbidden",))
    task = state.create("runway", dict(BODY, promptText="forbidden"), estimate=ESTIMATE)
    state.fail(task, "ASSET.INVALID", "unusable image")
    assert bare_task(state, task, state.clock(), url)["failureCode"] == "ASSET.INVALID"


def test_advancing_the_clock_moves_every_task_and_reset_restores_wall_time() -> None:
    state, clock = make_state(max_concurrency=2)
    tasks = [state.create("runway", dict(BODY), estimate=ESTIMATE) for _ in range(2)]
    state.clock.advance(11.0)
    assert [status(state, t) for t in tasks] == [SUCCEEDED, SUCCEEDED]
    assert state.clock() == clock() + 11.0
    with pytest.raises(ValueError, match="forward"):
        state.clock.advance(-1)
    state.reset()
    assert state.clock() == clock() and state.tasks == {}


@pytest.mark.parametrize(
    ("detail", "inner", "code"),
    [("full", True, "SAFETY.INPUT.TEXT"), ("no_code", True, None), ("reason_only", False, None)],
)
def test_comet_failure_detail(detail: str, inner: bool, code: str | None) -> None:
    state, clock = make_state(comet_failure_detail=detail, safety_words=("forbidden",))
    task = state.create("cometapi", dict(BODY, promptText="forbidden"), estimate=ESTIMATE)
    clock.tick(1.0)
    bare = bare_task(state, task, clock(), url)
    data = wrapped_task(state, bare, task, clock())["data"]
    assert data["status"] == "FAILURE" and data["fail_reason"] == bare["failure"]
    assert ("data" in data) is inner
    assert bare.get("failureCode") == code
    runway = state.create("runway", dict(BODY, promptText="forbidden"), estimate=ESTIMATE)
    clock.tick(1.0)
    assert bare_task(state, runway, clock(), url)["failureCode"] == SAFETY_CODE  # Runway always sends it


def test_money_follows_the_status() -> None:
    state, clock = make_state()
    task = state.create("runway", dict(BODY), estimate=ESTIMATE)

    def money() -> dict[str, Any]:
        bare = bare_task(state, task, clock(), url)
        return {key: bare[key] for key in ("estimatedCost", "cost") if key in bare}

    assert money() == {"estimatedCost": {"credits": 24.5}}  # PENDING: the estimate, a float
    clock.tick(1.0)
    assert status(state, task) == RUNNING and money() == {"estimatedCost": {"credits": 24.5}}
    clock.tick(10.0)
    assert status(state, task) == SUCCEEDED and money() == {"cost": {"credits": 25}}  # whole credits
