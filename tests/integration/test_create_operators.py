"""Every endpoint through the create operators, in each flavor that offers it, against the emulator.

Each task reads its inputs from local files (sent inline), is created, waited for and its output
stored with a sidecar; the stored file's type follows what the endpoint makes. Credit caps refuse
before any paid call.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_runway._compat import AirflowFailException
from airflow_provider_runway.execution.outcomes import XCOM_OUTPUT_KEY, XCOM_VIDEO_KEY
from airflow_provider_runway.media.inputs import sniff_type
from airflow_provider_runway.operators.generate import (
    RunwayTextToImageOperator,
    RunwayTextToVideoOperator,
    RunwayVideoToVideoOperator,
    RunwayVideoUpscaleOperator,
)
from airflow_provider_runway.operators.runway import RunwayCreateTaskOperator, RunwayImageToVideoOperator
from airflow_provider_runway.runway.catalog import load_catalog
from airflow_provider_runway.runway.credits import estimate_credits
from airflow_provider_runway.runway.errors import InvalidRequestError, RunwayAPIError
from tests.storage.images import CAT_PNG
from tests.storage.test_object_storage import StateStore, XComRecorder

pytestmark = [pytest.mark.integration, pytest.mark.runway_emulator(generation_seconds=0.3, not_visible_seconds=0)]
FLAVORS = ("cometapi", "runway")
VOICE = {"type": "runway-preset", "presetId": "Maya"}
TEXT_ONLY = ("text_to_video", "sound_effect", "text_to_speech")  # bodies without media inputs
SUFFIX_OF_KIND = {"video": ".mp4", "image": ".png", "audio": ".mp3"}


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


def operator_for(endpoint: str, media: dict[str, str], **common: Any) -> RunwayCreateTaskOperator:
    """The typed operator where there is one, else the generic one with a minimal valid body."""
    image, video, audio = media["image"], media["video"], media["audio"]
    typed: dict[str, Any] = {
        "image_to_video": lambda: RunwayImageToVideoOperator(prompt_image=image, ratio="1280:720", **common),
        "text_to_image": lambda: RunwayTextToImageOperator(
            prompt_text="a cat in @cat style",
            ratio="1920:1080",
            reference_images=[{"uri": image, "tag": "cat"}],
            **common,
        ),
        "text_to_video": lambda: RunwayTextToVideoOperator(prompt_text="a fox", ratio="1280:720", duration=2, **common),
        "video_to_video": lambda: RunwayVideoToVideoOperator(video_uri=video, prompt_text="as a watercolour", **common),
        "video_upscale": lambda: RunwayVideoUpscaleOperator(video_uri=video, **common),
    }
    if endpoint in typed:
        return typed[endpoint]()  # type: ignore[no-any-return]
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
    }
    return RunwayCreateTaskOperator(endpoint=endpoint, body=bodies[endpoint], **common)


CASES = [
    pytest.param(endpoint, flavor, id=f"{endpoint}-{flavor}")
    for endpoint, spec in load_catalog().endpoints.items()
    for flavor in FLAVORS
    if spec.offered_by(flavor)
]


@pytest.mark.parametrize("endpoint, flavor", CASES)
def test_each_endpoint_is_created_waited_and_stored(
    endpoint: str, flavor: str, media: dict[str, str], runway_emulator: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    connect(monkeypatch, runway_emulator, flavor)
    out = tmp_path / "out"
    op = operator_for(
        endpoint, media, task_id="make", wait_for_completion=True, deferrable=False, poll_interval=0.1,
        output_path=f"{out}/", idempotent=True,
    )  # fmt: skip
    ti = XComRecorder()
    op.execute(context={"ti": ti, "task_state_store": StateStore()})  # type: ignore[arg-type]

    [create] = [r for r in runway_emulator.requests() if r["method"] == "POST" and r["path"].endswith(endpoint)]
    sent = json.dumps(create["body"])
    assert ("data:" in sent) == (endpoint not in TEXT_ONLY)  # stored inputs went inline
    assert str(tmp_path) not in sent  # never a local path
    kind = load_catalog().endpoints[endpoint].output
    record = ti.xcom[XCOM_OUTPUT_KEY]
    assert record["outcome"] == "created" and record["output_kind"] == kind
    assert (XCOM_VIDEO_KEY in ti.xcom) == (kind == "video")
    stored = Path(record["output"])
    assert stored.parent == out and stored.suffix == SUFFIX_OF_KIND[kind]
    data = stored.read_bytes()
    sniffed = sniff_type(data[:32])
    assert sniffed is not None and sniffed[0].startswith(f"{kind}/")
    meta = json.loads(stored.with_suffix(".json").read_text())
    assert (meta["endpoint"], meta["output_kind"], meta["output"], meta["bytes"]) == (
        endpoint,
        kind,
        str(stored),
        len(data),
    )
    assert meta["runway_task_id"] == ti.xcom["runway_task_id"] and meta["model"] == create["body"]["model"]
    assert "base64" not in json.dumps(meta)
    # the same request again: found stored, nothing paid
    again = XComRecorder()
    rerun = operator_for(
        endpoint, media, task_id="make", wait_for_completion=True, deferrable=False, output_path=f"{out}/",
        idempotent=True,
    )  # fmt: skip
    rerun.execute(context={"ti": again, "task_state_store": StateStore()})  # type: ignore[arg-type]
    assert again.xcom[XCOM_OUTPUT_KEY]["outcome"] == "skipped"
    assert runway_emulator.stats()["creates"]["count"] == 1


def connect(monkeypatch: Any, emulator: Any, flavor: str) -> None:
    from runway_emulator.pytest_plugin import TEST_API_KEY

    conn = {"conn_type": "runway", "host": emulator.base_url, "password": TEST_API_KEY, "extra": {"flavor": flavor}}
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_DEFAULT", json.dumps(conn))


@pytest.mark.parametrize(
    "endpoint, flavor",
    [(e, f) for e, spec in load_catalog().endpoints.items() for f in FLAVORS if not spec.offered_by(f)],
)
def test_an_endpoint_the_flavor_lacks_fails_before_any_request(
    endpoint: str, flavor: str, media: dict[str, str], runway_emulator: Any, monkeypatch: Any
) -> None:
    connect(monkeypatch, runway_emulator, flavor)
    with pytest.raises(InvalidRequestError, match=f"{endpoint} is not offered through flavor {flavor}") as caught:
        operator_for(endpoint, media, task_id="make").execute(context={})  # type: ignore[arg-type]
    other = next(f for f in FLAVORS if f != flavor)
    assert f"flavor(s) that offer it: {other}" in str(caught.value)
    assert runway_emulator.requests() == []


def test_unknown_model_and_endpoint_pass_with_a_warning(
    runway_emulator: Any, monkeypatch: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    connect(monkeypatch, runway_emulator, "runway")
    body = {"model": "gen9_image", "promptText": "a fox", "ratio": "1920:1080"}
    task_id = RunwayCreateTaskOperator(task_id="t", endpoint="text_to_image", body=body).execute(
        context={"ti": XComRecorder(), "task_state_store": StateStore()}  # type: ignore[arg-type]
    )
    assert task_id
    logs = "".join(capfd.readouterr())
    assert "model 'gen9_image' is not one this provider knows for text_to_image" in logs
    assert "Estimated cost: unknown (gen9_image: not in the catalog" in logs

    with pytest.raises(RunwayAPIError) as caught:  # the emulator has no such endpoint: it got the request
        RunwayCreateTaskOperator(task_id="t", endpoint="text_to_hologram", body={"promptText": "x"}).execute(
            context={"ti": XComRecorder(), "task_state_store": StateStore()}  # type: ignore[arg-type]
        )
    assert caught.value.status_code == 404
    assert "endpoint 'text_to_hologram' is not in this provider's catalog; sent unvalidated" in "".join(
        capfd.readouterr()
    )


@pytest.mark.parametrize("flavor", FLAVORS)
def test_the_logged_estimate_is_the_catalogs(
    flavor: str, runway_emulator: Any, monkeypatch: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    connect(monkeypatch, runway_emulator, flavor)
    op = RunwayTextToImageOperator(
        task_id="t", prompt_text="a fox", ratio="1920:1080", reference_images="https://images.example.com/fox.png"
    )
    op.execute(context={"ti": XComRecorder(), "task_state_store": StateStore()})  # type: ignore[arg-type]
    price = load_catalog().endpoints["text_to_image"].models["gen4_image"].price
    assert price is not None and price.credits is not None
    expected = estimate_credits("text_to_image", {"model": "gen4_image", "promptText": "a fox"}, flavor)
    assert expected.credits == price.credits  # one image at the catalog's per-image price
    assert f"Estimated cost: {price.credits:g} credits (gen4_image: 1 image(s) x {price.credits:g} credits" in "".join(
        capfd.readouterr()
    )


@pytest.mark.parametrize(
    "make, needle",
    [
        (
            lambda: RunwayImageToVideoOperator(
                task_id="t", prompt_image="https://i.example.com/a.jpg", duration=10, max_credits=49
            ),
            "estimated at 50 credits",
        ),
        (
            lambda: RunwayVideoUpscaleOperator(task_id="t", video_uri="https://i.example.com/a.mp4", max_credits=1000),
            "cannot be estimated",
        ),
    ],
    ids=["above", "unknown"],
)
def test_max_credits_refuses_before_any_paid_call(
    make: Any, needle: str, runway_emulator: Any, monkeypatch: Any
) -> None:
    connect(monkeypatch, runway_emulator, "cometapi")
    ti = XComRecorder()
    op = make()
    with pytest.raises(AirflowFailException, match=needle) as caught:
        op.execute(context={"ti": ti, "task_state_store": StateStore()})
    assert "max_credits" in str(caught.value)
    assert runway_emulator.stats()["creates"]["attempts"] == 0


def test_max_credits_at_the_estimate_creates(runway_emulator: Any, monkeypatch: Any) -> None:
    connect(monkeypatch, runway_emulator, "cometapi")
    op = RunwayImageToVideoOperator(
        task_id="t", prompt_image="https://i.example.com/a.jpg", duration=10, max_credits="50"
    )
    op.execute(context={"ti": XComRecorder(), "task_state_store": StateStore()})  # type: ignore[arg-type]
    assert runway_emulator.stats()["creates"]["count"] == 1


def test_a_stored_image_feeds_the_next_step(
    media: dict[str, str], runway_emulator: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    """text -> image stored as a file -> that file as the next step's prompt_image (sent inline)."""
    connect(monkeypatch, runway_emulator, "cometapi")
    common: dict[str, Any] = {"wait_for_completion": True, "deferrable": False, "poll_interval": 0.1}
    first = XComRecorder()
    RunwayTextToImageOperator(
        task_id="image", prompt_text="a fox", ratio="1920:1080", reference_images=media["image"],
        output_path=f"{tmp_path}/", **common,
    ).execute(context={"ti": first, "task_state_store": StateStore()})  # type: ignore[arg-type]  # fmt: skip
    still = first.xcom[XCOM_OUTPUT_KEY]["output"]
    second = XComRecorder()
    RunwayImageToVideoOperator(task_id="video", prompt_image=still, output_path=f"{tmp_path}/", **common).execute(
        context={"ti": second, "task_state_store": StateStore()}  # type: ignore[arg-type]
    )
    [_, create] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert base64.b64decode(create["body"]["promptImage"].partition(",")[2]) == Path(still).read_bytes()
    meta = json.loads(Path(second.xcom[XCOM_VIDEO_KEY]["sidecar"]).read_text())
    assert meta["source_image"] == still and meta["endpoint"] == "image_to_video"
