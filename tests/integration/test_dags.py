"""DAGs run for real with ``dag.test()`` against the emulator.

The example DAG runs as users and ``make demo`` run it, through an ``airflow dags test``
subprocess; the others run ``dag.test()`` in this process (same code paths, ~10x faster).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runway_emulator.pytest_plugin import TEST_API_KEY

from tests.paths import ROOT

pytestmark = pytest.mark.integration
SEED_IMAGE = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"


def run_dag_file(
    dag_file: Path, base_url: str, extra_env: dict[str, str] | None = None, *, dag_id: str
) -> subprocess.CompletedProcess:
    """``airflow dags test`` (which runs ``dag.test()``) with the DAG's folder as dags_folder."""
    env = dict(os.environ)
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(dag_file.parent),
        AIRFLOW_CONN_RUNWAY_DEFAULT=f'{{"conn_type": "runway", "host": "{base_url}", "password": "{TEST_API_KEY}"}}',
        RUNWAY_POLL_INTERVAL="0.5",
        PYTHONPATH=str(ROOT),
        **(extra_env or {}),
    )
    cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def assert_no_key_anywhere(proc: subprocess.CompletedProcess, airflow_home: str) -> None:
    assert TEST_API_KEY not in proc.stdout
    assert TEST_API_KEY not in proc.stderr
    for path in Path(airflow_home).rglob("*"):
        if path.is_file() and path.suffix != ".db":
            assert TEST_API_KEY not in path.read_text(errors="replace"), path


def assert_seed_create(emulator: Any) -> dict[str, Any]:
    creates = [r for r in emulator.requests() if r["method"] == "POST" and r["path"].endswith("image_to_video")]
    assert len(creates) == 1, creates
    [create] = creates
    headers = {k.lower(): v for k, v in create["headers"].items()}
    assert create["path"] == "/runwayml/v1/image_to_video"
    assert create["auth_matches_pinned_key"] is True
    assert headers["x-runway-version"] == "2024-11-06"
    assert headers["content-type"] == "application/json"
    assert create["body"]["promptImage"] == SEED_IMAGE
    assert create["body"]["model"] == "gen3a_turbo"
    assert all(re.fullmatch(r"[a-z]+([A-Z][a-z]+)*", key) for key in create["body"])
    return create


@pytest.fixture
def cometapi_stand_in(runway_emulator: Any) -> Any:
    """Wrapped envelopes, task_not_exist for the first seconds, one pinned key."""
    runway_emulator.configure(
        api_key=TEST_API_KEY, comet_poll_shape="wrapped", not_visible_seconds=10.0, generation_seconds=2.0
    )
    return runway_emulator


@pytest.mark.slow
def test_example_dag_end_to_end(cometapi_stand_in: Any, airflow_db: str, tmp_path: Path) -> None:
    out = tmp_path / "videos"
    dag_file = ROOT / "dags" / "runway_image_to_video.py"
    proc = run_dag_file(
        dag_file, cometapi_stand_in.base_url, {"RUNWAY_OUTPUT_DIR": str(out)}, dag_id="runway_image_to_video"
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert_seed_create(cometapi_stand_in)
    videos = list(out.glob("*.mp4"))
    assert len(videos) == 1
    if _has_ffmpeg():
        assert videos[0].read_bytes()[4:8] == b"ftyp"
    polls = [r for r in cometapi_stand_in.requests() if r["method"] == "GET" and "/tasks/" in r["path"]]
    assert any(r["status"] == 400 for r in polls), "the stand-in answered task_not_exist at first"
    assert_no_key_anywhere(proc, airflow_db)


@pytest.mark.runway_connection(flavor="runway")
def test_example_dag_runs_unchanged_on_the_runway_flavor(
    runway_emulator: Any, runway_connection: Any, run_dag_in_place: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """No model in the DAG: Runway's own API gets its flavor's default model and a ratio it takes."""
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0)
    monkeypatch.setenv("RUNWAY_OUTPUT_DIR", str(tmp_path / "videos"))
    monkeypatch.setenv("RUNWAY_POLL_INTERVAL", "0.5")
    ran = run_dag_in_place(ROOT / "dags" / "runway_image_to_video.py")
    assert ran.state == "success", ran.output[-4000:]
    [create] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert create["path"] == "/v1/image_to_video"
    assert create["body"]["model"] == "gen4_turbo" and create["body"]["ratio"]
    [video] = (tmp_path / "videos").glob("*.mp4")
    assert video.with_suffix(".json").exists()


def _has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def readme_quick_start() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    return section.split("```python", 1)[1].split("```", 1)[0]


def test_readme_quick_start_dag(
    cometapi_stand_in: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path, capfd: Any
) -> None:
    """The README's quick start as written, against the emulator: one task creates, waits, stores."""
    source = readme_quick_start().replace("/data/videos/", f"{tmp_path}/videos/")
    # The README's wait polls every 10 s (right for a real API); here every second, nothing else changes.
    assert source.count("idempotent=True,") == 1
    source = source.replace("idempotent=True,", "idempotent=True, poll_interval=1,")
    cometapi_stand_in.configure(not_visible_seconds=1.5)  # still unknown to the first poll
    ran = run_dag_source("cat_video", source)
    assert ran.state == "success", ran.output[-4000:]
    assert_seed_create(cometapi_stand_in)
    [video] = (tmp_path / "videos").glob("*.mp4")
    assert video.with_suffix(".json").exists()
    again = run_dag_source("cat_video", source)  # idempotent: found stored, nothing paid
    assert again.state == "success", again.output[-4000:]
    assert cometapi_stand_in.stats()["creates"]["count"] == 1
    assert runway_connection.api_key not in ran.output + again.output


MAPPED_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG("mapped_videos", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    submit = RunwayImageToVideoOperator.partial(task_id="submit", model="gen3a_turbo", duration="{{ 5 }}").expand(
        prompt_image=[f"https://images.example.com/{i}.jpg" for i in range(3)]
    )
    RunwayTaskSensor.partial(task_id="wait", poll_interval=0.5).expand(runway_task_id=submit.output)
"""


def test_mapped_submit_and_wait(runway_emulator: Any, runway_connection: Any, run_dag_source: Any) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.5)
    ran = run_dag_source("mapped_videos", MAPPED_DAG)
    assert ran.state == "success", ran.output[-4000:]
    stats = runway_emulator.stats()
    assert stats["creates"]["count"] == 3
    assert {t["status"] for t in stats["tasks"].values()} == {"SUCCEEDED"}
    bodies = [r["body"] for r in runway_emulator.requests() if r["method"] == "POST" and "image_to_video" in r["path"]]
    assert sorted(b["promptImage"] for b in bodies) == [f"https://images.example.com/{i}.jpg" for i in range(3)]
    assert {b["duration"] for b in bodies} == {5}
