"""The emulator's own prices: settable by a test, reflected in ``estimatedCost`` and ``cost``, and
charged as the SDK documents (runwayml 5.24.0): refunded when a task fails or is cancelled before
it runs, kept when it was cancelled while RUNNING."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from runway_emulator import ConfigError, EmulatorAdminError, EmulatorConfig, run_emulator
from runway_emulator.prices import PriceTable, Quantities

from tests.emulator.flows import create, create_answer, poll
from tests.emulator.support import IMAGE, headers

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration

CLIP = {"model": "gen4_turbo", "promptImage": IMAGE, "ratio": "1280:720", "duration": 4}  # 4 s x 5 credits/s
SEVEN_A_SECOND = {"endpoints": {"image_to_video": {"gen4_turbo": {"per": "second", "credits": 7.25}}}}


def balance(http: requests.Session, emu: EmulatorHandle) -> int:
    org: dict[str, Any] = http.get(emu.url("/v1/organization"), headers=headers()).json()
    return int(org["creditBalance"])


def test_the_default_price_is_prices_json(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    answer = create_answer(http, runway_emulator, "image_to_video", "runway", CLIP)
    assert answer["estimatedCost"] == {"credits": 20.0}
    table = runway_emulator.prices()
    assert table["endpoints"]["image_to_video"]["gen4_turbo"] == {"per": "second", "credits": 5}


def test_a_test_sets_prices_and_the_api_answers_with_them(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    table = runway_emulator.set_prices(SEVEN_A_SECOND)
    assert table["endpoints"]["image_to_video"]["gen4_turbo"]["credits"] == 7.25
    assert table["endpoints"]["image_to_video"]["gen4.5"] == {"per": "second", "credits": 12}  # the rest stays
    answer = create_answer(http, runway_emulator, "image_to_video", "runway", CLIP)
    assert answer["estimatedCost"] == {"credits": 29.0}
    runway_emulator.set_prices({})  # back to prices.json; the task keeps the price it was created at
    runway_emulator.complete(answer["id"])
    assert poll(http, runway_emulator, "runway", answer["id"])["cost"] == {"credits": 29}
    assert balance(http, runway_emulator) == 10_000 - 29
    assert create_answer(http, runway_emulator, "image_to_video", "runway", CLIP)["estimatedCost"]["credits"] == 20.0


def test_prices_through_configure_and_the_marker_config(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    runway_emulator.configure(prices={"fallback": {"video": {"per": "call", "credits": 3}}})
    upscale = {"model": "magnific_video_upscaler_creative", "videoUri": "https://example.com/v.mp4"}
    answer = create_answer(http, runway_emulator, "video_upscale", "runway", upscale)  # no price of its own
    assert answer["estimatedCost"] == {"credits": 3.0}
    assert runway_emulator.config()["prices"] == {"fallback": {"video": {"per": "call", "credits": 3}}}
    runway_emulator.reset()  # the startup config: no overrides
    assert runway_emulator.prices()["fallback"]["video"] == {"per": "second", "credits": 5}


def test_run_emulator_takes_prices(http: requests.Session) -> None:
    with run_emulator(prices=SEVEN_A_SECOND) as emu:
        assert create_answer(http, emu, "image_to_video", "runway", CLIP)["estimatedCost"] == {"credits": 29.0}


@pytest.mark.parametrize(
    ("prices", "names"),
    [
        ({"endpoints": {"image_to_video": {"gen4_turbo": {"per": "minute", "credits": 1}}}}, "per must be one of"),
        ({"endpoints": {"image_to_video": {"gen4_turbo": {"per": "second", "credits": -1}}}}, "credits"),
        ({"fallback": {"video": {"per": "second", "credits": 1, "rates": [{"when": 1}]}}}, "rates[0].when"),
        ({"discounts": {}}, "discounts"),
    ],
)
def test_bad_prices_are_refused_naming_the_entry(runway_emulator: EmulatorHandle, prices: Any, names: str) -> None:
    with pytest.raises(EmulatorAdminError, match=names.replace("[", r"\[")) as caught:
        runway_emulator.set_prices(prices)
    assert caught.value.status == 400
    with pytest.raises(ConfigError, match="per must be one of"):
        EmulatorConfig(prices={"fallback": {"video": {"per": "minute", "credits": 1}}})


def test_cancel_while_pending_is_refunded(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(pending_seconds=30, generation_seconds=60)
    deleted, cancelled = (create(http, runway_emulator, "image_to_video", "runway", CLIP) for _ in range(2))
    assert http.delete(runway_emulator.url(f"/v1/tasks/{deleted}"), headers=headers()).status_code == 204
    runway_emulator.cancel(cancelled)  # from outside: the task stays visible, with its cost
    assert poll(http, runway_emulator, "runway", cancelled)["cost"] == {"credits": 0}
    tasks = runway_emulator.stats()["tasks"]
    assert (tasks[deleted]["credits"], tasks[cancelled]["credits"]) == (0, 0)
    assert runway_emulator.stats()["deletes"]["items"][0]["status_before"] == "PENDING"
    assert balance(http, runway_emulator) == 10_000


def test_cancel_while_running_is_charged(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(pending_seconds=30, generation_seconds=600, max_concurrency=5)
    deleted, cancelled = (create(http, runway_emulator, "image_to_video", "runway", CLIP) for _ in range(2))
    runway_emulator.advance(40)  # past PENDING: both RUNNING
    assert poll(http, runway_emulator, "runway", deleted)["status"] == "RUNNING"
    assert http.delete(runway_emulator.url(f"/v1/tasks/{deleted}"), headers=headers()).status_code == 204
    runway_emulator.cancel(cancelled)
    assert poll(http, runway_emulator, "runway", cancelled)["cost"] == {"credits": 20}
    assert runway_emulator.stats()["deletes"]["items"][0]["status_before"] == "RUNNING"
    assert runway_emulator.stats()["tasks"][deleted]["credits"] == 20
    assert balance(http, runway_emulator) == 10_000 - 40


def test_a_failed_task_is_refunded(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(generation_seconds=600)
    task_id = create(http, runway_emulator, "image_to_video", "runway", CLIP)
    assert balance(http, runway_emulator) == 10_000 - 20  # held while it runs
    runway_emulator.fail(task_id, "INTERNAL.BAD_OUTPUT.CODE01")
    assert poll(http, runway_emulator, "runway", task_id)["cost"] == {"credits": 0}
    assert balance(http, runway_emulator) == 10_000


def test_the_router_and_cometapi_answer_money_too(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    routed = {"configId": "cheap-video", "input": {"promptText": "waves", "duration": 3}}
    answer = create_answer(http, runway_emulator, "generate/video", "runway", routed)
    assert answer["routing"]["model"] == "gen4.5" and answer["routing"]["estimatedCost"] == {"credits": 36.0}
    comet = create_answer(http, runway_emulator, "image_to_video", "cometapi", {"model": "gen3a_turbo",
                                                                              "promptImage": IMAGE})  # fmt: skip
    assert comet["estimatedCost"] == {"credits": 25.0}
    envelope = poll(http, runway_emulator, "cometapi", comet["id"])
    assert envelope["data"]["data"]["estimatedCost"] == {"credits": 25.0}
    assert balance(http, runway_emulator) == 10_000 - 36  # CometAPI bills its own customers


@pytest.mark.parametrize(
    ("endpoint", "model", "made", "body", "credits"),
    [
        ("image_to_video", "veo3.1", Quantities(seconds=8), {}, 320.0),  # audio not turned off: 40/s
        ("image_to_video", "veo3.1", Quantities(seconds=8), {"audio": False}, 160.0),
        ("image_to_video", "seedance2_mini", Quantities(seconds=2), {}, 64.0),  # the 64-credit minimum
        ("image_to_video", "gemini_omni_flash", Quantities(seconds=4), {}, 41.0),  # + 1 per call
        ("image_to_video", "gen4.5", Quantities(seconds=5), {"outputFormat": "prores"}, 85.0),  # + 5/s
        ("image_to_video", "gen4.5", Quantities(seconds=5), {"outputFormat": "hdr10"}, 160.0),  # + 20/s
        ("video_to_hdr", "ruby", Quantities(seconds=5), {"outputFormat": "hdr10"}, 100.0),  # no surcharge
        ("text_to_speech", "eleven_multilingual_v2", Quantities(characters=101), {}, 3.0),  # per 50 started
        ("voice_isolation", "eleven_voice_isolation", Quantities(seconds=7), {}, 2.0),  # 1 per 6 s started
        ("text_to_image", "gen4_image", Quantities(images=3), {}, 24.0),
        ("recipes/product_ad", None, Quantities(seconds=10), {}, 50.0),  # the video fallback
    ],
)
def test_the_price_arithmetic(
    endpoint: str, model: str | None, made: Quantities, body: dict[str, Any], credits: float
) -> None:
    medium = {"text_to_image": "image", "text_to_speech": "audio", "voice_isolation": "audio"}.get(endpoint, "video")
    assert PriceTable.default().estimate(endpoint, model, medium, made, body.get) == credits


@pytest.mark.parametrize(
    ("body", "estimate", "final"),
    [
        # seedance2's docstring states no longest duration: prices.json's auto_seconds, 15 s at 36/s.
        ({"model": "seedance2", "promptImage": IMAGE, "duration": "auto"}, 540.0, 180),
        # gemini_omni_flash_1.1: "Numeric durations must be between 3 and 10 seconds"; no price: 5/s.
        ({"model": "gemini_omni_flash_1.1", "promptImage": IMAGE, "promptText": "x", "duration": "auto"}, 50.0, 25),
        ({"model": "seedance2", "promptImage": IMAGE, "duration": 4}, 144.0, 144),
    ],
)
def test_auto_duration_is_estimated_at_the_longest_and_charged_as_made(
    runway_emulator: EmulatorHandle, http: requests.Session, body: dict[str, Any], estimate: float, final: int
) -> None:
    # "`auto` is billed at the variant maximum up front; unused credits are refunded after the
    # generation finishes" (runwayml 5.24.0); the emulator makes 5 s when the model may choose.
    answer = create_answer(http, runway_emulator, "image_to_video", "runway", body)
    assert answer["estimatedCost"] == {"credits": estimate}
    assert balance(http, runway_emulator) == 10_000 - estimate  # held up front
    runway_emulator.complete(answer["id"])
    assert poll(http, runway_emulator, "runway", answer["id"])["cost"] == {"credits": final}
    assert balance(http, runway_emulator) == 10_000 - final
