"""`make demo`: turn the bundled pictures into videos with the batch DAG, and keep them.

Uses the local emulator (started here, stopped at the end) unless a real ``runway_default``
connection is configured through ``AIRFLOW_CONN_RUNWAY_DEFAULT``. Airflow runs for real
(``dag.test()``) in a temporary AIRFLOW_HOME. ``dags/runway_batch_videos.py`` reads each
picture in ``dags/assets/``, makes its video and stores it in ``./output/`` with a JSON sidecar,
then writes a summary. The videos are named by content, so running the demo again finds every
one already done and pays for nothing.
"""

from __future__ import annotations

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
DAG_FILE = ROOT / "dags" / "runway_batch_videos.py"
DAG_ID = "runway_batch_videos"
PICTURES = ROOT / "dags" / "assets"
OUTPUT = ROOT / "output"
SUMMARY = OUTPUT / "runway-batch-summary.md"
STATUS_LINE = re.compile(r"Runway task (?P<id>[0-9a-f-]{8,}): (?P<status>[A-Z]+)(?: (?P<pct>\d+%))?")
NOT_VISIBLE = re.compile(r"Runway task (?P<id>[0-9a-f-]{8,}) is not visible yet \((?P<status>task_not_exist)\)")
STORED = re.compile(r"Stored the video of Runway task (?P<id>\S+) at (?P<video>\S+) \((?P<size>\d+) bytes")
SKIPPED = re.compile(r"Skipped, already done: (?P<video>\S+) \(Runway task (?P<id>[^)]+)\)")
SHOWN = re.compile(r"Created Runway task|ERROR|Traceback|Error:|picture\(s\) to turn")


@contextlib.contextmanager
def runway_endpoint() -> Iterator[tuple[str, object | None]]:
    """Yield (connection JSON, emulator handle or None) for the run."""
    configured = os.environ.get("AIRFLOW_CONN_RUNWAY_DEFAULT")
    if configured:
        print("Using the runway_default connection from AIRFLOW_CONN_RUNWAY_DEFAULT (real API: this costs credits).")
        yield configured, None
        return
    from runway_emulator import run_emulator

    with run_emulator(subprocess=True, generation_seconds=6.0, not_visible_seconds=2.0) as emulator:
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
        RUNWAY_POLL_INTERVAL=os.environ.get("RUNWAY_POLL_INTERVAL", "2"),
    )
    return env


def run_dag(env: dict[str, str], log_path: Path, conf: dict[str, str]) -> tuple[int, list[str], list[str]]:
    """``airflow dags test`` (i.e. ``dag.test()``); echo progress; return (exit code, stored, skipped)."""
    stored: list[str] = []
    skipped: list[str] = []
    last: dict[str, str] = {}
    started = time.monotonic()
    cmd = [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "--conf", json.dumps(conf)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with log_path.open("w") as log:
        for line in proc.stdout:
            log.write(line)
            elapsed = f"[{time.monotonic() - started:5.1f}s]"
            match = STATUS_LINE.search(line) or NOT_VISIBLE.search(line)
            if match:
                label = match["status"] + (f" {match['pct']}" if match.groupdict().get("pct") else "")
                if last.get(match["id"]) != label:
                    last[match["id"]] = label
                    print(f"  {elapsed} Runway task {match['id'][:8]}: {label}", flush=True)
            elif found := STORED.search(line):
                stored.append(found["video"])
                print(f"  {elapsed} stored {_short(found['video'])} ({found['size']} bytes) + sidecar", flush=True)
            elif found := SKIPPED.search(line):
                skipped.append(found["video"])
                print(f"  {elapsed} skipped, already done: {_short(found['video'])}", flush=True)
            elif SHOWN.search(line):
                print(f"  {elapsed} " + _message(line), flush=True)
    return proc.wait(), stored, skipped


def _short(path: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(ROOT))
    return path


def _message(line: str) -> str:
    """The event text of an Airflow log line, without its timestamp/logger decoration."""
    text = re.sub(r"^\S*\d{4}-\d\d-\d\dT\S+\s+\[\s*\w+\s*\]\s*", "", line.strip())
    return re.sub(r"\s+\[airflow\.\S+\].*$", "", text)[:200]


def save_frame(video: Path) -> Path | None:
    """A still from the middle of the video, to look at without a player (made once)."""
    frame = video.with_suffix(".frame.png")
    if frame.exists():
        return frame
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-ss", "2.5", "-i", str(video), "-frames:v", "1"]
    return frame if subprocess.run([*cmd, str(frame)], check=False).returncode == 0 else None


def describe_video(path: Path) -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        return ""
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    found = [line.strip() for line in probe.stderr.splitlines() if "Duration:" in line or "Video:" in line]
    return "; ".join(found)[:160]


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    pictures = sorted(p.name for p in PICTURES.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    conf = {"images": f"{PICTURES}/", "output_path": f"{OUTPUT}/"}
    with tempfile.TemporaryDirectory(prefix="runway-demo-airflow-") as home, runway_endpoint() as (conn, emulator):
        env = airflow_env(home, conn)
        print("Preparing a temporary Airflow home (airflow db migrate)...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True, text=True
        )
        print(f"Running DAG {DAG_ID} with dag.test() ({DAG_FILE.relative_to(ROOT)}):", flush=True)
        print(f"  pictures: {PICTURES.relative_to(ROOT)}/ ({', '.join(pictures)}), each sent inline as a data URI")
        print(f"  videos  : {OUTPUT.relative_to(ROOT)}/ (named by content: a second run finds them done)")
        code, stored, skipped = run_dag(env, OUTPUT / "demo-airflow.log", conf)
        stats = emulator.stats() if emulator is not None else None  # type: ignore[attr-defined]
    print()
    if code != 0 or not SUMMARY.exists():
        print(f"The DAG run failed (exit {code}); full log: {OUTPUT / 'demo-airflow.log'}")
        return 1
    print(SUMMARY.read_text().replace("# Runway batch summary\n\n", "Summary: ", 1).replace(f"{ROOT}/", ""))
    if stats is not None:
        print(f"emulator saw   : {stats['creates']['count']} create(s), {stats['polls']['count']} poll(s)")
    for video in stored:
        info = describe_video(Path(video))
        frame = save_frame(Path(video))
        print(f"new video      : {_short(video)}" + (f"\n  ffmpeg says  : {info}" if info else ""))
        if frame:
            print(f"  a still frame: {_short(str(frame))}")
    if skipped and not stored:
        print(
            f"nothing paid   : all {len(skipped)} video(s) were already in {_short(str(OUTPUT))}/ with their sidecars"
        )
    print(f"summary        : {_short(str(SUMMARY))} and {_short(str(SUMMARY.with_suffix('.json')))}")
    print(f"Airflow log    : {_short(str(OUTPUT / 'demo-airflow.log'))}")
    if stored and not skipped:
        print("Run `make demo` again: every picture is found already done, and nothing is paid for.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
