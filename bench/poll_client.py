"""Benchmark: the provider's pooled HTTP clients against the naive alternatives, side by side.

Runs against the local emulator (pinned to CPU 0 when possible; the clients run here) and
prints polls/s and ratios measured in the same run:

* async (trigger path): ``RunwayHook.aget_task`` on the one shared aiohttp session per event
  loop, versus a new ``aiohttp.ClientSession`` per poll (what a trigger without a shared
  session does);
* sync (sensor poke / operator wait): the hook's pooled ``requests.Session`` versus
  ``requests.get`` with a fresh connection per call;
* DAG parse cost: importing the operator and sensor after ``airflow.sdk``, versus ``import requests``.

Loopback has no TLS, so the pooled advantage against a real HTTPS API is larger than shown.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp
import requests

ROUNDS = 3
ASYNC_POLLS = 500
CONCURRENT_TRIGGERS = 50
SYNC_POLLS = 500


def _env_conn(base_url: str) -> None:
    os.environ["AIRFLOW_CONN_RUNWAY_BENCH"] = json.dumps({"conn_type": "runway", "host": base_url, "password": "bench"})


async def _async_pooled(task_id: str) -> float:
    from airflow_provider_runway.hooks.runway import RunwayHook

    hooks = [RunwayHook("runway_bench") for _ in range(CONCURRENT_TRIGGERS)]
    per_hook = ASYNC_POLLS // CONCURRENT_TRIGGERS
    started = time.perf_counter()

    async def trigger(hook: Any) -> None:
        for _ in range(per_hook):
            await hook.aget_task(task_id)

    await asyncio.gather(*(trigger(h) for h in hooks))
    return per_hook * CONCURRENT_TRIGGERS / (time.perf_counter() - started)


async def _async_client_per_poll(url: str, headers: dict[str, str]) -> float:
    per_trigger = ASYNC_POLLS // CONCURRENT_TRIGGERS
    started = time.perf_counter()

    async def trigger() -> None:
        for _ in range(per_trigger):
            async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
                json.loads(await response.read())

    await asyncio.gather(*(trigger() for _ in range(CONCURRENT_TRIGGERS)))
    return per_trigger * CONCURRENT_TRIGGERS / (time.perf_counter() - started)


def _sync_pooled(task_id: str) -> float:
    from airflow_provider_runway.hooks.runway import RunwayHook

    hook = RunwayHook("runway_bench")
    started = time.perf_counter()
    for _ in range(SYNC_POLLS):
        hook.get_task(task_id)
    return SYNC_POLLS / (time.perf_counter() - started)


def _sync_fresh(url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    for _ in range(SYNC_POLLS):
        requests.get(url, headers={**headers, "Connection": "close"}, timeout=10).json()
    return SYNC_POLLS / (time.perf_counter() - started)


def _import_cost(statement: str) -> float:
    code = (
        "import time; from airflow.sdk import DAG, BaseOperator, BaseSensorOperator; t = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> int:
    from runway_emulator import run_emulator

    affinity = {0} if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1 else None
    if affinity:
        os.sched_setaffinity(0, {1})
    with run_emulator(subprocess=True, cpu_affinity=affinity, not_visible_seconds=0, generation_seconds=3600) as emu:
        _env_conn(emu.base_url)
        from airflow_provider_runway.hooks.runway import RunwayHook

        hook = RunwayHook("runway_bench")
        task_id = hook.create_task(
            "image_to_video", {"promptImage": "https://example.com/a.jpg", "model": "gen3a_turbo"}
        )
        url = hook.settings.url(f"tasks/{task_id}")
        headers = hook.settings.headers()
        rows: dict[str, list[float]] = {k: [] for k in ("async_pooled", "async_fresh", "sync_pooled", "sync_fresh")}
        for _ in range(ROUNDS):  # interleaved so drift hits both sides alike
            rows["async_pooled"].append(asyncio.run(_async_pooled(task_id)))
            rows["async_fresh"].append(asyncio.run(_async_client_per_poll(url, headers)))
            rows["sync_pooled"].append(_sync_pooled(task_id))
            rows["sync_fresh"].append(_sync_fresh(url, headers))
    med = {k: statistics.median(v) for k, v in rows.items()}
    ours = statistics.median(
        _import_cost("import airflow_provider_runway.operators.runway, airflow_provider_runway.sensors.runway")
        for _ in range(3)
    )
    req = statistics.median(_import_cost("import requests") for _ in range(3))
    print(
        f"async polls, {CONCURRENT_TRIGGERS} triggers: shared client {med['async_pooled']:8.0f}/s | "
        f"client per poll {med['async_fresh']:8.0f}/s | ratio {med['async_pooled'] / med['async_fresh']:.2f}x"
    )
    print(
        f"sync polls:                pooled session {med['sync_pooled']:8.0f}/s | "
        f"fresh connection {med['sync_fresh']:8.0f}/s | ratio {med['sync_pooled'] / med['sync_fresh']:.2f}x"
    )
    print(
        f"DAG-parse import cost:     operator+sensor {ours * 1000:6.1f} ms | import requests {req * 1000:6.1f} ms | "
        f"ratio {req / ours:.1f}x cheaper"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
