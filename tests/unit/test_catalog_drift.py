"""The committed catalog is what the locked runwayml SDK and the overlay give, with nothing missing.

Regenerates the catalog in memory from the SDK installed in this environment (the version
uv.lock locks) and ``scripts/catalog/overlay.json``, and compares it with the committed
``runway/catalog.json``. A failure lists each endpoint, model, field or value that differs;
``make catalog`` rewrites the file, and its diff is what to review.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.catalog.__main__ import CATALOG, generated
from scripts.catalog.drift import differences
from scripts.catalog.merge import OUTSIDE_SDK, OverlayError, load_overlay, merge
from scripts.catalog.schema import SdkSchema, read_schema
from scripts.catalog.sdk import names_a_model, sdk_root, sdk_routes

pytest.importorskip("runwayml")


@pytest.fixture(scope="module")
def schema() -> SdkSchema:
    return read_schema()


@pytest.fixture(scope="module")
def committed() -> dict[str, object]:
    data: dict[str, object] = json.loads(CATALOG.read_text(encoding="utf-8"))
    return data


def test_the_overlay_agrees_with_the_sdk(schema: SdkSchema) -> None:
    try:
        merge(schema, load_overlay())
    except OverlayError as err:
        pytest.fail(f"scripts/catalog/overlay.json and runwayml {schema.version} disagree: {err}")


def test_the_committed_catalog_is_what_the_sdk_and_overlay_give(
    schema: SdkSchema, committed: dict[str, object]
) -> None:
    catalog_text, table_text = generated(schema)
    found = differences(committed, json.loads(catalog_text))
    assert not found, f"catalog.json is stale against runwayml {schema.version}; run `make catalog`:\n" + "\n".join(
        found[:60]
    )
    assert CATALOG.read_text(encoding="utf-8") == catalog_text, "catalog.json is not in its generated form"
    doc = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    assert doc.read_text(encoding="utf-8") == table_text, "docs/models.md is stale; run `make catalog`"


def test_every_model_of_every_task_endpoint_is_catalogued(schema: SdkSchema, committed: dict[str, object]) -> None:
    """Said directly, so a failure names the pair even if the whole-file comparison is changed."""
    endpoints = committed["endpoints"]
    modelless = committed["modelless"]
    assert isinstance(endpoints, dict) and isinstance(modelless, dict)
    missing = [
        f"{endpoint}:{model}"
        for endpoint, model in schema.pairs()
        if model not in endpoints.get(endpoint, {}).get("models", {})
    ]
    assert not missing, f"in runwayml {schema.version}, not in the catalog: {', '.join(missing)}"
    bodies = [name for name, e in schema.endpoints.items() if not e.models and name not in modelless]
    assert not bodies, f"task endpoints without a model, not in the catalog: {', '.join(bodies)}"


def test_posts_that_name_a_model_but_start_no_task_are_left_out_with_a_reason(committed: dict[str, object]) -> None:
    """realtime_sessions (a live session) and voices/preview (an answer at once) take a model but make no task."""
    left_out = committed["left_out"]
    assert isinstance(left_out, dict)
    routes = sdk_routes(sdk_root())
    with_model = {name for name, route in routes.items() if not route.creates_task and names_a_model(route)}
    assert with_model == set(left_out), "say in overlay.json's left_out why each is not catalogued"
    assert all(left_out[name] for name in with_model)


def test_overlay_models_outside_the_sdk_are_not_in_it(schema: SdkSchema) -> None:
    """A hand-kept schema (CometAPI-only or retired model) must give way once the SDK defines the model."""
    for name, endpoint in load_overlay()["endpoints"].items():
        for model, facts in endpoint.get("models", {}).items():
            in_sdk = model in schema.endpoints[name].models
            assert in_sdk != (OUTSIDE_SDK in facts), f"{name}:{model}: in the SDK: {in_sdk}; marked {OUTSIDE_SDK}"
