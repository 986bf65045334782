"""Batch planning (folders, globs, manifests) and the summary, on local folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_runway.batch.planning import list_images, plan_items, read_manifest
from airflow_provider_runway.batch.summary import summarize, summary_markdown
from tests.storage.images import CAT_PNG, FRACTAL_JPEG


def pictures(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(CAT_PNG)
    (folder / "b.JPG").write_bytes(FRACTAL_JPEG)
    (folder / "notes.txt").write_text("not a picture")
    (folder / "sub" / "c.png").write_bytes(CAT_PNG)
    return folder


def test_a_folder_lists_the_images_directly_inside(tmp_path: Path) -> None:
    folder = pictures(tmp_path / "in")
    expected = [str(folder / "a.png"), str(folder / "b.JPG")]
    assert list_images(str(folder)) == expected
    assert list_images(f"{folder}/") == expected


def test_a_glob_lists_what_it_matches(tmp_path: Path) -> None:
    folder = pictures(tmp_path / "in")
    assert list_images(f"{folder}/**/*.png") == [str(folder / "a.png"), str(folder / "sub" / "c.png")]
    assert list_images(f"{folder}/*.txt") == [str(folder / "notes.txt")]  # a glob is the user's choice


def test_csv_manifest_rows_become_operator_parameters(tmp_path: Path) -> None:
    manifest = tmp_path / "batch" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text("image,prompt_text,seed\ncat.png,purring,7\n/abs/dog.png,,\ns3://b/x.png,waves,\n")
    items = read_manifest(str(manifest))
    assert items == [
        {"prompt_image": f"{manifest.parent}/cat.png", "prompt_text": "purring", "seed": "7"},
        {"prompt_image": "/abs/dog.png"},
        {"prompt_image": "s3://b/x.png", "prompt_text": "waves"},
    ]


def test_json_lines_manifest_and_errors_naming_the_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"image": "a.png", "duration": 10}) + "\n\n" + json.dumps({"image": "b.png"}) + "\n")
    assert [i["prompt_image"] for i in read_manifest(str(manifest))] == [f"{tmp_path}/a.png", f"{tmp_path}/b.png"]
    manifest.write_text(json.dumps({"image": "a.png", "promt_text": "typo"}) + "\n")
    with pytest.raises(ValueError, match=r"line 1: unknown column\(s\) \['promt_text'\]"):
        read_manifest(str(manifest))
    manifest.write_text('{"image": ""}\n')
    with pytest.raises(ValueError, match="line 1: 'image' is empty"):
        read_manifest(str(manifest))


def test_plan_items_share_one_shape(tmp_path: Path) -> None:
    folder = pictures(tmp_path / "in")
    shared = {"output_path": "s3://o/v/", "image_conn_id": None, "output_conn_id": "aws"}
    items = plan_items(
        images=str(folder), manifest=None, image_conn_id=None, defaults={"model": "gen3a_turbo"}, shared=shared
    )
    assert [i["prompt_image"] for i in items] == [str(folder / "a.png"), str(folder / "b.JPG")]
    assert {frozenset(i) for i in items} == {frozenset(items[0])}
    assert items[0]["model"] == "gen3a_turbo" and items[0]["output_path"] == "s3://o/v/"
    with pytest.raises(ValueError, match="either images"):
        plan_items(images=str(folder), manifest="m.csv", image_conn_id=None, defaults={}, shared={})


def test_summary_counts_outcomes_codes_and_seconds() -> None:
    items = [{"prompt_image": f"s3://in/{n}.png"} for n in range(5)]
    records = [
        {"outcome": "created", "map_index": 0, "video": "s3://o/0.mp4", "seconds": 5.0, "runway_task_id": "t0"},
        {"outcome": "skipped", "map_index": 1, "video": "s3://o/1.mp4", "seconds": 10.0, "runway_task_id": "t1"},
        {"outcome": "failed", "map_index": 2, "failure_code": "SAFETY.INPUT.TEXT", "message": "refused"},
        {"outcome": "failed", "map_index": 3, "failure_code": "INVALID_INPUT", "message": "a GIF | file"},
        None,  # a task that left nothing
    ]
    summary = summarize(items, records)
    assert summary["outcomes"] == {"created": 1, "skipped": 1, "failed": 3, "not_started": 0}
    assert summary["failure_codes"] == {"INVALID_INPUT": 1, "NO_RECORD": 1, "SAFETY.INPUT.TEXT": 1}
    assert summary["seconds_of_video_made"] == 5.0 and summary["seconds_of_video_stored"] == 15.0
    assert summary["skipped_already_done"] == ["s3://in/1.png"]
    markdown = summary_markdown(summary)
    assert "5 image(s): 1 created, 1 skipped (already done), 3 failed, 0 not started (budget); 5 s of video made" in (
        markdown
    )
    assert "| 1 | s3://in/1.png | skipped, already done | s3://o/1.mp4 | 10.0 |  | t1 |  |" in markdown
    assert "a GIF \\| file" in markdown  # a pipe in a message does not break the table
    assert len([line for line in markdown.splitlines() if line.startswith("| ")]) == 6
