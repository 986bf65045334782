"""Conformance through the official client: every (endpoint, model) pair runwayml 5.24.0 defines,
sent as its smallest valid request by ``runwayml.RunwayML`` with strict response validation, read
back with ``client.tasks.retrieve`` until final (the emulator's clock moves, nobody waits), and
its output downloaded as the right kind of file."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator.sdk_bodies import SDK_BODIES, SdkBody

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

runwayml = pytest.importorskip("runwayml")

pytestmark = pytest.mark.integration
SDK_KEY = "key_" + "cd" * 64  # the shape of a Runway key; only the emulator ever sees it
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
IMAGES = {"text_to_image", "image_upscale", "generate/image"} | {
    f"recipes/{name}" for name in ("ad_localization", "marketing_stock_image", "product_campaign_image")
}
SOUNDS = {
    "sound_effect",
    "text_to_speech",
    "speech_to_speech",
    "voice_dubbing",
    "voice_isolation",
    "video_to_audio",
    "generate/audio",
}


def expected_file(endpoint: str) -> tuple[str, Callable[[bytes], bool]]:
    """The media type and file signature of an endpoint's default output (mp4, png or mp3)."""
    if endpoint in IMAGES:
        return "image/png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")
    if endpoint in SOUNDS:
        return "audio/mpeg", lambda data: data[:3] == b"ID3" or data[:1] == b"\xff"
    return "video/mp4", lambda data: data[4:8] == b"ftyp"


@pytest.fixture
def client(runway_emulator: EmulatorHandle) -> Iterator[Any]:
    # Long phases: nothing moves unless the test moves the emulator's clock.
    runway_emulator.configure(pending_seconds=5, generation_seconds=60, api_key=SDK_KEY, max_concurrency=1)
    with runwayml.RunwayML(
        api_key=SDK_KEY,
        base_url=runway_emulator.base_url,
        http_client=runwayml.DefaultHttpxClient(trust_env=False),  # 127.0.0.1 only, never a proxy
        max_retries=0,
        _strict_response_validation=True,
    ) as sdk:
        yield sdk


def _estimate(case: SdkBody, created: Any, first: Any) -> float:
    """What the create answered as the estimate (the router inside ``routing``, avatars not at all)."""
    if case.endpoint.startswith("generate/"):
        return float(created.routing.estimated_cost.credits)
    if case.endpoint == "avatar_videos":
        assert set(created.model_dump(by_alias=True)) == {"id"}  # AvatarVideoCreateResponse
        return float(first.estimated_cost.credits)
    return float(created.estimated_cost.credits)


@pytest.mark.parametrize("case", SDK_BODIES, ids=lambda case: case.case_id)
def test_the_official_client_round_trip(
    client: Any, runway_emulator: EmulatorHandle, http: requests.Session, case: SdkBody
) -> None:
    create = functools.reduce(getattr, case.method.split("."), client)
    created = create(**case.kwargs)  # the answer parsed strictly as the SDK's response type
    task = client.tasks.retrieve(created.id)
    estimate = _estimate(case, created, task)
    assert estimate > 0
    statuses = []
    for _ in range(20):  # 20 steps of 10 s: far more than 5 s pending + 60 s running
        statuses.append(task.status)
        if task.status in FINAL:
            break
        assert task.estimated_cost.credits == estimate
        runway_emulator.advance(10)
        task = client.tasks.retrieve(created.id)
    assert statuses[0] == "PENDING" and "RUNNING" in statuses and statuses[-1] == "SUCCEEDED", statuses
    assert task.cost.credits == math.ceil(estimate)
    [request] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert request["path"] == f"/v1/{case.endpoint}" and request["body"] == case.wire
    media_type, signature = expected_file(case.endpoint)
    download = http.get(task.output[0])
    assert download.status_code == 200
    assert download.headers["Content-Type"] == media_type
    assert signature(download.content), download.content[:16]
