"""Triggerer scale: N real ``RunwayTaskTrigger.run()`` on one event loop, against the floor, in one run.

For each N (1,000 and 10,000 by default) two child processes run in turn on CPU 0, each for a
warm-up and then a measured window, against one emulator process pinned to CPU 1:

* ``triggers``: N ``RunwayTaskTrigger`` instances (deadline an hour away) driven by ``run()``,
  exactly as a triggerer drives them, on the hook's shared aiohttp session;
* ``floor``: a bare loop on one shared ``aiohttp.ClientSession`` doing the same polls (same
  URLs, headers and rate, first polls spread evenly over the first interval, ``json.loads`` of
  each answer): the least any client can spend on these polls.

Each child reports RSS per trigger (RSS growth from before the N waits exist to the window's
end, divided by N), event-loop lag (a 50 ms ticker: p50/p99/max), polls/s against the expected
N/interval, and process CPU seconds per poll; the table adds the ratios to the floor. The
emulator's own served polls/s and CPU are measured over the same window: when it is saturated
(>= 90 % of its core) the client figures are not reported, since they would measure the emulator.
"lockstep" is the share of the window's polls that fell in the busiest tenth of the poll
interval (0.10: spread evenly, 1.00: every wait polls at the same moment). Polls in lockstep
share loop wake-ups (less CPU per poll) but stall the loop in bursts (more lag): compare CPU
and lag with the floor at a similar lockstep share.

Tasks stay unfinished for the whole run (generation takes an hour). The emulator runs at most
``--emulator-concurrency`` of them at once (RUNNING, with progress), the rest wait THROTTLED:
its scheduler walks the running tasks on every poll, so 10,000 RUNNING tasks would measure the
emulator. Trigger logs are formatted as Airflow configures them and written to /dev/null.

    .venv/bin/python bench/triggerer_scale.py            # ~5 min; writes bench/results/triggerer_scale.json
    .venv/bin/python bench/triggerer_scale.py --quick    # ~1.5 min, shorter window
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CONN_ENV = "AIRFLOW_CONN_RUNWAY_DEFAULT"
BENCH_KEY = "bench-key-not-a-secret"
RESULTS = Path(__file__).resolve().parent / "results" / "triggerer_scale.json"
TICK = 0.05
SATURATED = 0.90
GOALS = {  # N: (polls/s fraction of expected, lag p99 ms, CPU/poll ratio to floor, KiB per trigger)
    1000: (0.98, 20.0, 1.5, None),
    10000: (0.95, 100.0, 1.5, 15.0),
}


# --------------------------------------------------------------------------- child: one measured loop


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - started - TICK)


async def _prepare(first_id: str) -> None:
    """Imports, the connection and one poll on the shared session, before the baseline RSS."""
    import aiohttp  # noqa: F401

    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.triggers.runway import RunwayTaskTrigger  # noqa: F401

    await RunwayHook().aget_task(first_id)


async def _triggers(ids: list[str], interval: float) -> tuple[list[asyncio.Task[None]], Any]:
    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.triggers.runway import RunwayTaskTrigger

    async def drain(trigger: RunwayTaskTrigger) -> None:
        async for event in trigger.run():
            raise RuntimeError(f"a trigger fired during the bench: {event.payload}")

    deadline = time.time() + 3600
    tasks = [
        asyncio.create_task(drain(RunwayTaskTrigger(runway_task_id=i, poll_interval=interval, deadline=deadline)))
        for i in ids
    ]

    stats = RunwayHook.async_pool_stats()
    assert stats is not None  # created by _prepare

    def polls() -> int:
        return stats.completed

    return tasks, polls


async def _floor(ids: list[str], interval: float, session: Any) -> tuple[list[asyncio.Task[None]], Any]:
    from airflow_provider_runway.hooks.runway import RunwayHook

    settings = await RunwayHook().aget_settings()
    headers = settings.headers()
    count = [0]

    async def poll(task_id: str, first: float) -> None:
        url = settings.url(f"tasks/{task_id}")
        await asyncio.sleep(first)
        while True:
            async with session.get(url, headers=headers) as response:
                json.loads(await response.read())
            count[0] += 1
            await asyncio.sleep(interval)

    rng = random.Random(0)
    return [asyncio.create_task(poll(i, rng.uniform(0, interval))) for i in ids], lambda: count[0]


async def _child(args: argparse.Namespace, report: Any) -> dict[str, Any]:
    import aiohttp

    ids = json.loads(Path(args.ids).read_text())[: args.n]
    await _prepare(ids[0])
    session = aiohttp.ClientSession()  # the floor's; created in both modes so both baselines hold it
    gc.collect()
    base_rss = _rss()
    if args.mode == "triggers":
        tasks, polls = await _triggers(ids, args.interval)
    else:
        tasks, polls = await _floor(ids, args.interval, session)
    report("started", n=len(ids))
    await asyncio.sleep(args.warmup)
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    cpu0, polls0, t0 = time.process_time(), polls(), time.monotonic()
    report("window_start")
    await asyncio.sleep(args.window)
    cpu1, polls1, t1 = time.process_time(), polls(), time.monotonic()
    report("window_end")
    rss = _rss()
    stop.set()
    await ticker
    failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()
    done = polls1 - polls0
    lag_ms = sorted(x * 1000 for x in lags)
    return {
        "mode": args.mode,
        "n": len(ids),
        "window_s": t1 - t0,
        "polls": done,
        "polls_per_s": done / (t1 - t0),
        "expected_polls_per_s": len(ids) / args.interval,
        "cpu_s": cpu1 - cpu0,
        "cpu_ms_per_poll": (cpu1 - cpu0) * 1000 / done if done else None,
        "cpu_core_fraction": (cpu1 - cpu0) / (t1 - t0),
        "rss_growth_bytes": rss - base_rss,
        "rss_kib_per_item": (rss - base_rss) / 1024 / len(ids),
        "lag_ms": {
            "p50": statistics.median(lag_ms),
            "p99": lag_ms[min(len(lag_ms) - 1, int(len(lag_ms) * 0.99))],
            "max": lag_ms[-1],
            "ticks": len(lag_ms),
        },
        "failed_waits": [repr(t.exception()) for t in failed][:3],
    }


def child_main(args: argparse.Namespace) -> int:
    out = os.fdopen(args.report_fd, "w", buffering=1)

    def report(kind: str, **data: Any) -> None:
        out.write(json.dumps({"kind": kind, "at": time.monotonic(), **data}) + "\n")

    result = asyncio.run(_child(args, report))
    report("result", result=result)
    return 0


# --------------------------------------------------------------------------- parent: emulator, children, table


def _create_tasks(count: int) -> list[str]:
    from airflow_provider_runway.hooks.runway import RunwayHook

    body = {"promptImage": "https://example.com/frame.jpg", "model": "gen4_turbo", "ratio": "1280:720"}

    def create(n: int) -> list[str]:
        hook = RunwayHook()
        return [hook.create_task("image_to_video", body) for _ in range(n)]

    workers = 4
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        parts = pool.map(create, [count // workers + (i < count % workers) for i in range(workers)])
    return [task_id for part in parts for task_id in part]


class EmulatorMeter:
    """Polls served and CPU spent by the emulator process between two marks, and when they came."""

    def __init__(self, handle: Any, interval: float) -> None:
        import psutil

        self._handle = handle
        self._proc = psutil.Process(handle.pid)
        self._interval = interval
        self._marks: list[tuple[float, int, float, float]] = []
        self._times: list[float] = []

    def mark(self) -> None:
        cpu = self._proc.cpu_times()
        stats = self._handle.stats()
        self._marks.append((time.monotonic(), int(stats["polls"]["count"]), cpu.user + cpu.system, stats["now"]))
        self._times = [t for item in stats["polls"]["by_task"].values() for t in item["times"]]

    def result(self) -> dict[str, float]:
        (t0, p0, c0, now0), (t1, p1, c1, now1) = self._marks[-2:]
        return {
            "polls_per_s": (p1 - p0) / (t1 - t0),
            "cpu_core_fraction": (c1 - c0) / (t1 - t0),
            "busiest_tenth_share": self._busiest_tenth([t for t in self._times if now0 <= t <= now1]),
        }

    def _busiest_tenth(self, times: list[float]) -> float:
        """Share of the window's polls in the busiest tenth of the poll interval: 0.1 spread evenly, 1.0 lockstep."""
        bins = [0] * 10
        for t in times:
            bins[int((t % self._interval) / self._interval * 10) % 10] += 1
        return max(bins) / max(len(times), 1)


def _run_child(mode: str, n: int, args: argparse.Namespace, ids_file: Path, meter: EmulatorMeter) -> dict[str, Any]:
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, __file__, "--child", mode, "--n", str(n), "--ids", str(ids_file)]
    cmd += ["--interval", str(args.interval), "--warmup", str(args.warmup), "--window", str(args.window)]
    cmd += ["--report-fd", str(write_fd)]
    proc = subprocess.Popen(
        cmd, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    os.close(write_fd)
    result: dict[str, Any] = {}
    with os.fdopen(read_fd) as reports:
        for line in reports:
            message = json.loads(line)
            if message["kind"] in ("window_start", "window_end"):
                meter.mark()
            elif message["kind"] == "result":
                result = message["result"]
    if proc.wait() != 0 or not result:
        raise RuntimeError(f"{mode} child for N={n} failed (exit {proc.returncode})")
    emulator = meter.result()
    result["emulator"] = emulator
    result["emulator_kept_up"] = emulator["cpu_core_fraction"] < SATURATED
    return result


def _verdict(n: int, run: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    share, p99, cpu_ratio, kib = GOALS.get(n, (None, None, None, None))
    checks = {
        "polls_per_s": run["polls_per_s"] >= share * run["expected_polls_per_s"] if share else None,
        "lag_p99": run["lag_ms"]["p99"] <= p99 if p99 else None,
        "cpu_per_poll": run["ratios"]["cpu_per_poll"] <= cpu_ratio if cpu_ratio else None,
        "rss_per_trigger": run["rss_kib_per_item"] <= kib if kib else None,
    }
    return {k: v for k, v in checks.items() if v is not None}


def _table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'N':>6} {'mode':<9} {'polls/s':>8} {'expected':>8} {'lag p50':>8} {'p99':>7} {'max':>7} "
        f"{'CPU ms/poll':>11} {'RSS KiB/wait':>12} {'x floor CPU':>11} {'x floor p99':>11} {'lockstep':>8}  emulator"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        emu = r["emulator"]
        where = f"{emu['polls_per_s']:.0f} polls/s, {emu['cpu_core_fraction']:.0%} CPU"
        if not r["emulator_kept_up"]:
            lines.append(f"{r['n']:>6} {r['mode']:<9} emulator could not keep up ({where}): no client figures")
            continue
        ratios = r.get("ratios", {})
        lag = r["lag_ms"]
        lines.append(
            f"{r['n']:>6} {r['mode']:<9} {r['polls_per_s']:8.1f} {r['expected_polls_per_s']:8.0f} "
            f"{lag['p50']:7.1f}ms {lag['p99']:5.1f}ms {lag['max']:5.0f}ms {r['cpu_ms_per_poll']:11.3f} "
            f"{r['rss_kib_per_item']:12.2f} {ratios.get('cpu_per_poll', 1.0):10.2f}x "
            f"{ratios.get('lag_p99', 1.0):10.2f}x {emu['busiest_tenth_share']:8.2f}  {where}"
        )
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parent_main(args: argparse.Namespace) -> int:
    import psutil
    from runway_emulator import run_emulator

    cores = os.cpu_count() or 1
    pinned = hasattr(os, "sched_setaffinity") and cores > 1
    if pinned:
        os.sched_setaffinity(0, {0})  # this process and the children it starts
    config = {
        "generation_seconds": 3600.0,
        "pending_seconds": 0.0,
        "not_visible_seconds": 0.0,
        "max_concurrency": args.emulator_concurrency,
        "request_log_size": 0,
    }
    load = os.getloadavg()
    started = time.time()
    with run_emulator(subprocess=True, cpu_affinity={1} if pinned else None, **config) as emulator:
        os.environ[CONN_ENV] = json.dumps(
            {"conn_type": "runway", "host": emulator.base_url, "password": BENCH_KEY, "extra": {"flavor": "runway"}}
        )
        ids_file = RESULTS.parent / ".triggerer_scale_ids.json"
        ids_file.parent.mkdir(parents=True, exist_ok=True)
        ids_file.write_text(json.dumps(_create_tasks(max(args.counts))))
        meter = EmulatorMeter(emulator, args.interval)
        results: list[dict[str, Any]] = []
        try:
            for n in args.counts:
                floor = _run_child("floor", n, args, ids_file, meter)
                run = _run_child("triggers", n, args, ids_file, meter)
                run["ratios"] = {
                    "cpu_per_poll": run["cpu_ms_per_poll"] / floor["cpu_ms_per_poll"],
                    "lag_p99": run["lag_ms"]["p99"] / max(floor["lag_ms"]["p99"], 0.01),
                    "rss_per_item": run["rss_kib_per_item"] / max(floor["rss_kib_per_item"], 0.01),
                }
                run["goals_met"] = (
                    _verdict(n, run, floor) if run["emulator_kept_up"] and floor["emulator_kept_up"] else {}
                )
                results += [floor, run]
                print(_table(results[-2:]), flush=True)
        finally:
            ids_file.unlink(missing_ok=True)
    document = {
        "bench": "triggerer_scale",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {
            "cpus": cores,
            "pinned": {"client": 0, "emulator": 1} if pinned else None,
            "load_average_at_start": [round(x, 2) for x in load],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "cpu_model": _cpu_model(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "settings": {
            "poll_interval_s": args.interval,
            "warmup_s": args.warmup,
            "window_s": args.window,
            "tick_s": TICK,
            "emulator": config,
            "flavor": "runway",
            "goals": {
                str(n): dict(zip(("polls_share", "lag_p99_ms", "cpu_ratio", "rss_kib"), g, strict=True))
                for n, g in GOALS.items()
            },
        },
        "results": results,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print("\n" + _table(results))
    for r in results:
        if r["mode"] == "triggers" and r.get("goals_met"):
            print(
                f"N={r['n']}: goals "
                + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in r["goals_met"].items())
            )
    print(f"load average at start {load[0]:.2f} (shared machine: figures are noisy); JSON: {RESULTS}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short warm-up and window")
    parser.add_argument("--counts", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000])
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--window", type=float, default=None)
    parser.add_argument("--emulator-concurrency", type=int, default=100)
    parser.add_argument("--child", choices=["triggers", "floor"], dest="mode")
    parser.add_argument("--n", type=int)
    parser.add_argument("--ids")
    parser.add_argument("--report-fd", type=int)
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.interval + 2 if args.quick else 1.5 * args.interval
    if args.window is None:
        args.window = 2 * args.interval if args.quick else 4 * args.interval
    return child_main(args) if args.mode else parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
