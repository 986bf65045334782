"""The metrics' pure parts: tags as backends take them, and a wait's length from the API's ``createdAt``.

The metrics themselves, through Airflow's Stats to an OpenTelemetry receiver, are checked on a real
run in ``tests/integration/test_lineage_and_metrics.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_runway.execution.wait_metrics import seconds_since
from airflow_provider_runway.observability import metrics
from tests.paths import ROOT

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=timezone.utc)


def test_tags_are_strings_and_unknown_ones_are_left_out() -> None:
    assert metrics.tags_of(endpoint="image_to_video", model=None, status="", code=403) == {
        "endpoint": "image_to_video",
        "code": "403",
    }


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-03-01T12:00:00.000Z", 30.0),
        ("2026-03-01T12:00:10+00:00", 20.0),
        ("2026-03-01T12:00:00", 30.0),  # no zone: the API's times are UTC
        ("2026-03-01T12:01:00Z", 0.0),  # a clock ahead of ours: never negative
        ("yesterday", None),
        (None, None),
    ],
)
def test_a_wait_lasts_from_the_tasks_creation(created_at: object, expected: float | None) -> None:
    assert seconds_since(created_at, NOW) == expected


def test_every_metric_is_named_under_runway() -> None:
    names = [metrics.TASKS_CREATED, metrics.CREDITS_CHARGED, metrics.TASK_FAILURES, metrics.WAIT_SECONDS,
             metrics.DOWNLOAD_RETRIES]  # fmt: skip
    assert all(name.startswith("runway.") for name in names) and len(set(names)) == 5
    documented = (ROOT / "docs" / "observability.md").read_text()
    assert all(name in (metrics.__doc__ or "") and f"`{name}`" in documented for name in names)
