"""The Runway view's pure parts: items and totals from XCom records, failure meanings, routes, byte ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_runway.execution.outcomes import XCOM_OUTPUTS_KEY
from airflow_provider_runway.links import is_final_task, is_outcome, tab_link
from airflow_provider_runway.ui.failure_text import failure_meaning
from airflow_provider_runway.ui.render import Page, credit_text, render_page
from airflow_provider_runway.ui.routes import RUN_TAB_HREF, TASK_TAB_HREF, optional_int, output_href, ui_task_tab
from airflow_provider_runway.ui.serving import ByteRange, NotServable, RangeNotSatisfiable, parse_range, servable_type
from airflow_provider_runway.ui.view_items import TaskInstanceRow, build_view, totals_of

RUN = "manual__2026-01-01T00:00:00+00:00"
CREATED_RECORD = {
    "outcome": "created",
    "output": "s3://out/videos/runway-abc.mp4",
    "output_kind": "video",
    "sidecar": "s3://out/videos/runway-abc.json",
    "seconds": 5.0,
    "runway_task_id": "t-1",
    "image": "s3://in/cat.png",
    "credits": {"charged": 25, "estimated": 25, "estimate_source": "api"},
}
REQUEST = {
    "endpoint": "image_to_video",
    "body": {"model": "gen4_turbo", "promptText": "a cat yawns", "duration": 5},
    "sources": [{"location": "s3://in/cat.png"}],
    "runway_task_id": "t-1",
    "flavor": "runway",
}


def row(task_id: str, map_index: int = -1, state: str = "success", operator: str = "RunwayImageToVideoOperator"):
    return TaskInstanceRow(task_id, map_index, state, operator)


def test_a_stored_video_shows_its_request_and_the_apis_charge() -> None:
    view = build_view([row("make")], {("make", -1): {"runway_output": CREATED_RECORD, "runway_request": REQUEST}})
    [item] = view.items
    assert (item.outcome, item.kind, item.output, item.stored) == ("created", "video", CREATED_RECORD["output"], True)
    assert (item.prompt, item.model, item.endpoint, item.duration, item.seconds) == (
        "a cat yawns",
        "gen4_turbo",
        "image_to_video",
        5,
        5.0,
    )
    assert (item.credits_charged, item.runway_task_id) == (25.0, "t-1")
    assert credit_text(item) == "25 charged (the API's figure)"


def test_a_sensor_finds_the_request_its_upstream_made() -> None:
    values = {
        ("submit", -1): {"runway_request": REQUEST, "runway_task_id": "t-1"},
        ("wait", -1): {"runway_output": CREATED_RECORD, "return_value": {"id": "t-1", "status": "SUCCEEDED"}},
    }
    view = build_view([row("submit"), row("wait", operator="RunwayTaskSensor")], values)
    submit, wait = view.items
    assert (submit.outcome, submit.runway_task_id) == ("submitted", "t-1")
    assert (wait.outcome, wait.prompt, wait.model) == ("created", "a cat yawns", "gen4_turbo")
    assert totals_of(view.items).made == 1 and totals_of(view.items).other == 1


def test_failures_are_explained_and_tasks_without_records_still_show() -> None:
    safety = {"outcome": "failed", "failure_code": "SAFETY.INPUT.TEXT", "message": "flagged", "runway_task_id": "t-2"}
    values = {
        ("a", 0): {"runway_video": safety, "runway_request": {**REQUEST, "runway_task_id": "t-2"}},
        ("a", 1): {},
        ("a", 2): {"runway_task": {"id": "t-3", "status": "SUCCEEDED", "output": ["https://cdn/x.mp4"]}},
        ("plan", -1): {"runway_credits": {"estimated": 9}},  # a batch plan's estimate: not a Runway task
    }
    rows = [row("a", 0), row("a", 1, state="upstream_failed"), row("a", 2), row("plan", operator="_PythonDecorated")]
    view = build_view(rows, values)
    assert [(i.map_index, i.outcome) for i in view.items] == [(0, "failed"), (1, "failed"), (2, "made, not stored")]
    refused, early, unstored = view.items
    assert "content moderation" in str(refused.failure_meaning) and refused.prompt == "a cat yawns"
    assert "left no outcome" in str(early.failure_message)
    assert unstored.expiring_url == "https://cdn/x.mp4" and not unstored.stored


def test_a_batch_task_shows_one_item_per_picture_and_this_runs_credits_only() -> None:
    pictures = [
        {**CREATED_RECORD, "item": 0, "picture": "s3://in/cat.png"},
        {**CREATED_RECORD, "outcome": "skipped", "item": 1, "picture": "s3://in/dog.png"},
        {
            "outcome": "failed",
            "failure_code": "INVALID_INPUT",
            "message": "a GIF",
            "item": 2,
            "picture": "s3://in/x.gif",
        },
        {"outcome": "failed", "failure_code": "CREDIT_LIMIT", "item": 3, "credits": {"estimated": 12}},
        {"outcome": "not_started", "message": "budget spent", "item": 4, "image": "s3://in/late.png"},
    ]
    view = build_view([row("videos", 0, state="failed", operator="RunwayBatchOperator")], {
        ("videos", 0): {XCOM_OUTPUTS_KEY: pictures}
    })  # fmt: skip
    assert [(i.item_index, i.label, i.outcome) for i in view.items] == [
        (0, "cat.png", "created"),
        (1, "dog.png", "skipped"),
        (2, "x.gif", "failed"),
        (3, None, "failed"),
        (4, "late.png", "not_started"),
    ]
    totals = totals_of(view.items)
    assert (totals.made, totals.skipped, totals.failed, totals.other) == (1, 1, 2, 1)
    assert (totals.credits_charged, totals.charged_items) == (25.0, 1)  # the skipped one was paid for earlier
    assert (totals.credits_estimated_only, totals.estimated_items) == (12.0, 1)
    assert credit_text(view.items[1]) == "none in this run (charged 25 when it was made)"
    assert "before any paid call" in str(view.items[2].failure_meaning)
    assert "max_credits" in str(view.items[3].failure_meaning)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("SAFETY.OUTPUT.IMAGE", None, "generated output was refused"),
        ("STORE_FAILED", "disk full", "storing it failed"),
        ("TIMEOUT", None, "timed out"),
        ("FAILED", "INTERNAL.BAD_OUTPUT.CODE01 happened", "quality checks"),
        ("SOMETHING.NEW", None, "not documented by Runway"),
        (None, None, "no failure code"),
    ],
)
def test_each_failure_code_has_a_meaning(code: str | None, message: str | None, expected: str) -> None:
    assert expected in failure_meaning(code, message)


def test_routes_are_relative_to_the_ui_and_encode_run_ids() -> None:
    assert RUN_TAB_HREF == "runway/dags/{DAG_ID}/runs/{RUN_ID}"
    assert TASK_TAB_HREF == "runway/dags/{DAG_ID}/runs/{RUN_ID}/tasks/{TASK_ID}?map_index={MAP_INDEX}"
    encoded = "manual__2026-01-01T00%3A00%3A00%2B00%3A00"
    assert ui_task_tab("d", RUN, "t", -1) == f"dags/d/runs/{encoded}/tasks/t/plugin/runway-task"
    assert ui_task_tab("d", RUN, "t", 3) == f"dags/d/runs/{encoded}/tasks/t/mapped/3/plugin/runway-task"
    assert output_href("/base/runway", "d", RUN, "t", 2, 7) == (
        f"/base/runway/dags/d/runs/{encoded}/tasks/t/output?map_index=2&item=7"
    )
    assert [optional_int(v) for v in ("4", "-1", "{MAP_INDEX}", None)] == [4, -1, None, None]


def test_the_extra_link_shows_for_a_runway_record_only() -> None:
    assert is_outcome({"outcome": "created"}) and is_outcome([{"outcome": "failed"}])
    assert not is_outcome(None) and not is_outcome([])
    assert is_final_task({"id": "t", "status": "FAILED"}) and not is_final_task("t-1")

    class Key:
        dag_id, run_id, task_id, map_index = "d", "r", "t", 1

    assert tab_link(Key()) == "dags/d/runs/r/tasks/t/mapped/1/plugin/runway-task"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-200", ByteRange(800, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=0-1,5-9", None),  # several ranges: the whole file
        ("items=0-1", None),
        (None, None),
    ],
)
def test_byte_ranges(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_the_page_escapes_what_tasks_recorded_and_pages_long_runs() -> None:
    hostile = {**REQUEST, "body": {**REQUEST["body"], "promptText": "<script>alert(1)</script>"}}
    items = build_view(
        [row("make", i) for i in range(5)],
        {("make", i): {"runway_output": CREATED_RECORD, "runway_request": hostile} for i in range(5)},
    ).items
    page = Page.of(items, 2, 2)
    html = render_page("t", items, page, mounted_at="/runway", dag_id="d", run_id=RUN, map_index=None)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (page.number, page.count, page.first, len(page.items)) == (2, 3, 3, 2)
    assert html.count("<video controls") == 2 and 'data-total="made"><b>5</b>' in html
    assert Page.of(items, 99, 2).number == 3 and Page.of([], None, 2).count == 1


def test_only_a_stored_output_with_its_sidecar_is_served(tmp_path: Path) -> None:
    """A record is XCom anyone with XCom access to the DAG can write: it alone never exposes a file."""
    video = tmp_path / "runway-abc.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))

    def sidecar_for(path: Path, size: int) -> None:
        path.with_suffix(".json").write_text(json.dumps({"output": str(path), "bytes": size}))

    with pytest.raises(NotServable, match="no sidecar"):
        servable_type(str(video), video, None)
    sidecar_for(video, video.stat().st_size)
    assert servable_type(str(video), video, None) == "video/mp4"
    sidecar_for(video, 5)  # a sidecar of another file
    with pytest.raises(NotServable, match="no sidecar"):
        servable_type(str(video), video, None)
    config = tmp_path / "airflow.cfg"
    config.write_text("[core]\nfernet_key = secret\n")
    with pytest.raises(NotServable, match="not a stored output"):
        servable_type(str(config), config, None)
    svg = tmp_path / "runway-def.png"  # script in an image's clothes
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    sidecar_for(svg, svg.stat().st_size)
    with pytest.raises(NotServable, match="not a video, an image or audio"):
        servable_type(str(svg), svg, None)
