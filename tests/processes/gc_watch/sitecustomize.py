"""Records every long full garbage collection of the Airflow processes the ``processes`` tests start.

On ``PYTHONPATH`` of those processes only (never installed): a full (generation 2) collection
of a process holding hundreds of thousands of objects stops all its threads for tenths of a
second, which a triggerer's watchdog reports as its async thread being blocked. The scale
test reads these records to tell such pauses from a trigger blocking the loop.
One line per collection longer than ``MIN_SECONDS``: ``<end unix time> <seconds> <pid> <argv>``.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

LOG_DIR = os.environ.get("RUNWAY_GC_LOG_DIR")
MIN_SECONDS = 0.05
_started: list[float] = []


def _record(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
        return
    took = time.perf_counter() - _started[0] if _started else 0.0
    if info.get("generation") == 2 and took >= MIN_SECONDS:
        with open(os.path.join(str(LOG_DIR), f"gc-{os.getpid()}.log"), "a") as log:
            log.write(f"{time.time():.3f} {took:.3f} {os.getpid()} {' '.join(sys.argv[1:2])}\n")


if LOG_DIR:
    gc.callbacks.append(_record)
