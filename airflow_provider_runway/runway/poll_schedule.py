"""When to poll a Runway task: spread in time, never faster than Runway updates, restart-proof.

Every wait (trigger, sensor, operator) polls on one grid per task: slot ``k`` is at
``phase + k * interval`` plus a small jitter, where the phase and each slot's jitter come from
a hash of the task id. So

* a batch of waits deferred at the same moment polls spread over the interval, not in bursts
  (each task has its own phase), and keeps drifting apart (each slot has its own jitter);
* a trigger rebuilt from its kwargs (triggerer restart, another triggerer taking over) lands on
  the same grid, so it cannot poll right after its predecessor did: no state to carry;
* consecutive slots are at least ``min_gap`` apart: Runway says not to expect updates of a task
  more than once every five seconds (quoted in the project's API notes; Runway's own SDK polls
  every 6 s +- 1.5 s, runwayml 5.13 ``lib/polling.py``), unless the user explicitly set a
  shorter ``poll_interval`` (tests, the emulator), which is then honoured.

Pure: the caller passes the clock in.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

MIN_POLL_GAP = 5.0
FIRST_POLL_MIN = 1.0
JITTER = 0.10
# Epoch seconds carry ~0.2 us of float error: a slot this close to the earliest time counts as on time.
_EPSILON = 1e-6


def poll_interval_seconds(value: timedelta | float) -> float:
    """``poll_interval`` in seconds (a timedelta or a number), refused unless positive and finite."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"poll_interval: expected a positive number of seconds, got {value!r}")
    return float(seconds)


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) (not Python's per-process salted ``hash``)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class PollSchedule:
    """The poll grid of one task.

    :param task_id: the Runway task id (seeds the phase and the jitter).
    :param interval: mean seconds between polls (> 0).
    """

    task_id: str
    interval: float

    def __post_init__(self) -> None:
        poll_interval_seconds(self.interval)

    @property
    def min_gap(self) -> float:
        """Shortest time between two polls: 5 s, or the interval when the user asked for less."""
        return min(MIN_POLL_GAP, self.interval)

    @property
    def jitter(self) -> float:
        """Largest shift of one slot; small enough that two slots stay ``min_gap`` apart."""
        return min(JITTER * self.interval, (self.interval - self.min_gap) / 2)

    def slot(self, k: int) -> float:
        """Epoch seconds of slot ``k``."""
        phase = self.interval * _unit(self.task_id)
        shift = self.jitter * (2 * _unit(self.task_id, k) - 1) if self.jitter else 0.0
        return phase + k * self.interval + shift

    def next_poll_at(self, now: float, last_poll_at: float | None) -> float:
        """The first slot a poll may use: after a short first delay, or ``min_gap`` after the last poll."""
        if last_poll_at is None:
            earliest = now + min(FIRST_POLL_MIN, self.interval)
        else:
            earliest = max(now, last_poll_at + self.min_gap)
        k = math.floor((earliest - self.interval * _unit(self.task_id)) / self.interval) - 1
        while self.slot(k) < earliest - _EPSILON:
            k += 1
        return self.slot(k)

    def due(self, now: float, last_poll_at: float | None) -> bool:
        """Whether a poll now keeps the gap to the last one (a fresh wait may poll at once)."""
        return last_poll_at is None or now >= last_poll_at + self.min_gap - _EPSILON
