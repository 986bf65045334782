"""Every endpoint through the create operators, in each flavor that offers it, through real Airflow
(``dag.test()`` in this process) against the emulator.

Each task reads its inputs from local files (sent inline), is created, waited for and its output
stored with a sidecar; the stored file's type follows what the endpoint makes. Credit caps refuse
before any paid call. A DAG holds many tasks so that one run checks many endpoints.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_runway.execution.outcomes import XCOM_OUTPUT_KEY, XCOM_VIDEO_KEY
from airflow_provider_runway.media.inputs import sniff_type
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.credits import estimate_credits
from airflow_provider_runway.runway.flavors import create_path
from tests.integration.dag_runs import Task, dag_source, task_logs, unsuccessful, xcom_values
from tests.storage.images import CAT_PNG

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runway_emulator(pending_seconds=0, generation_seconds=0.1, not_visible_seconds=0),
]
CATALOG = load_catalog()
FLAVORS = ("cometapi", "runway")
VOICE = {"type": "runway-preset", "presetId": "Maya"}
TEXT_ONLY = ("text_to_video", "sound_effect", "text_to_speech", "avatar_videos")  # bodies without media inputs
SUFFIX_OF_KIND = {"video": ".mp4", "image": ".png", "audio": ".mp3"}
WAIT_AND_STORE = {"wait_for_completion": True, "deferrable": False, "poll_interval": 0.1}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A stored picture, video and sound, made once (the video and sound by the emulator's own encoders)."""
    video = pytest.importorskip("runway_emulator.video")
    audio = pytest.importorskip("runway_emulator.audio")
    folder = tmp_path_factory.mktemp("inputs")
    files = {
        "image": ("cat.png", CAT_PNG),
        "video": (
            "clip.mp4",
            video.render_mp4(CAT_PNG, label="in", ratio="1280:720", duration_s=2.0, longest_side=320),
        ),
        "audio": ("voice.mp3", audio.render_audio(label="in", duration_s=2.0)),
    }
    for name, data in files.values():
        (folder / name).write_bytes(data)
    return {kind: str(folder / name) for kind, (name, _) in files.items()}


def task_for(endpoint: str, media: dict[str, str], **common: Any) -> Task:
    """The endpoint's task (its task id): the typed operator where there is one, else the generic one
    with a minimal valid body."""
    image, video, audio = media["image"], media["video"], media["audio"]
    typed: dict[str, tuple[str, dict[str, Any]]] = {
        "image_to_video": ("RunwayImageToVideoOperator", {"prompt_image": image, "ratio": "1280:720"}),
        "text_to_image": (
            "RunwayTextToImageOperator",
            {
                "prompt_text": "a cat in @cat style",
                "ratio": "1920:1080",
                "reference_images": [{"uri": image, "tag": "cat"}],
            },
        ),
        "text_to_video": ("RunwayTextToVideoOperator", {"prompt_text": "a fox", "ratio": "1280:720", "duration": 2}),
        "video_to_video": ("RunwayVideoToVideoOperator", {"video_uri": video, "prompt_text": "as a watercolour"}),
        "video_upscale": ("RunwayVideoUpscaleOperator", {"video_uri": video}),
    }
    if endpoint in typed:
        operator, params = typed[endpoint]
        return Task(operator, endpoint, {**params, **common})
    bodies: dict[str, dict[str, Any]] = {
        "image_upscale": {"imageUri": image},
        "character_performance": {
            "character": {"type": "image", "uri": image},
            "reference": {"type": "video", "uri": video},
        },
        "sound_effect": {"promptText": "rain on a tin roof", "duration": 2},
        "text_to_speech": {"promptText": "Hello there", "voice": VOICE},
        "speech_to_speech": {"media": {"type": "audio", "uri": audio}, "voice": VOICE},
        "voice_dubbing": {"audioUri": audio, "targetLang": "es"},
        "voice_isolation": {"audioUri": audio},
        "video_to_audio": {"videoUri": video, "duration": 2},
        "video_to_hdr": {"videoUri": video},
        "avatar_videos": {
            "avatar": {"type": "runway-preset", "presetId": "cat-character"},
            "speech": {"type": "text", "text": "Hello there"},
        },
    }
    return Task("RunwayCreateTaskOperator", endpoint, {"endpoint": endpoint, "body": bodies[endpoint], **common})


def offered_by(flavor: str, kind: str) -> list[str]:
    """The endpoints the flavor offers that make ``kind`` (video, image, audio)."""
    return [e for e, spec in CATALOG.endpoints.items() if spec.offered_by(flavor) and spec.output == kind]


# (flavor, output kind): one DAG each, so that no single run carries every endpoint
GROUPS = [(flavor, kind) for flavor in FLAVORS for kind in SUFFIX_OF_KIND if offered_by(flavor, kind)]


def test_the_groups_hold_every_endpoint_each_flavor_offers() -> None:
    grouped = {(flavor, e) for flavor, kind in GROUPS for e in offered_by(flavor, kind)}
    assert grouped == {(f, e) for e, spec in CATALOG.endpoints.items() for f in FLAVORS if spec.offered_by(f)}


def creates(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == "POST"]


@pytest.mark.parametrize(
    "runway_connection, kind", GROUPS, ids=[f"{f}-{k}" for f, k in GROUPS], indirect=["runway_connection"]
)
def test_each_endpoint_is_created_waited_and_stored(
    runway_connection: Any, kind: str, media: dict[str, str], runway_emulator: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    """One task per endpoint the flavor offers that makes ``kind``; run again, each finds its output stored."""
    flavor, out = runway_connection.flavor, tmp_path / "out"
    endpoints = offered_by(flavor, kind)
    dag_id = f"runway_each_{kind}_endpoint_{flavor}"
    common = {**WAIT_AND_STORE, "output_path": f"{out}/", "idempotent": True}
    source = dag_source(dag_id, *(task_for(endpoint, media, **common) for endpoint in endpoints))
    ran = run_dag_source(dag_id, source)
    assert ran.state == "success", unsuccessful(ran)
    records, videos = xcom_values(ran, XCOM_OUTPUT_KEY), xcom_values(ran, XCOM_VIDEO_KEY)
    runway_task_ids = xcom_values(ran, "runway_task_id")
    for endpoint in endpoints:
        [create] = [r for r in creates(runway_emulator) if r["path"] == create_path(endpoint, flavor)]
        sent = json.dumps(create["body"])
        assert ("data:" in sent) == (endpoint not in TEXT_ONLY), endpoint  # stored inputs went inline
        assert str(Path(media["image"]).parent) not in sent, endpoint  # never a local path
        record = records[endpoint]
        assert record["outcome"] == "created" and record["output_kind"] == kind, (endpoint, record)
        assert (endpoint in videos) == (kind == "video"), endpoint
        stored = Path(record["output"])
        assert stored.parent == out and stored.suffix == SUFFIX_OF_KIND[kind], (endpoint, stored)
        data = stored.read_bytes()
        sniffed = sniff_type(data[:32])
        assert sniffed is not None and sniffed[0].startswith(f"{kind}/"), (endpoint, sniffed)
        meta = json.loads(stored.with_suffix(".json").read_text())
        assert (meta["endpoint"], meta["output_kind"], meta["output"], meta["bytes"]) == (
            endpoint,
            kind,
            str(stored),
            len(data),
        )
        assert meta["runway_task_id"] == runway_task_ids[endpoint] and meta["model"] == create["body"]["model"]
        assert "base64" not in json.dumps(meta), endpoint

    again = run_dag_source(dag_id, source)  # the same requests again: found stored, nothing paid
    assert again.state == "success", unsuccessful(again)
    outcomes = {task_id: record["outcome"] for task_id, record in xcom_values(again, XCOM_OUTPUT_KEY).items()}
    assert outcomes == dict.fromkeys(endpoints, "skipped")
    assert runway_emulator.stats()["creates"]["count"] == len(endpoints)


LACKING = {flavor: [e for e, spec in CATALOG.endpoints.items() if not spec.offered_by(flavor)] for flavor in FLAVORS}


@pytest.mark.parametrize("runway_connection", [f for f in FLAVORS if LACKING[f]], indirect=True)
def test_an_endpoint_the_flavor_lacks_fails_before_any_request(
    runway_connection: Any, media: dict[str, str], runway_emulator: Any, run_dag_source: Any
) -> None:
    flavor = runway_connection.flavor
    other = next(f for f in FLAVORS if f != flavor)
    dag_id = f"runway_lacking_{flavor}"
    ran = run_dag_source(dag_id, dag_source(dag_id, *(task_for(endpoint, media) for endpoint in LACKING[flavor])))
    logs = task_logs(ran)
    for endpoint in LACKING[flavor]:
        assert ran.tis()[endpoint] == ("failed", 1), endpoint
        refusal = (
            rf"InvalidRequestError: .*{endpoint} is not offered through flavor {flavor}; flavor\(s\) that offer it"
        )
        refusal += f": {other}"
        assert re.search(refusal, logs[endpoint]), logs[endpoint][-3000:]
    assert runway_emulator.requests() == []


@pytest.mark.runway_connection("runway")
def test_unknown_model_and_endpoint_are_sent_with_a_warning(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any
) -> None:
    """What the catalog does not know is not refused here: it is sent, and the API (the emulator
    checks against the SDK's types, as Runway would) answers for it."""
    body = {"model": "gen9_image", "promptText": "a fox", "ratio": "1920:1080"}
    tasks = (
        Task("RunwayCreateTaskOperator", "unknown_model", {"endpoint": "text_to_image", "body": body}),
        Task(
            "RunwayCreateTaskOperator",
            "unknown_endpoint",
            {"endpoint": "text_to_hologram", "body": {"promptText": "x"}},
        ),
    )
    ran = run_dag_source("runway_unknown", dag_source("runway_unknown", *tasks))
    logs = task_logs(ran)
    assert "model 'gen9_image' is not one this provider knows for text_to_image" in logs["unknown_model"]
    assert "Estimated cost: unknown (gen9_image: not in the catalog" in logs["unknown_model"]
    assert "endpoint 'text_to_hologram' is not in this provider's catalog; sent unvalidated" in logs["unknown_endpoint"]
    sent = {r["path"]: r["body"] for r in creates(runway_emulator)}
    assert sent == {"/v1/text_to_image": body, "/v1/text_to_hologram": {"promptText": "x"}}
    # Runway has neither: each task fails on the API's answer, not on this provider's catalog
    assert ran.tis() == {"unknown_model": ("failed", 1), "unknown_endpoint": ("failed", 1)}
    assert "RunwayAPIError: Runway API error 400 POST /v1/text_to_image: model " in logs["unknown_model"]
    assert "RunwayAPIError: Runway API error 404 POST /v1/text_to_hologram" in logs["unknown_endpoint"]


@pytest.mark.parametrize("runway_connection", FLAVORS, indirect=True)
def test_the_logged_estimate_is_the_catalogs(runway_connection: Any, runway_emulator: Any, run_dag_source: Any) -> None:
    params = {"prompt_text": "a fox", "ratio": "1920:1080", "reference_images": "https://images.example.com/fox.png"}
    dag_id = f"runway_estimate_{runway_connection.flavor}"
    ran = run_dag_source(dag_id, dag_source(dag_id, Task("RunwayTextToImageOperator", "still", params)))
    price = CATALOG.endpoints["text_to_image"].models["gen4_image"].price
    assert price is not None and price.credits is not None
    expected = estimate_credits(
        "text_to_image", {"model": "gen4_image", "promptText": "a fox"}, runway_connection.flavor
    )
    assert expected.credits == price.credits  # one image at the catalog's per-image price
    logged = f"Estimated cost: {price.credits:g} credits (gen4_image: 1 image(s) x {price.credits:g} credits"
    assert logged in task_logs(ran)["still"]


def test_max_credits_refuses_above_the_estimate_before_any_paid_call(
    runway_connection: Any, runway_emulator: Any, run_dag_source: Any
) -> None:
    """Ten seconds of gen3a_turbo are estimated at 50 credits: a cap of 49 refuses, 50 creates; a cap the
    catalog cannot check is kept on the API's own estimate, right after the create."""

    runway_emulator.configure(
        generation_seconds=3600
    )  # nothing here waits: the upscale is still running when cancelled

    def ten_seconds(image: str, max_credits: Any) -> dict[str, Any]:
        return {"prompt_image": f"https://i.example.com/{image}", "duration": 10, "max_credits": max_credits}

    tasks = (
        Task("RunwayImageToVideoOperator", "above", ten_seconds("a.jpg", 49)),
        Task("RunwayImageToVideoOperator", "at_the_cap", ten_seconds("b.jpg", "50")),
        Task(
            "RunwayVideoUpscaleOperator", "unknown", {"video_uri": "https://i.example.com/a.mp4", "max_credits": 0.001}
        ),
    )
    ran = run_dag_source("runway_max_credits", dag_source("runway_max_credits", *tasks))
    logs = task_logs(ran)
    assert ran.tis()["above"] == ("failed", 1)
    assert re.search(r"AirflowFailException: max_credits=49: .*estimated at 50 credits", logs["above"])
    assert ran.tis()["at_the_cap"] == ("success", 1), logs["at_the_cap"][-3000:]
    [at_the_cap] = [r for r in creates(runway_emulator) if r["path"].endswith("image_to_video")]
    assert at_the_cap["body"]["promptImage"] == "https://i.example.com/b.jpg"  # "above" sent nothing
    # The catalog has no price for the upscale: created, then cancelled at once on the API's estimate.
    assert ran.tis()["unknown"] == ("failed", 1)
    assert re.search(r"AirflowFailException: max_credits=0.001: .*was cancelled at once", logs["unknown"])
    [upscale] = [t for t in runway_emulator.stats()["tasks"].values() if t["endpoint"] == "video_upscale"]
    assert upscale["status"] == "CANCELLED"


def test_a_stored_image_feeds_the_next_step(
    runway_connection: Any, media: dict[str, str], runway_emulator: Any, run_dag_source: Any, tmp_path: Path
) -> None:
    """text -> image stored as a file -> that file as the next step's prompt_image (sent inline)."""
    stored_still = "{{ ti.xcom_pull(task_ids='image', key='runway_output')['output'] }}"
    common = {**WAIT_AND_STORE, "output_path": f"{tmp_path}/"}
    still_params = {"prompt_text": "a fox", "ratio": "1920:1080", "reference_images": media["image"]}
    tasks = (
        Task("RunwayTextToImageOperator", "image", {**still_params, **common}),
        Task("RunwayImageToVideoOperator", "video", {"prompt_image": stored_still, **common}),
    )
    ran = run_dag_source("runway_chained", dag_source("runway_chained", *tasks, dependencies="image >> video"))
    assert ran.state == "success", unsuccessful(ran)
    still = xcom_values(ran, XCOM_OUTPUT_KEY)["image"]["output"]
    [_, create] = creates(runway_emulator)
    assert base64.b64decode(create["body"]["promptImage"].partition(",")[2]) == Path(still).read_bytes()
    meta = json.loads(Path(xcom_values(ran, XCOM_VIDEO_KEY)["video"]["sidecar"]).read_text())
    assert meta["source_image"] == still and meta["endpoint"] == "image_to_video"
