"""Tasks with several outputs keep every one: real operators through ``dag.test()`` against the emulator.

The emulator makes ``outputCount`` images (``numVariants`` sounds) when the body asks, each its
own file behind its own signed URL. The first is stored where a single output would be; the
others beside it, ``<stem>-<i><suffix>``; one sidecar lists them all, and the outcome record and
OpenLineage name every file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_provider_runway.execution.lineage import lineage_parts
from airflow_provider_runway.execution.outcomes import XCOM_OUTPUT_KEY
from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.media.inputs import sniff_type
from tests.integration.dag_runs import Task, created_ids, dag_source, task_logs, unsuccessful, xcom_values

if TYPE_CHECKING:
    from tests.storage.s3 import S3Server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runway_emulator(pending_seconds=0, generation_seconds=0.1, not_visible_seconds=0),
    pytest.mark.runway_connection("runway"),  # sound_effect (numVariants) is Runway's only
]
WAIT = {"wait_for_completion": True, "deferrable": False, "poll_interval": 0.1}
SOUNDS = {"model": "mirelo_sfx_2_0", "promptText": "rain", "duration": 2, "numVariants": 2}


def images(count: int, prompt: str = "three takes of a fox") -> dict[str, Any]:
    return {"model": "gpt_image_2", "promptText": prompt, "ratio": "1920:1088", "outputCount": count}


def create(task_id: str, endpoint: str, body: dict[str, Any], **kwargs: Any) -> Task:
    return Task("RunwayCreateTaskOperator", task_id, {"endpoint": endpoint, "body": body, **WAIT, **kwargs})


def sidecar_of(record: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(Path(record["sidecar"]).read_text())
    return meta


def check_files(meta: dict[str, Any], kind: str, suffix: str) -> list[Path]:
    """Each file the sidecar lists is there, of ``kind``, with its size and checksum; the top fields: the first's."""
    files = [Path(entry["location"]) for entry in meta["outputs"]]
    for entry, path in zip(meta["outputs"], files, strict=True):
        data = path.read_bytes()
        sniffed = sniff_type(data[:32])
        assert sniffed is not None and sniffed[0] == entry["content_type"], (path, sniffed)
        assert entry["content_type"].startswith(f"{kind}/") and path.suffix == suffix, entry
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), path
    first = meta["outputs"][0]
    top = {"location": meta["output"], "bytes": meta["bytes"], "sha256": meta["sha256"]}
    assert top == {key: first[key] for key in top} and meta["content_type"] == first["content_type"]
    return files


def served(runway_task_id: str) -> list[bytes]:
    """What the emulator serves for each output of the task, in its order (a fresh poll's URLs)."""
    return [requests.get(url, timeout=30).content for url in RunwayHook().get_task(runway_task_id).output]


def test_every_output_is_stored_beside_the_first_then_found_stored(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    common = {"output_path": f"{out}/", "idempotent": True}
    tasks = (
        create("three_images", "text_to_image", images(3), **common),
        create("two_sounds", "sound_effect", SOUNDS, **common),
        create("one_image", "text_to_image", images(1, "a single fox"), **common),
    )
    source = dag_source("runway_every_output", *tasks)
    ran = run_dag_source("runway_every_output", source)
    assert ran.state == "success", unsuccessful(ran)
    records, ids = xcom_values(ran, XCOM_OUTPUT_KEY), xcom_values(ran, "runway_task_id")

    meta = sidecar_of(records["three_images"])
    pictures = check_files(meta, "image", ".png")
    stem = pictures[0].stem
    assert [p.name for p in pictures] == [f"{stem}.png", f"{stem}-1.png", f"{stem}-2.png"]
    assert pictures[0].parent == out and Path(records["three_images"]["sidecar"]) == out / f"{stem}.json"
    assert [p.read_bytes() for p in pictures] == served(ids["three_images"])  # each in Runway's order
    assert len({entry["sha256"] for entry in meta["outputs"]}) == 3  # three pictures, not one thrice
    assert records["three_images"]["outputs"] == [str(p) for p in pictures]
    assert records["three_images"]["output"] == str(pictures[0])
    lineage = lineage_parts([records["three_images"]], {})
    assert lineage.outputs == [("file", str(p)) for p in pictures]

    sounds = check_files(sidecar_of(records["two_sounds"]), "audio", ".mp3")
    assert [p.name for p in sounds] == [f"{sounds[0].stem}.mp3", f"{sounds[0].stem}-1.mp3"]

    single = sidecar_of(records["one_image"])
    [only] = check_files(single, "image", ".png")
    assert records["one_image"]["outputs"] == [str(only)] and len(single["outputs"]) == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(p.name for p in (*pictures, *sounds, only)), f"{stem}.json", f"{sounds[0].stem}.json", f"{only.stem}.json"]
    )

    again = run_dag_source("runway_every_output", source)  # the same requests: found stored, nothing paid
    assert again.state == "success", unsuccessful(again)
    skipped = xcom_values(again, XCOM_OUTPUT_KEY)
    assert {task_id: record["outcome"] for task_id, record in skipped.items()} == dict.fromkeys(
        ("three_images", "two_sounds", "one_image"), "skipped"
    )
    assert skipped["three_images"]["outputs"] == [str(p) for p in pictures]
    assert runway_emulator.stats()["creates"]["count"] == len(tasks)


def test_ten_outputs_are_zero_padded_beside_a_named_file(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    named = tmp_path / "takes" / "fox.png"
    task = create("ten", "text_to_image", images(10), output_path=str(named))
    ran = run_dag_source("runway_ten_outputs", dag_source("runway_ten_outputs", task))
    assert ran.state == "success", unsuccessful(ran)
    record = xcom_values(ran, XCOM_OUTPUT_KEY)["ten"]
    files = check_files(sidecar_of(record), "image", ".png")
    assert files[0] == named and [p.name for p in files[1:]] == [f"fox-{i:02d}.png" for i in range(1, 10)]
    assert sorted(p.name for p in files[1:]) == [p.name for p in files[1:]]  # a listing shows them in order
    assert [p.read_bytes() for p in files] == served(xcom_values(ran, "runway_task_id")["ten"])


def test_a_missing_further_output_is_not_taken_for_stored(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    """idempotent=True skips only when every listed file is whole: one gone, the task is made again."""
    task = create("takes", "text_to_image", images(3), output_path=f"{tmp_path}/", idempotent=True)
    source = dag_source("runway_takes", task)
    first = run_dag_source("runway_takes", source)
    assert first.state == "success", unsuccessful(first)
    files = check_files(sidecar_of(xcom_values(first, XCOM_OUTPUT_KEY)["takes"]), "image", ".png")
    files[2].unlink()
    again = run_dag_source("runway_takes", source)
    assert again.state == "success", unsuccessful(again)
    assert xcom_values(again, XCOM_OUTPUT_KEY)["takes"]["outcome"] == "created"
    assert runway_emulator.stats()["creates"]["count"] == 2
    assert "was made from other inputs or is incomplete; making it again" in task_logs(again)["takes"]
    assert all(path.exists() for path in files)


def test_an_output_that_fails_fails_the_whole_store_and_writes_no_sidecar(
    runway_emulator: Any, runway_connection: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    runway_emulator.set_faults(server_error={"count": 1, "status": 503, "route": "output", "after": 1})
    task = create("three", "text_to_image", images(3), output_path=f"{tmp_path}/out/", retries=0)
    ran = run_dag_source("runway_output_fails", dag_source("runway_output_fails", task))
    assert ran.tis()["three"] == ("failed", 1)
    [paid] = created_ids(runway_emulator)
    logged = task_logs(ran)["three"]
    failed = f"Runway task {paid} SUCCEEDED (paid) but storing its image at {tmp_path}/out/runway-"
    assert failed in logged and "(output #1 of 3) failed" in logged, logged[-3000:]
    record = xcom_values(ran, XCOM_OUTPUT_KEY)["three"]
    assert (record["failure_code"], record["runway_task_id"]) == ("STORE_FAILED", paid)
    [first] = (tmp_path / "out").iterdir()  # published before the second failed; no sidecar, so a retry stores
    assert first.suffix == ".png" and first.read_bytes() == served(paid)[0]


def test_a_retry_after_a_failed_output_stores_them_all_in_object_storage(
    s3_server: S3Server, runway_emulator: Any, runway_connection: Any, run_dag_source: Any
) -> None:
    """The second download answers 503 once; the retry reconnects to the paid task and stores all three."""
    bucket = s3_server.bucket("out")
    runway_emulator.set_faults(server_error={"count": 1, "status": 503, "route": "output", "after": 1})
    task = create(
        "three",
        "text_to_image",
        images(3),
        output_path=f"s3://{bucket}/images/",
        output_conn_id=s3_server.conn_id,
        retries=1,
        retry_delay=0,
    )
    ran = run_dag_source("runway_output_retried", dag_source("runway_output_retried", task))
    assert ran.tis()["three"] == ("success", 2), unsuccessful(ran)
    [paid] = created_ids(runway_emulator)  # the retry stored the same paid task
    logged = task_logs(ran)["three"]
    assert f"Runway task {paid} SUCCEEDED (paid) but storing its image at s3://{bucket}/images/" in logged
    assert "(output #1 of 3) failed" in logged, logged[-3000:]
    record = xcom_values(ran, XCOM_OUTPUT_KEY)["three"]
    assert record["outcome"] == "created" and len(record["outputs"]) == 3
    keys = sorted(item["Key"] for item in s3_server.client.list_objects_v2(Bucket=bucket)["Contents"])
    stem = record["output"].rpartition("/")[2].removesuffix(".png")
    assert keys == [f"images/{stem}{tail}" for tail in ("-1.png", "-2.png", ".json", ".png")]
    meta = json.loads(s3_server.client.get_object(Bucket=bucket, Key=f"images/{stem}.json")["Body"].read())
    pictures = served(paid)
    assert [entry["location"] for entry in meta["outputs"]] == record["outputs"]
    assert [entry["sha256"] for entry in meta["outputs"]] == [hashlib.sha256(p).hexdigest() for p in pictures]
