"""The batch DAG and ``RunwayBatchOperator`` through real Airflow (``dag.test()`` of the DAG file where
it lives; the trigger runs inline) against the emulator: any number of pictures, never paid twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT
from tests.storage.images import png

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~20 s of dag.test() each
BATCH_DAG = ROOT / "dags" / "runway_batch_videos.py"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_POLL_INTERVAL", "0.3")  # read by the example DAGs at parse
    monkeypatch.setenv("RUNWAY_RESUME_SETTLE_SECONDS", "0")  # dag.test() has no scheduler to race


def pictures(folder: Path, count: int) -> Path:
    """``count`` distinct small PNGs (distinct bytes: distinct idempotency keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"p{index:03d}.png").write_bytes(png(8 + index, 8))
    return folder


def creates(emulator: Any) -> int:
    return int(emulator.stats()["creates"]["count"])


def summary_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "runway-batch-summary.json").read_text()))


def test_more_pictures_than_max_map_length_become_videos_and_a_rerun_pays_nothing(
    runway_connection: Any, runway_emulator: Any, run_dag_in_place: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "2")  # standing in for 1,024 against 10,000 pictures
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    source, out = pictures(tmp_path / "in", 7), tmp_path / "out"
    conf = {"images": f"{source}/", "output_path": f"{out}/", "chunk_size": 4, "concurrency": 3}
    ran = run_dag_in_place(BATCH_DAG, run_conf=conf)
    assert ran.state == "success", ran.output[-6000:]
    assert creates(runway_emulator) == 7
    summary = summary_of(out)
    assert summary["outcomes"] == {"created": 7, "skipped": 0, "failed": 0, "not_started": 0}
    videos = sorted(out.glob("runway-*.mp4"))
    assert len(videos) == 7 and all(v.with_suffix(".json").exists() for v in videos)
    assert {row["image"] for row in summary["rows"]} == {str(p) for p in source.glob("*.png")}

    again = run_dag_in_place(BATCH_DAG, run_conf=conf)
    assert again.state == "success", again.output[-6000:]
    assert creates(runway_emulator) == 7  # nothing paid again
    assert summary_of(out)["outcomes"] == {"created": 0, "skipped": 7, "failed": 0, "not_started": 0}


def test_a_budget_stops_creating_before_passing_it_and_reports_the_rest_as_not_started(
    runway_connection: Any, runway_emulator: Any, run_dag_in_place: Any, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    source, out = pictures(tmp_path / "in", 3), tmp_path / "out"
    # each picture is estimated at 25 credits (5 s x 5 credits/s): a budget of 60 pays for two
    conf = {"images": f"{source}/", "output_path": f"{out}/", "budget_credits": 60, "concurrency": 1}
    ran = run_dag_in_place(BATCH_DAG, run_conf=conf)
    assert ran.state == "success", ran.output[-6000:]
    assert creates(runway_emulator) == 2
    summary = summary_of(out)
    assert summary["outcomes"]["created"] == 2 and summary["outcomes"]["not_started"] == 1
    [left] = [row for row in summary["rows"] if row["outcome"] == "not_started"]
    assert "budget_credits=60" in left["message"] and "nothing paid" in left["message"]

    # a re-run with the same tight budget is not refused: the stored two cost nothing, the third fits
    again = run_dag_in_place(BATCH_DAG, run_conf=conf)
    assert again.state == "success", again.output[-6000:]
    assert creates(runway_emulator) == 3
    assert summary_of(out)["outcomes"] == {"created": 1, "skipped": 2, "failed": 0, "not_started": 0}


@pytest.mark.runway_connection("runway")
def test_the_summary_adds_up_the_apis_exact_costs_not_the_catalogs_estimates(
    runway_connection: Any, runway_emulator: Any, run_dag_in_place: Any, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    # the API's price differs from the catalog's (5 credits/s for gen4_turbo)
    runway_emulator.set_prices({"endpoints": {"image_to_video": {"gen4_turbo": {"per": "second", "credits": 7}}}})
    source, out = pictures(tmp_path / "in", 2), tmp_path / "out"
    ran = run_dag_in_place(BATCH_DAG, run_conf={"images": f"{source}/", "output_path": f"{out}/"})
    assert ran.state == "success", ran.output[-6000:]
    summary = summary_of(out)
    assert [row["credits_charged"] for row in summary["rows"]] == [35, 35]
    assert summary["credits"]["credits_used"] == 70 and summary["credits"]["credits_source"] == "api"
    sidecar = json.loads(next(out.glob("runway-*.json")).read_text())
    assert sidecar["credits"]["charged"] == 35 and sidecar["credits"]["catalog_estimate"] == 25
    assert sidecar["credits"]["estimated"] == 35 and sidecar["credits"]["estimate_source"] == "api"
    assert "Credits used: 70 (api" in (out / "runway-batch-summary.md").read_text()


def test_one_pictures_failure_fails_none_of_the_others_and_the_task_ends_failed(
    runway_connection: Any, runway_emulator: Any, run_dag_in_place: Any, tmp_path: Path
) -> None:
    runway_emulator.configure(generation_seconds=0.5, not_visible_seconds=0)
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    manifest = source / "manifest.jsonl"
    lines = [{"image": f"p{i}.png"} for i in range(3)]
    lines[1]["prompt_text"] = "a forbidden scene"  # the emulator refuses it as Runway would: SAFETY.INPUT.TEXT
    for i in range(3):
        (source / f"p{i}.png").write_bytes(png(9 + i, 9))
    manifest.write_text("\n".join(json.dumps(line) for line in lines))
    conf = {"manifest": str(manifest), "images": "", "output_path": f"{out}/", "concurrency": 3}
    ran = run_dag_in_place(BATCH_DAG, run_conf=conf)
    assert ran.tis()["videos"][0] == "failed"  # visible
    summary = summary_of(out)  # the summary still ran
    assert summary["outcomes"] == {"created": 2, "skipped": 0, "failed": 1, "not_started": 0}
    assert summary["failure_codes"] == {"SAFETY.INPUT.TEXT": 1}
    assert len(list(out.glob("runway-*.mp4"))) == 2
    assert creates(runway_emulator) == 3
