"""The chain DAG and a generic-operator DAG through real Airflow (``dag.test()`` in this process, the
DAG files where they live) against the emulator. The batch DAG has its own tests (test_batch.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT
from tests.storage.test_dags_storage import xcoms

pytestmark = pytest.mark.integration
CHAIN_DAG = ROOT / "dags" / "runway_text_image_video.py"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_POLL_INTERVAL", "0.3")  # read by the example DAGs at parse


def run(run_dag_in_place: Any, dag_file: Path, conf: dict[str, Any] | None = None) -> str:
    """``dag.test()`` of ``dag_file``; the run's state and whole output."""
    ran = run_dag_in_place(dag_file, run_conf=conf or {})
    return f"{ran.state}\n{ran.output}"


def creates(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == "POST" and not r["path"].endswith("/usage")]


def sent_inline(logged: str, path: Path) -> bool:
    """Whether the request carried ``path``'s bytes as a data URI (the log elides long values to a digest)."""
    from runway_emulator.requestlog import elide

    from airflow_provider_runway.media.inputs import sniff_type

    data = path.read_bytes()
    sniffed = sniff_type(data[:32])
    assert sniffed is not None
    uri = f"data:{sniffed[0]};base64," + base64.b64encode(data).decode("ascii")
    return logged in (uri, elide(uri))


@pytest.mark.parametrize("runway_connection", ["cometapi", "runway"], indirect=True)
def test_text_image_video_upscale_chain_feeds_each_stored_output_to_the_next_step(
    runway_connection: Any, runway_emulator: Any, run_dag_in_place: Any, tmp_path: Path
) -> None:
    flavor = runway_connection.flavor
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    output = run(run_dag_in_place, CHAIN_DAG, {"output_path": f"{tmp_path}/"})
    assert output.startswith("success"), output[-6000:]
    image_create, video_create, upscale_create = creates(runway_emulator)
    prefix = "/runwayml/v1" if flavor == "cometapi" else "/v1"
    paths = [c["path"] for c in (image_create, video_create, upscale_create)]
    assert paths == [f"{prefix}/text_to_image", f"{prefix}/image_to_video", f"{prefix}/video_upscale"]
    [run_folder] = list(tmp_path.iterdir())
    [still] = list((run_folder / "1-image").glob("*.png"))
    [video] = list((run_folder / "2-video").glob("*.mp4"))
    [upscaled] = list((run_folder / "3-upscaled").glob("*.mp4"))
    # each step sent the file the previous step stored
    assert sent_inline(video_create["body"]["promptImage"], still)
    assert sent_inline(upscale_create["body"]["videoUri"], video)
    assert upscaled.read_bytes()[4:8] == b"ftyp"
    assert "127.0.0.1" not in json.dumps([video_create["body"], upscale_create["body"]])
    if flavor == "cometapi":  # CometAPI needs a reference image: the bundled picture, inline
        reference = ROOT / "dags" / "assets" / "demo_cat.png"
        assert sent_inline(image_create["body"]["referenceImages"][0]["uri"], reference)
    models = [c["body"]["model"] for c in (image_create, video_create, upscale_create)]
    assert models == (
        ["gen4_image", "gen3a_turbo", "upscale_v1"]
        if flavor == "cometapi"
        else ["gen4_image", "gen4_turbo", "magnific_video_upscaler_creative"]
    )
    assert "Estimated cost: 8 credits" in output and "Estimated cost: unknown" in output
    sidecar = json.loads(upscaled.with_suffix(".json").read_text())
    assert sidecar["endpoint"] == "video_upscale" and sidecar["sources"][0]["location"] == str(video)


GENERIC_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.runway import RunwayCreateTaskOperator

with DAG("runway_generic", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayCreateTaskOperator(
        task_id="still", endpoint="text_to_image",
        body={{"promptText": "{{{{ 'a lighthouse' }}}}", "ratio": "1360:768",
              "referenceImages": [{{"uri": "{image}"}}]}},
        wait_for_completion=True, deferrable=True, poll_interval=0.3, output_path="{out}/",
    )
"""


def test_generic_operator_dag_creates_waits_and_stores_an_image(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any, airflow_db: str, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    image = ROOT / "dags" / "assets" / "demo_fractal.jpg"
    ran = run_dag_source("runway_generic", GENERIC_DAG.format(image=image, out=tmp_path / "out"))
    assert ran.state == "success", ran.output[-6000:]
    [create] = creates(runway_emulator)
    assert create["body"]["promptText"] == "a lighthouse" and create["body"]["model"] == "gen4_image"
    assert sent_inline(create["body"]["referenceImages"][0]["uri"], image)
    [(task_id, record)] = xcoms(airflow_db, "runway_generic", "runway_output")
    assert task_id == "still" and record["outcome"] == "created" and record["output_kind"] == "image"
    assert Path(record["output"]).suffix == ".png" and Path(record["output"]).read_bytes()[:4] == b"\x89PNG"
    assert xcoms(airflow_db, "runway_generic", "runway_video") == []  # not a video
