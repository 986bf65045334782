"""`make demo`: run the example DAG end to end and keep the video it makes.

Uses the local emulator (started here, stopped at the end) unless a real ``runway_default``
connection is configured through ``AIRFLOW_CONN_RUNWAY_DEFAULT``. Airflow runs for real
(``dag.test()``) in a temporary AIRFLOW_HOME; the video lands in ``./output/``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAG_FILE = ROOT / "dags" / "runway_image_to_video.py"
OUTPUT = ROOT / "output"
STATUS_LINE = re.compile(r"Runway task (?P<id>[0-9a-f-]{8,}): (?P<status>[A-Z]+)(?: (?P<pct>\d+%))?")
NOT_VISIBLE = re.compile(r"Runway task (?P<id>[0-9a-f-]{8,}) is not visible yet \((?P<status>task_not_exist)\)")
SHOWN = re.compile(r"Created Runway task|Runway video URL|Stored \d+ bytes|ERROR|Traceback|Error:")
DEMO_IMAGE = ROOT / "dags" / "assets" / "demo_cat.png"


@contextlib.contextmanager
def runway_endpoint() -> Iterator[tuple[str, object | None]]:
    """Yield (connection JSON, emulator handle or None) for the run."""
    configured = os.environ.get("AIRFLOW_CONN_RUNWAY_DEFAULT")
    if configured:
        print("Using the runway_default connection from AIRFLOW_CONN_RUNWAY_DEFAULT (real API: this costs credits).")
        yield configured, None
        return
    from airflow_provider_runway.emulator import run_emulator

    with run_emulator(subprocess=True, generation_seconds=12.0, not_visible_seconds=3.0) as emulator:
        print(f"Started the local Runway emulator at {emulator.base_url} (CometAPI flavor, wrapped envelopes).")
        conn = {"conn_type": "runway", "host": emulator.base_url, "password": f"demo-{secrets.token_hex(8)}"}
        yield json.dumps(conn), emulator
    print("Stopped the emulator.")


def airflow_env(home: str, conn: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__DAGS_FOLDER=str(DAG_FILE.parent),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_RUNWAY_DEFAULT=conn,
        RUNWAY_OUTPUT_DIR=str(OUTPUT),
        RUNWAY_POLL_INTERVAL=os.environ.get("RUNWAY_POLL_INTERVAL", "2"),
    )
    return env


def run_dag(
    env: dict[str, str], log_path: Path, conf: dict[str, str]
) -> tuple[int, list[tuple[float, str]], str | None, str | None]:
    """``airflow dags test`` (i.e. ``dag.test()``); echo progress; return (exit code, timeline, task id, video)."""
    timeline: list[tuple[float, str]] = []
    task_id = video = None
    started = time.monotonic()
    cmd = [sys.executable, "-m", "airflow", "dags", "test", "runway_image_to_video", "--conf", json.dumps(conf)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with log_path.open("w") as log:
        for line in proc.stdout:
            log.write(line)
            match = STATUS_LINE.search(line) or NOT_VISIBLE.search(line)
            if match:
                task_id = match["id"]
                label = match["status"] + (f" {match['pct']}" if match.groupdict().get("pct") else "")
                if not timeline or timeline[-1][1] != label:
                    timeline.append((time.monotonic() - started, label))
                    print(f"  [{timeline[-1][0]:5.1f}s] Runway task {task_id}: {label}", flush=True)
                continue
            stored = re.search(r"Stored (\d+) bytes at (\S+\.mp4)", line)
            if stored:
                video = stored[2]
            if SHOWN.search(line):
                print("  " + _message(line), flush=True)
    return proc.wait(), timeline, task_id, video


def _message(line: str) -> str:
    """The event text of an Airflow log line, without its timestamp/logger decoration."""
    text = re.sub(r"^\S*\d{4}-\d\d-\d\dT\S+\s+\[\s*\w+\s*\]\s*", "", line.strip())
    return re.sub(r"\s+\[airflow\.\S+\].*$", "", text)[:200]


def demo_conf(emulated: bool) -> dict[str, str]:
    """The emulator cannot fetch the seed's https picture offline, so send a bundled one inline."""
    if not emulated:
        return {}
    return {"prompt_image": "data:image/png;base64," + base64.b64encode(DEMO_IMAGE.read_bytes()).decode()}


def save_frame(video: str) -> str | None:
    """A still from the middle of the video, to look at without a player."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    frame = str(Path(video).with_suffix(".frame.png"))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-ss", "2.5", "-i", video, "-frames:v", "1", frame]
    return frame if subprocess.run(cmd, check=False).returncode == 0 else None


def describe_video(path: str) -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        return ""
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", path], capture_output=True, text=True, check=False
    )
    found = [line.strip() for line in probe.stderr.splitlines() if "Duration:" in line or "Video:" in line]
    return "; ".join(found)


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runway-demo-airflow-") as home, runway_endpoint() as (conn, emulator):
        env = airflow_env(home, conn)
        print("Preparing a temporary Airflow home (airflow db migrate)...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True, text=True
        )
        print(f"Running DAG runway_image_to_video with dag.test() ({DAG_FILE.relative_to(ROOT)}):", flush=True)
        if emulator is not None:
            print(f"Input image: {DEMO_IMAGE.relative_to(ROOT)} (sent inline as a data URI)")
        code, timeline, task_id, video = run_dag(env, OUTPUT / "demo-airflow.log", demo_conf(emulator is not None))
        stats = emulator.stats() if emulator is not None else None  # type: ignore[attr-defined]
    print()
    if code != 0 or not video:
        print(f"The DAG run failed (exit {code}); full log: {OUTPUT / 'demo-airflow.log'}")
        return 1
    print("Summary")
    print(f"  Runway task id : {task_id}")
    print("  status timeline: " + " -> ".join(f"{label} @{t:.0f}s" for t, label in timeline))
    if stats is not None:
        print(f"  emulator saw   : {stats['creates']['count']} create(s), {stats['polls']['count']} poll(s)")
    print(f"  video          : {video} ({Path(video).stat().st_size} bytes)")
    info = describe_video(video)
    if info:
        print(f"  ffmpeg says    : {info}")
    frame = save_frame(video)
    if frame:
        print(f"  a still frame  : {frame}")
    print(f"  Airflow log    : {OUTPUT / 'demo-airflow.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
