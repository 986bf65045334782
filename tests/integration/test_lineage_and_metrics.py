"""Lineage events and metrics of a real DAG run: ``airflow dags test`` with the OpenLineage provider writing
its events to a file and Airflow's Stats exporting OpenTelemetry metrics to a local receiver.

A subprocess, so that Airflow configures OpenLineage and metrics from the environment at start, as a
deployment does. The DAG: two pictures mapped over the image-to-video operator (one made, one refused
by Runway's moderation), and a create whose output a sensor stores. The emulator's output URLs live
one second and the first download is held three, so one expired URL is fetched again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.otlp_receiver import CapturedMetrics, otlp_receiver
from tests.paths import ROOT
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, SUNSET_WEBP
from tests.ui.batch_inputs import BATCH_DAG, BATCH_DAG_ID, batch_conf

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG_ID = "runway_lineage"
DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator
from airflow_provider_runway.sensors.runway import RunwayTaskSensor

with DAG("runway_lineage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayImageToVideoOperator.partial(
        task_id="make", wait_for_completion=True, deferrable=True, poll_interval=0.3, output_path="{out}/made/",
    ).expand_kwargs([
        {{"prompt_image": "{pictures}/cat.png", "prompt_text": "a cat turns its head"}},
        {{"prompt_image": "{pictures}/fractal.jpg", "prompt_text": "a forbidden scene"}},
    ])
    submit = RunwayImageToVideoOperator(task_id="submit", prompt_image="{pictures}/sunset.webp")
    RunwayTaskSensor(task_id="wait", runway_task_id=submit.output, output_path="{out}/waited/", poll_interval=0.3,
                     deferrable=False, mode="poke")
"""


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]
    metrics: CapturedMetrics
    emulator_stats: dict[str, Any]
    out: Path
    pictures: Path

    def event(self, event_type: str, task: str) -> dict[str, Any]:
        found = [e for e in self.events if e["eventType"] == event_type and e["job"]["name"] == f"{DAG_ID}.{task}"]
        assert found, f"no {event_type} event for {task}: {[(e['eventType'], e['job']['name']) for e in self.events]}"
        return found[-1]


def dags_test(dag_id: str, dags: Path, emulator: Any, events_file: Path, *args: str, **env: str) -> Any:
    """``airflow dags test`` with the emulator's connection and OpenLineage writing events to ``events_file``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLINEAGE", "OTEL_"))}
    full.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW_CONN_RUNWAY_DEFAULT=json.dumps(
            {"conn_type": "runway", "host": emulator.base_url, "password": "lineage-test-key"}
        ),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps({"type": "file", "log_file_path": str(events_file), "append": True}),
        AIRFLOW__OPENLINEAGE__NAMESPACE="runway-test",
        AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD="True",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
        RUNWAY_POLL_INTERVAL="0.3",
        **env,
    )
    command = [sys.executable, "-m", "airflow", "dags", "test", dag_id, *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=300)


def read_events(events_file: Path) -> list[dict[str, Any]]:
    lines = events_file.read_text().splitlines() if events_file.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def lineage_run(
    runway_emulator_session: Any, airflow_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    emulator = runway_emulator_session
    emulator.reset()
    emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3, output_ttl_seconds=1)
    emulator.set_faults(slow={"count": 1, "delay": 3.0, "route": "output", "when": "before"})
    root = tmp_path_factory.mktemp("lineage")
    pictures, out, dags = root / "pictures", root / "out", root / "dags"
    for folder in (pictures, out, dags):
        folder.mkdir()
    (pictures / "cat.png").write_bytes(CAT_PNG)
    (pictures / "fractal.jpg").write_bytes(FRACTAL_JPEG)
    (pictures / "sunset.webp").write_bytes(SUNSET_WEBP)
    (dags / f"{DAG_ID}.py").write_text(DAG.format(out=out, pictures=pictures))
    events_file = root / "openlineage.jsonl"
    with otlp_receiver() as (port, captured):
        proc = dags_test(
            DAG_ID,
            dags,
            emulator,
            events_file,
            AIRFLOW__METRICS__OTEL_ON="True",
            AIRFLOW__METRICS__OTEL_HOST="127.0.0.1",
            AIRFLOW__METRICS__OTEL_PORT=str(port),
            AIRFLOW__METRICS__OTEL_INTERVAL_MILLISECONDS="500",
            AIRFLOW__METRICS__OTEL_SSL_ACTIVE="False",
        )
    events = read_events(events_file)
    yield Run(proc, events, captured, emulator.stats(), out, pictures)
    emulator.reset()


def datasets(event: dict[str, Any], key: str) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event.get(key) or []]


def test_each_task_names_what_it_read_and_what_it_stored(lineage_run: Run) -> None:
    assert "Runway task" in lineage_run.proc.stdout + lineage_run.proc.stderr, lineage_run.proc.stderr[-3000:]
    [made] = sorted((lineage_run.out / "made").glob("*.mp4"))
    [waited] = sorted((lineage_run.out / "waited").glob("*.mp4"))
    pictures = lineage_run.pictures

    complete = [e for e in lineage_run.events if e["eventType"] == "COMPLETE" and e["job"]["name"] == f"{DAG_ID}.make"]
    [made_event] = [e for e in complete if datasets(e, "outputs")]
    assert datasets(made_event, "inputs") == [("file", str(pictures / "cat.png"))]
    assert datasets(made_event, "outputs") == [("file", str(made))]
    facets = made_event["run"]["facets"]
    runway = facets["runway"]
    assert facets["externalQuery"]["externalQueryId"] == runway["items"][0]["runwayTaskId"]
    assert runway["endpoint"] == "image_to_video" and runway["model"] == "gen3a_turbo"
    charged = {task_id: t["credits"] for task_id, t in lineage_run.emulator_stats["tasks"].items()}
    assert runway["creditsCharged"] == charged[facets["externalQuery"]["externalQueryId"]] > 0

    failed = lineage_run.event("FAIL", "make")
    assert datasets(failed, "inputs") == [("file", str(pictures / "fractal.jpg"))]
    assert datasets(failed, "outputs") == []
    assert failed["run"]["facets"]["runway"]["items"][0]["failureCode"] == "SAFETY.INPUT.TEXT"
    assert "SAFETY.INPUT.TEXT" in failed["run"]["facets"]["errorMessage"]["message"]

    submitted = lineage_run.event("COMPLETE", "submit")
    assert datasets(submitted, "inputs") == [("file", str(pictures / "sunset.webp"))]
    sensed = lineage_run.event("COMPLETE", "wait")
    assert datasets(sensed, "inputs") == [("file", str(pictures / "sunset.webp"))]
    assert datasets(sensed, "outputs") == [("file", str(waited))]
    assert (
        sensed["run"]["facets"]["externalQuery"]["externalQueryId"]
        == (submitted["run"]["facets"]["externalQuery"]["externalQueryId"])
    )


def test_metrics_count_creates_credits_failures_waits_and_download_retries(lineage_run: Run) -> None:
    metrics, stats = lineage_run.metrics, lineage_run.emulator_stats
    assert metrics.total("airflow.runway.tasks_created", endpoint="image_to_video", flavor="cometapi") == 3
    assert metrics.total("airflow.runway.tasks_created") == stats["creates"]["count"] == 3
    charged = sum(t["credits"] for t in stats["tasks"].values() if t["status"] == "SUCCEEDED")
    assert metrics.total("airflow.runway.credits_charged", status="success") == charged > 0
    assert metrics.total("airflow.runway.task_failures", code="SAFETY.INPUT.TEXT", endpoint="image_to_video") == 1
    # One wait ended per Runway task: a histogram on 3.3, a gauge of milliseconds on 3.1 (Airflow's OTel logger).
    waits = metrics.named("airflow.runway.wait_seconds")
    assert {frozenset(dict(attrs).items()) for attrs in waits} == {
        frozenset({("endpoint", "image_to_video"), ("status", "success")}),
        frozenset({("endpoint", "image_to_video"), ("status", "failed")}),
        frozenset({("status", "success")}),  # the sensor's: it does not know the endpoint
    }
    assert all(value > 0 for value in waits.values())
    assert metrics.total("airflow.runway.download_retries", status="403") == 1


def test_a_batch_task_names_one_input_per_picture_and_one_output_per_video(
    runway_emulator: Any, airflow_db: str, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    events_file = tmp_path / "openlineage.jsonl"
    conf = batch_conf(tmp_path)
    proc = dags_test(BATCH_DAG_ID, BATCH_DAG.parent, runway_emulator, events_file, "--conf", json.dumps(conf))
    [video] = sorted(Path(conf["output_path"]).glob("*.mp4"))
    jobs = [e for e in read_events(events_file) if e["job"]["name"] == f"{BATCH_DAG_ID}.videos"]
    [ended] = [e for e in jobs if e["eventType"] in ("COMPLETE", "FAIL")]
    assert ended["eventType"] == "FAIL", proc.stderr[-3000:]  # one picture refused, one invalid: the chunk fails
    pictures = Path(conf["manifest"]).parent
    assert datasets(ended, "inputs") == [
        ("file", str(pictures / name)) for name in ("cat.png", "fractal.jpg", "tiny.gif")
    ]
    assert datasets(ended, "outputs") == [("file", str(video))]
    items = ended["run"]["facets"]["runway"]["items"]
    assert [(i["outcome"], i.get("failureCode")) for i in items] == [  # OpenLineage leaves nulls out
        ("created", None),
        ("failed", "SAFETY.INPUT.TEXT"),
        ("failed", "INVALID_INPUT"),
    ]
    assert "externalQuery" not in ended["run"]["facets"]  # two Runway tasks: each is in the runway facet instead
