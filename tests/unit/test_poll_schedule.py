"""The poll grid: spread, jittered, never closer than 5 s, the same after a restart."""

from __future__ import annotations

import itertools
import statistics
from datetime import timedelta

import pytest

from airflow_provider_runway.runway.poll_schedule import (
    FIRST_POLL_MIN,
    MIN_POLL_GAP,
    PollSchedule,
    poll_interval_seconds,
)

T0 = 1_700_000_000.0


def polls(schedule: PollSchedule, start: float, count: int, *, poll_takes: float = 0.05) -> list[float]:
    """Poll times of a wait that sleeps until each next slot (each poll takes ``poll_takes``)."""
    times: list[float] = []
    now, last = start, None
    for _ in range(count):
        at = schedule.next_poll_at(now, last)
        times.append(at)
        last, now = at, at + poll_takes
    return times


@pytest.mark.parametrize("interval", [5.0, 6.0, 10.0, 30.0, 60.0])
def test_default_and_long_intervals_never_poll_closer_than_five_seconds(interval: float) -> None:
    for task in (f"task-{i}" for i in range(50)):
        times = polls(PollSchedule(task, interval), T0, 40)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= MIN_POLL_GAP - 1e-6, (task, min(gaps))


@pytest.mark.parametrize("interval", [0.05, 0.2, 1.0, 4.0])
def test_a_shorter_interval_asked_for_is_honoured(interval: float) -> None:
    times = polls(PollSchedule("t", interval), T0, 40, poll_takes=0.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= interval - 1e-6
    assert statistics.mean(gaps) == pytest.approx(interval, rel=0.05)  # honoured, not rounded up to 5 s


def test_mean_gap_is_the_interval_with_a_small_jitter() -> None:
    schedule = PollSchedule("task-a", 10.0)
    times = polls(schedule, T0, 200, poll_takes=0.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.mean(gaps) == pytest.approx(10.0, rel=0.01)
    assert 8.0 - 1e-6 <= min(gaps) < 9.9  # jittered (+-10 % per slot: gaps within 8..12 s)
    assert 10.1 < max(gaps) <= 12.0 + 1e-6
    assert len({round(g, 3) for g in gaps}) > 50


def test_first_polls_of_a_batch_spread_over_the_interval() -> None:
    """1,000 waits deferred at the same instant: first polls spread over the interval, not a burst."""
    firsts = [PollSchedule(f"task-{i}", 10.0).next_poll_at(T0, None) - T0 for i in range(1000)]
    assert min(firsts) >= FIRST_POLL_MIN
    assert max(firsts) <= FIRST_POLL_MIN + 10.0 * 1.2  # the next slot: one interval plus two jitters
    per_second = [sum(1 for f in firsts if s <= f < s + 1) for s in range(1, 11)]
    assert max(per_second) < 160, per_second  # ~100 per second, no second carrying a burst


def test_a_batch_stays_spread_later_on() -> None:
    """Not lockstep: after many polls the batch still polls spread over the interval."""
    tenth = [polls(PollSchedule(f"task-{i}", 10.0), T0, 10)[-1] for i in range(500)]
    window = [t % 10.0 for t in tenth]
    per_second = [sum(1 for w in window if s <= w < s + 1) for s in range(10)]
    assert max(per_second) < 90, per_second


def test_the_grid_is_the_same_for_a_restarted_trigger() -> None:
    """A trigger rebuilt from its kwargs lands on the same slots: it cannot poll right after its predecessor."""
    schedule = PollSchedule("task-r", 10.0)
    before = polls(schedule, T0, 5)
    for restart_at in (before[-1] + 0.01, before[-1] + 3.0, before[-1] + 9.0):
        again = PollSchedule("task-r", 10.0).next_poll_at(restart_at, None)  # fresh process, no memory
        assert again - before[-1] >= MIN_POLL_GAP - 1e-6
        assert again - restart_at >= FIRST_POLL_MIN


def test_a_slow_poll_skips_to_the_next_slot_that_keeps_the_gap() -> None:
    schedule = PollSchedule("task-s", 10.0)
    first = schedule.next_poll_at(T0, None)
    after_slow = schedule.next_poll_at(first + 25.0, first)  # the poll took 25 s (hook retries)
    assert after_slow >= first + 25.0
    assert after_slow - (first + 25.0) <= 10.0 * 1.2


def test_due_keeps_the_gap_and_a_fresh_wait_may_poll_at_once() -> None:
    schedule = PollSchedule("t", 10.0)
    assert schedule.due(T0, None)
    assert not schedule.due(T0 + 4.99, T0)
    assert schedule.due(T0 + 5.0, T0)
    assert PollSchedule("t", 0.2).due(T0 + 0.2, T0)


def test_each_task_has_its_own_phase() -> None:
    assert PollSchedule("a", 10.0).slot(0) != PollSchedule("b", 10.0).slot(0)
    assert PollSchedule("a", 10.0).slot(7) == PollSchedule("a", 10.0).slot(7)  # stable across processes


@pytest.mark.parametrize(("value", "seconds"), [(10, 10.0), (0.2, 0.2), (timedelta(seconds=30), 30.0)])
def test_poll_interval_seconds(value: float | timedelta, seconds: float) -> None:
    assert poll_interval_seconds(value) == seconds


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "10", timedelta(0)])
def test_a_poll_interval_that_cannot_be_one_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        poll_interval_seconds(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll_interval"):
        PollSchedule("t", value)  # type: ignore[arg-type]
