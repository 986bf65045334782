"""The emulator's clock: wall time plus an offset that tests can move forward.

Task status is computed from the clock on every read, so advancing the offset is all it takes
to jump a whole batch of tasks ahead (PENDING -> RUNNING -> SUCCEEDED, output URLs expiring)
without sleeping through the generation time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

Clock = Callable[[], float]


class OffsetClock:
    """``source() + offset``; ``advance`` only ever moves it forward, ``reset`` back to the source."""

    __slots__ = ("_offset", "_source")

    def __init__(self, source: Clock = time.time) -> None:
        self._source = source
        self._offset = 0.0

    def __call__(self) -> float:
        return self._source() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (finite, >= 0); returns the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; seconds must be >= 0, got {seconds!r}")
        self._offset += float(seconds)
        return self()

    def reset(self) -> None:
        self._offset = 0.0
