"""Batch throughput: N pictures through a real Airflow (scheduler, triggerer, LocalExecutor workers) and
through the floor, side by side in one run, against one emulator.

* ``airflow``: the example batch DAG (``dags/runway_batch_videos.py``) in a real stack
  (``tests/processes``): ``plan`` lists the pictures and chunks them, one ``RunwayBatchOperator``
  per chunk keeps its Runway tasks running, waits for them in one trigger and stores each video.
* ``floor``: one asyncio program that creates, polls and downloads the same N through the hook
  at the same concurrency (reading each picture and inlining it as the operator does): the least
  any client can do.

The emulator generates each video in ``--generation`` seconds and runs at most ``--concurrency``
tasks at once (the account's concurrency; more wait THROTTLED); it renders every video (ffmpeg),
on the same two cores, for both sides alike. Printed: wall time, videos per minute, CPU
seconds per video (Airflow: every process of the stack, workers included; floor: its process),
and the ratios; written to ``bench/results/batch_throughput[_blocking].json``.

    .venv/bin/python bench/batch_throughput.py                   # N=1000, C=50, 5 s (~8 min)
    .venv/bin/python bench/batch_throughput.py --pictures 200    # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
BATCH_DAG = ROOT / "dags" / "runway_batch_videos.py"
GOALS = {"wall_ratio": 1.3, "cpu_ms_per_video": 50.0}  # at N=1000, C=50, 5 s generation


def pictures(folder: Path, count: int) -> Path:
    from tests.storage.images import png

    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"p{index:05d}.png").write_bytes(png(8 + index % 97, 8 + index // 97))
    return folder


def start_emulator(args: argparse.Namespace, api_key: str) -> tuple[subprocess.Popen[str], Any]:
    from runway_emulator import EmulatorHandle
    from runway_emulator.runner import READY_PREFIX

    options = [
        "--port", "0", "--api-key", api_key, "--generation-seconds", str(args.generation),
        "--pending-seconds", "0.2", "--not-visible-seconds", "0", "--max-concurrency", str(args.concurrency),
        "--request-log-size", "100",
    ]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "runway_emulator", *options], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(READY_PREFIX):
            return proc, EmulatorHandle(line[len(READY_PREFIX) :].strip(), api_key=api_key, pid=proc.pid)
    raise RuntimeError(f"the emulator exited with {proc.wait()}")


# --------------------------------------------------------------------------- the floor (a child process)


async def _floor(folder: Path, out: Path, concurrency: int, poll: float) -> None:
    from airflow_provider_runway.hooks.runway import RunwayHook

    hook = RunwayHook()
    slots = asyncio.Semaphore(concurrency)

    async def one(path: Path) -> None:
        async with slots:
            uri = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
            body = {"model": "gen4_turbo", "promptImage": uri, "ratio": "1280:720", "duration": 5}
            created = await asyncio.to_thread(hook.create, "image_to_video", body)
            while True:
                await asyncio.sleep(poll)
                task = await hook.aget_task(created.id)
                if task.is_terminal:
                    break
            await asyncio.to_thread(hook.download_output, task.output[0], str(out / f"{path.stem}.mp4"))

    await asyncio.gather(*(one(path) for path in sorted(folder.glob("*.png"))))
    await hook.aclose()


def floor_child(folder: str, out: str, concurrency: int, poll: float) -> None:
    started = time.monotonic()
    asyncio.run(_floor(Path(folder), Path(out), concurrency, poll))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall_s": time.monotonic() - started, "cpu_s": usage.ru_utime + usage.ru_stime}))


def run_floor(args: argparse.Namespace, folder: Path, out: Path, env: dict[str, str]) -> dict[str, float]:
    out.mkdir()
    code = [sys.executable, __file__, "--floor-child", str(folder), str(out)]
    extra = ["--concurrency", str(args.concurrency), "--poll", str(args.poll)]
    done = subprocess.run([*code, *extra], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the floor failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["videos"] = len(list(out.glob("*.mp4")))
    return result


# --------------------------------------------------------------------------- Airflow


def stack_cpu(stack: Any) -> float:
    """CPU seconds of every process of the stack so far: live ones, and the reaped ones their parents count."""
    import psutil

    total = 0.0
    for component in stack.history:
        try:
            leader = psutil.Process(component.proc.pid)
            family = [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in family:
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


def run_airflow(args: argparse.Namespace, emulator: Any, folder: Path, out: Path) -> dict[str, Any]:
    from tests.processes.launch import running_stack

    per_chunk = max(1, args.concurrency // args.parallel_chunks)
    env = {
        "RUNWAY_PARALLEL_CHUNKS": str(args.parallel_chunks),
        "RUNWAY_POLL_INTERVAL": str(args.poll),
        "RUNWAY_BATCH_DEFERRABLE": "false" if args.blocking else "true",
        "AIRFLOW__CORE__PARALLELISM": "32",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "32",
    }
    with running_stack(emulator, env=env) as stack:
        shutil.copy(BATCH_DAG, stack.home / "dags" / BATCH_DAG.name)
        stack.wait_for_dag("runway_batch_videos", timeout=180)
        conf = {
            "images": f"{folder}/",
            "output_path": f"{out}/",
            "chunk_size": args.chunk_size,
            "concurrency": per_chunk,
            "model": "gen4_turbo",
            "ratio": "1280:720",
        }
        cpu_before, started = stack_cpu(stack), time.monotonic()
        run_id = stack.trigger("runway_batch_videos", "bench", conf)
        state = stack.wait_for_run("runway_batch_videos", run_id, timeout=args.timeout)
        wall, cpu = time.monotonic() - started, stack_cpu(stack) - cpu_before
    summary = json.loads((out / "runway-batch-summary.json").read_text())
    return {
        "state": state,
        "wall_s": wall,
        "cpu_s": cpu,
        "videos": len(list(out.glob("runway-*.mp4"))),
        "outcomes": summary["outcomes"],
        "chunks": -(-args.pictures // args.chunk_size),
        "per_chunk_in_flight": per_chunk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pictures", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50, help="the account's concurrency (C)")
    parser.add_argument("--generation", type=float, default=5.0, help="seconds to generate one video")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls of one task (both sides)")
    parser.add_argument("--chunk-size", type=int, default=250)
    parser.add_argument("--parallel-chunks", type=int, default=2)
    parser.add_argument("--blocking", action="store_true", help="batch tasks wait in the worker, not deferred")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        floor_child(args.floor_child[0], args.floor_child[1], args.concurrency, args.poll)
        return

    from tests.processes.stack import PROCESS_API_KEY

    work = Path(tempfile.mkdtemp(prefix="runway-batch-bench-"))
    folder = pictures(work / "pictures", args.pictures)
    proc, emulator = start_emulator(args, PROCESS_API_KEY)
    try:
        env = {
            **os.environ,
            "AIRFLOW_CONN_RUNWAY_DEFAULT": json.dumps(
                {
                    "conn_type": "runway",
                    "host": emulator.base_url,
                    "password": PROCESS_API_KEY,
                    "extra": {"flavor": "runway"},
                }
            ),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        floor = run_floor(args, folder, work / "floor", env)
        emulator.reset()
        airflow = run_airflow(args, emulator, folder, work / "airflow")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    report(args, floor, airflow)


def report(args: argparse.Namespace, floor: dict[str, Any], airflow: dict[str, Any]) -> None:
    n = args.pictures
    rows = {
        "floor": floor,
        "airflow": airflow,
        "ratios": {
            "wall_airflow_over_floor": airflow["wall_s"] / floor["wall_s"],
            "cpu_ms_per_video_airflow": 1000 * airflow["cpu_s"] / n,
            "cpu_ms_per_video_floor": 1000 * floor["cpu_s"] / n,
        },
    }
    print(f"\n{n} pictures, account concurrency {args.concurrency}, {args.generation:g} s each, poll {args.poll:g} s")
    print(f"{'':8} {'wall s':>8} {'videos/min':>11} {'CPU s':>8} {'CPU ms/video':>13} {'videos':>7}")
    for name, row in (("floor", floor), ("airflow", airflow)):
        print(
            f"{name:8} {row['wall_s']:8.1f} {60 * n / row['wall_s']:11.1f} {row['cpu_s']:8.1f} "
            f"{1000 * row['cpu_s'] / n:13.1f} {row['videos']:7d}"
        )
    ratio, cpu_ms = rows["ratios"]["wall_airflow_over_floor"], rows["ratios"]["cpu_ms_per_video_airflow"]
    print(
        f"wall time: Airflow {ratio:.2f}x the floor (goal <= {GOALS['wall_ratio']}); Airflow CPU {cpu_ms:.1f} ms per "
        f"video (goal <= {GOALS['cpu_ms_per_video']:g}); {airflow['chunks']} chunk(s) of {args.chunk_size}, "
        f"{args.parallel_chunks} at once, {airflow['per_chunk_in_flight']} in flight each, "
        f"{'waiting in the worker' if args.blocking else 'deferred'}; run {airflow['state']}"
    )
    results = RESULTS / f"batch_throughput{'_blocking' if args.blocking else ''}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "args": {k: v for k, v in vars(args).items() if k != "floor_child"},
                "goals": GOALS,
                **rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
