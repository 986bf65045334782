"""OpenLineage names and facets from outcome records (pure), and the OperatorLineage built from them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_runway.execution import lineage
from airflow_provider_runway.execution.lineage import dataset_name, lineage_parts, operator_lineage
from tests.paths import ROOT


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("s3://bucket/in/cat.png", ("s3://bucket", "in/cat.png")),
        ("gs://b/x/y.jpg", ("gs://b", "x/y.jpg")),
        ("gcs://b/x/y.jpg", ("gs://b", "x/y.jpg")),
        ("/data/in/cat.png", ("file", "/data/in/cat.png")),
        ("file:///data/out/a%20b.mp4", ("file", "/data/out/a b.mp4")),
        ("https://cdn.example.com:8443/p/cat.jpg?sig=1", ("https://cdn.example.com:8443", "/p/cat.jpg")),
        (
            "abfs://container@account.dfs.core.windows.net/v.mp4",
            ("abfs://container@account.dfs.core.windows.net", "v.mp4"),
        ),
        ("data:image/png;base64,<123 chars>", None),
        ("runway://upload/abc", None),
        ("", None),
        (None, None),
    ],
)
def test_dataset_names_follow_openlineage_naming(location: Any, expected: tuple[str, str] | None) -> None:
    assert dataset_name(location) == expected


REQUEST = {
    "endpoint": "video_to_video",
    "body": {"model": "gen4_aleph"},
    "sources": [{"location": "s3://in/clip.mp4", "field": "videoUri"}, {"location": "https://x.io/ref.png"}],
    "runway_task_id": "t-1",
    "flavor": "runway",
}


def test_a_create_reads_every_input_and_stores_one_output() -> None:
    record = {
        "outcome": "created",
        "output": "s3://out/v.mp4",
        "runway_task_id": "t-1",
        "credits": {"charged": 30, "estimated": 36},
    }
    parts = lineage_parts([record], {"t-1": REQUEST})
    assert parts.inputs == [("s3://in", "clip.mp4"), ("https://x.io", "/ref.png")]
    assert parts.outputs == [("s3://out", "v.mp4")]
    assert parts.runway_task_ids == ["t-1"] and parts.errors == []
    assert parts.facet["endpoint"] == "video_to_video" and parts.facet["model"] == "gen4_aleph"
    assert (parts.facet["flavor"], parts.facet["creditsCharged"]) == ("runway", 30.0)


def test_a_batch_names_one_input_and_one_output_per_picture_and_its_failures() -> None:
    records = [
        {"outcome": "created", "output": "/v/a.mp4", "image": "/p/a.png", "runway_task_id": "t-a",
         "credits": {"charged": 25}},
        {"outcome": "skipped", "output": "/v/b.mp4", "image": "/p/b.png", "runway_task_id": "t-old",
         "credits": {"charged": 25}},
        {"outcome": "failed", "image": "/p/c.png", "runway_task_id": "t-c", "failure_code": "SAFETY.INPUT.TEXT",
         "message": "flagged", "credits": {"estimated": 25}},
    ]  # fmt: skip
    parts = lineage_parts(records, {})
    assert parts.inputs == [("file", "/p/a.png"), ("file", "/p/b.png"), ("file", "/p/c.png")]
    assert parts.outputs == [("file", "/v/a.mp4"), ("file", "/v/b.mp4")]
    assert parts.runway_task_ids == ["t-a", "t-c"]  # the skipped picture made no Runway task in this run
    assert parts.errors == ["SAFETY.INPUT.TEXT: flagged"]
    assert (parts.facet["creditsCharged"], parts.facet["creditsEstimatedWithoutCharge"]) == (25.0, 25.0)
    assert [item["outcome"] for item in parts.facet["items"]] == ["created", "skipped", "failed"]


def test_operator_lineage_carries_the_task_id_the_failure_and_the_runway_facet() -> None:
    from openlineage.client.serde import Serde

    record = {"outcome": "failed", "runway_task_id": "t-1", "failure_code": "INTERNAL", "message": "boom"}
    built = operator_lineage(lineage_parts([record], {"t-1": REQUEST}))
    assert [(d.namespace, d.name) for d in built.inputs] == [("s3://in", "clip.mp4"), ("https://x.io", "/ref.png")]
    assert built.outputs == []
    assert built.run_facets["externalQuery"].externalQueryId == "t-1"
    assert built.run_facets["externalQuery"].source == "runway:runway"
    assert built.run_facets["errorMessage"].message == "INTERNAL: boom"
    facet = json.loads(Serde.to_json(built.run_facets["runway"]))
    assert facet["_schemaURL"] == lineage.RUNWAY_FACET_SCHEMA_URL
    assert facet["endpoint"] == "video_to_video" and facet["items"][0]["failureCode"] == "INTERNAL"


def test_the_facet_schema_is_shipped_and_matches_the_facet() -> None:
    schema = json.loads((ROOT / "docs" / "openlineage" / "RunwayRunFacet.json").read_text())
    assert schema["$id"] == lineage.RUNWAY_FACET_SCHEMA_URL.partition("#")[0]
    properties = schema["$defs"]["RunwayRunFacet"]["allOf"][1]["properties"]
    facet_fields = {a.name for a in lineage.runway_run_facet_class().__attrs_attrs__ if not a.name.startswith("_")}
    assert set(properties) == facet_fields
