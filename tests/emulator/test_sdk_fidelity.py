"""Runway's official SDK (runwayml, httpx-based) against the emulator's Runway-direct flavor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator.support import IMAGE, RED, make_png

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

runwayml = pytest.importorskip("runwayml")

pytestmark = pytest.mark.integration
SDK_KEY = "key_" + "ab" * 64  # the shape of a Runway key; only the emulator ever sees it


@pytest.fixture
def client(runway_emulator: EmulatorHandle) -> Iterator[Any]:
    # Long phases: nothing moves unless a test moves the emulator's clock.
    runway_emulator.configure(pending_seconds=5, generation_seconds=60, api_key=SDK_KEY)
    http_client = runwayml.DefaultHttpxClient(trust_env=False)  # 127.0.0.1 only, never a proxy
    with runwayml.RunwayML(
        api_key=SDK_KEY,
        base_url=runway_emulator.base_url,
        http_client=http_client,
        _strict_response_validation=True,  # every answer must parse as the SDK's own types
    ) as sdk:
        yield sdk


def test_create_and_wait_for_output(
    client: Any, runway_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK sleeps 6 s +- 1.5 s before each poll; the task is finished on demand instead.
    monkeypatch.setattr("runwayml.lib.polling.POLL_TIME", 0.0)
    monkeypatch.setattr("runwayml.lib.polling.POLL_JITTER", 0.0)
    created = client.image_to_video.create(
        model="gen4_turbo", prompt_image=IMAGE, ratio="1280:720", duration=5, prompt_text="a slow pan"
    )
    assert created.estimated_cost.credits == 25.0  # gen4_turbo: 5 s at 5 credits/s
    runway_emulator.complete(created.id)
    task = created.wait_for_task_output(timeout=20)
    assert task.status == "SUCCEEDED"
    assert task.id == created.id
    assert task.output[0].startswith(f"{runway_emulator.base_url}/_emulator/outputs/{created.id}.mp4")
    assert task.created_at.tzinfo is not None
    assert task.cost.credits == 25

    [create] = [r for r in runway_emulator.requests() if r["method"] == "POST"]
    assert create["path"] == "/v1/image_to_video"
    assert create["auth_matches_pinned_key"] is True
    assert create["headers"]["X-Runway-Version"] == "2024-11-06"
    assert create["body"] == {
        "model": "gen4_turbo",
        "promptImage": IMAGE,
        "ratio": "1280:720",
        "duration": 5,
        "promptText": "a slow pan",
    }


def test_retrieve_until_succeeded(client: Any, runway_emulator: EmulatorHandle) -> None:
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=IMAGE, ratio="720:1280")
    seen = []
    for _ in range(20):  # 20 steps of 10 s: far more than 5 s pending + 60 s running
        task = client.tasks.retrieve(created.id)
        seen.append(task.status)
        if task.status == "SUCCEEDED":
            break
        runway_emulator.advance(10)
    assert seen[0] == "PENDING" and seen[-1] == "SUCCEEDED"
    assert "RUNNING" in seen
    assert type(task).__name__ == "AwaitableSucceeded"  # the SDK's discriminated union matched


def test_sdk_errors_map_to_its_exception_classes(client: Any, runway_emulator: EmulatorHandle) -> None:
    with pytest.raises(runwayml.BadRequestError, match="ratio"):
        client.image_to_video.create(model="gen4_turbo", prompt_image=IMAGE, ratio="1280:768")
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve("00000000-0000-0000-0000-000000000000")
    wrong = runwayml.RunwayML(
        api_key="key_wrong",
        base_url=runway_emulator.base_url,
        max_retries=0,
        http_client=runwayml.DefaultHttpxClient(trust_env=False),
    )
    with wrong, pytest.raises(runwayml.AuthenticationError):
        wrong.organization.retrieve()


def test_sdk_retries_honour_the_emulator_429(client: Any, runway_emulator: EmulatorHandle) -> None:
    runway_emulator.set_faults(rate_limit={"count": 1, "retry_after": 0})
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=IMAGE, ratio="1280:720")
    stats = runway_emulator.stats()
    assert (stats["creates"]["count"], stats["creates"]["attempts"]) == (1, 2)
    assert created.id in stats["tasks"]


def test_delete_and_organization(client: Any, runway_emulator: EmulatorHandle) -> None:
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=IMAGE, ratio="1280:720", duration=10)
    client.tasks.delete(created.id)
    assert runway_emulator.stats()["tasks"][created.id]["status"] == "CANCELLED"
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(created.id)
    org = client.organization.retrieve()
    assert org.credit_balance == 10_000  # cancelled while PENDING: refunded
    assert org.tier.models["gen4_turbo"].max_concurrent_generations == 2


def test_uploads_and_usage(client: Any, runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    png = make_png(96, 64, RED, comment=b"x" * 600)  # Runway takes files of 512 bytes or more
    uploaded = client.uploads.create_ephemeral(file=("frame.png", png))
    assert uploaded.uri.startswith("runway://")
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=uploaded.uri, ratio="1280:720", duration=2)
    runway_emulator.complete(created.id)
    task = client.tasks.retrieve(created.id)
    assert task.status == "SUCCEEDED"
    assert http.get(task.output[0]).status_code == 200
    assert runway_emulator.stats()["uploads"]["storage_posts"]["with_authorization"] == 0
    today = datetime.fromtimestamp(runway_emulator.clock()["now"], timezone.utc).date()
    usage = client.organization.retrieve_usage(start_date=today, before_date=today + timedelta(days=1))
    assert usage.models == ["gen4_turbo"]
    [day] = usage.results
    assert (day.date, [(c.model, c.amount) for c in day.used_credits]) == (today, [("gen4_turbo", 10)])
