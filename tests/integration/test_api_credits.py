"""The API's own money through real Airflow (``dag.test()``) against the emulator, whose prices are its
own table: a capped task the catalog cannot price is created and judged by the API's estimate at once;
the charge is read back and reported, not the catalog's guess."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow_provider_runway.operators.generate import RunwayTextToImageOperator

with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    RunwayTextToImageOperator(
        task_id="still", model="ideogram_4_5", prompt_text="a lighthouse at dusk", max_credits={cap!r},
        wait_for_completion=True, output_path={out!r}, poll_interval=0.3, retries=0,
    )
"""
# ideogram_4_5: a model the catalog holds but cannot price (no first-party price found); the emulator's is 20.
API_PRICE = {"endpoints": {"text_to_image": {"ideogram_4_5": {"per": "image", "credits": 20}}}}


def xcom(airflow_home: str, dag_id: str, key: str) -> Any:
    with sqlite3.connect(Path(airflow_home) / "airflow.db") as db:
        rows = db.execute("select value from xcom where dag_id = ? and key = ?", (dag_id, key)).fetchall()
    return [json.loads(value) for (value,) in rows]


@pytest.mark.runway_connection("runway")
def test_a_capped_task_the_catalog_cannot_price_is_cancelled_before_it_runs_when_the_api_says_too_much(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any, airflow_db: str, tmp_path: Path
) -> None:
    runway_emulator.configure(pending_seconds=60, generation_seconds=1, not_visible_seconds=0)
    runway_emulator.set_prices(API_PRICE)
    ran = run_dag_source("runway_capped", DAG.format(dag_id="runway_capped", cap=10, out=f"{tmp_path}/"))
    assert ran.tis()["still"][0] == "failed"
    stats = runway_emulator.stats()
    assert stats["creates"]["count"] == 1 and stats["cancels"]["count"] == 1  # created, then cancelled at once
    assert "max_credits=10: the API estimates this task at up to 20 credits" in ran.output
    assert "was cancelled at once: it was PENDING right before; Runway refunds" in ran.output
    assert [item["status_before"] for item in stats["cancels"]["items"]] == ["PENDING"]  # the emulator refunded it
    [task] = stats["tasks"].values()
    assert task["credits"] == 0
    [credits] = xcom(airflow_db, "runway_capped", "runway_credits")[-1:]
    assert credits["estimated"] == 20.0 and credits["estimate_source"] == "api" and credits["charged"] is None
    assert credits["cancelled_while"] == "PENDING"
    [outcome] = xcom(airflow_db, "runway_capped", "runway_output")
    assert outcome["failure_code"] == "CREDIT_LIMIT" and "max_credits=10" in outcome["message"]


@pytest.mark.runway_connection("runway")
def test_under_the_cap_the_task_runs_and_the_sidecar_reports_what_the_api_charged(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any, airflow_db: str, tmp_path: Path
) -> None:
    runway_emulator.configure(pending_seconds=0.1, generation_seconds=0.5, not_visible_seconds=0)
    runway_emulator.set_prices(API_PRICE)
    ran = run_dag_source("runway_priced", DAG.format(dag_id="runway_priced", cap=30, out=f"{tmp_path}/"))
    assert ran.state == "success", ran.output[-6000:]
    assert "the API estimates at most 20 credits" in ran.output
    assert "charged 20 credits (the API's final cost)" in ran.output
    [sidecar] = [json.loads(p.read_text()) for p in tmp_path.glob("runway-*.json")]
    assert sidecar["credits"] == {
        "charged": 20.0,
        "estimated": 20.0,
        "estimate_source": "api",
        "catalog_estimate": None,
    }
    assert runway_emulator.stats()["cancels"]["count"] == 0
