"""Runway's account endpoints: the balance and the usage report agree with the tasks charged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from runway_emulator.account import runway_models

from tests.emulator.flows import create
from tests.emulator.support import IMAGE, headers

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration


def usage(http: requests.Session, emu: EmulatorHandle, body: Any = None) -> requests.Response:
    return http.post(emu.url("/v1/organization/usage"), json=body, headers=headers())


def day_of(ts: float) -> date:
    return datetime.fromtimestamp(ts, timezone.utc).date()


def charge_a_few(http: requests.Session, emu: EmulatorHandle) -> list[str]:
    """Tasks of several endpoints and models; one cancelled before it ran, one through CometAPI."""
    wide, square = {"ratio": "1280:720"}, {"ratio": "1024:1024"}
    still = {"promptImage": IMAGE, "duration": 5, **wide}
    ids = [
        create(http, emu, "image_to_video", "runway", {"model": "gen4_turbo", **still}),
        create(http, emu, "text_to_video", "runway", {"model": "gen4.5", "promptText": "sea", "duration": 2, **wide}),
        create(http, emu, "text_to_image", "runway", {"model": "gen4_image", "promptText": "cat", **square}),
        create(http, emu, "text_to_image", "runway", {"model": "gen4_image", "promptText": "dog", **square}),
        create(http, emu, "text_to_video", "runway", {"model": "gen4.5", "promptText": "gone", "duration": 5, **wide}),
        create(http, emu, "image_to_video", "cometapi", {"model": "gen3a_turbo", "promptImage": IMAGE}),
    ]  # fmt: skip
    for task_id in ids[:4]:
        emu.complete(task_id)
    assert http.delete(emu.url(f"/v1/tasks/{ids[4]}"), headers=headers()).status_code == 204  # refunded
    return ids


def test_usage_and_balance_follow_the_tasks(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(max_concurrency=10)
    ids = charge_a_few(http, runway_emulator)
    tasks = runway_emulator.stats()["tasks"]
    assert [tasks[i]["credits"] for i in ids] == [25, 24, 8, 8, 0, 25]  # catalog prices; cancelled: refunded

    today = day_of(tasks[ids[0]]["created_at"])
    window = {"startDate": today.isoformat(), "beforeDate": (today + timedelta(days=1)).isoformat()}
    resp = usage(http, runway_emulator, window)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "models": ["gen4.5", "gen4_image", "gen4_turbo"],
        "results": [
            {
                "date": today.isoformat(),
                "usedCredits": [
                    {"model": "gen4.5", "amount": 24},
                    {"model": "gen4_image", "amount": 16},
                    {"model": "gen4_turbo", "amount": 25},
                ],
            }
        ],
    }  # the CometAPI task is CometAPI's to bill
    org = http.get(runway_emulator.url("/v1/organization"), headers=headers()).json()
    assert org["creditBalance"] == 10_000 - (25 + 24 + 8 + 8)
    assert org["usage"]["models"] == {
        "gen4_turbo": {"dailyGenerations": 1},
        "gen4.5": {"dailyGenerations": 2},
        "gen4_image": {"dailyGenerations": 2},
    }


def test_usage_is_per_day_and_window(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    body = {"model": "gen4_image", "promptText": "cat", "ratio": "1024:1024"}
    first = create(http, runway_emulator, "text_to_image", "runway", body)
    runway_emulator.advance(2 * 86_400)
    second = create(http, runway_emulator, "text_to_image", "runway", body)
    tasks = runway_emulator.stats()["tasks"]
    day1, day2 = day_of(tasks[first]["created_at"]), day_of(tasks[second]["created_at"])

    window = {"startDate": day1.isoformat(), "beforeDate": (day2 + timedelta(days=1)).isoformat()}
    both = usage(http, runway_emulator, window).json()
    assert [(r["date"], r["usedCredits"]) for r in both["results"]] == [
        (day1.isoformat(), [{"model": "gen4_image", "amount": 8}]),
        (day2.isoformat(), [{"model": "gen4_image", "amount": 8}]),
    ]
    only_first = usage(http, runway_emulator, {"startDate": day1.isoformat(), "beforeDate": day2.isoformat()}).json()
    assert [r["date"] for r in only_first["results"]] == [day1.isoformat()]
    later = usage(http, runway_emulator, {"startDate": (day2 + timedelta(days=1)).isoformat()}).json()
    assert later == {"models": [], "results": []}
    # The SDK's documented defaults: from 30 days ago to 30 days after that, i.e. up to today,
    # today itself excluded (beforeDate is exclusive).
    defaults = usage(http, runway_emulator).json()
    assert [r["date"] for r in defaults["results"]] == [day1.isoformat()]
    empty_body = http.post(runway_emulator.url("/v1/organization/usage"), headers=headers())
    assert empty_body.status_code == 200 and empty_body.json() == defaults


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"startDate": "2026-13-01"}, "startDate"),
        ({"startDate": "last month"}, "startDate"),
        ({"beforeDate": 20260101}, "beforeDate"),
        ({"startDate": "2026-03-01", "beforeDate": "2026-03-01"}, "beforeDate"),
        ({"startDate": "2026-01-01", "beforeDate": "2026-04-02"}, "90 days"),
        ({"start_date": "2026-01-01"}, "start_date"),
        (["2026-01-01"], "JSON object"),
    ],
)
def test_bad_usage_requests_are_400(
    runway_emulator: EmulatorHandle, http: requests.Session, body: Any, names: str
) -> None:
    resp = usage(http, runway_emulator, body)
    assert resp.status_code == 400 and names in resp.json()["error"]


def test_organization_lists_every_runway_model() -> None:
    models = runway_models()
    for name in ("gen4_turbo", "gen4_image", "aleph2", "magnific_video_upscaler_creative", "eleven_voice_isolation"):
        assert name in models
    assert "gen3a_turbo" not in models and "upscale_v1" not in models  # CometAPI only


def test_router_and_recipe_tasks_are_reported_under_a_model(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    routed = create(http, runway_emulator, "generate/video", "runway", {"configId": "r", "input": {"duration": 2}})
    recipe = {"productImages": [{"uri": IMAGE}], "version": "2026-07", "duration": 4}
    made = create(http, runway_emulator, "recipes/product_ad", "runway", recipe)
    for task_id in (routed, made):
        runway_emulator.complete(task_id)
    tasks = runway_emulator.stats()["tasks"]
    assert (tasks[routed]["model"], tasks[made]["model"]) == ("gen4.5", "recipes/product_ad")
    today = day_of(tasks[routed]["created_at"])
    window = {"startDate": today.isoformat(), "beforeDate": (today + timedelta(days=1)).isoformat()}
    [day] = usage(http, runway_emulator, window).json()["results"]
    # The router's choice at its own price (12/s x 2 s); the recipe at the video fallback (5/s x 4 s).
    assert day["usedCredits"] == [{"model": "gen4.5", "amount": 24}, {"model": "recipes/product_ad", "amount": 20}]
