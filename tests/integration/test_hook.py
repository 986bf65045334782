"""RunwayHook's blocking calls against the local emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from runway_emulator.pytest_plugin import TEST_API_KEY, RunwayTestConnection

from airflow_provider_runway import __version__
from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.runway.bodies import ValidatedBody
from airflow_provider_runway.runway.errors import (
    CreateOutcomeUnknownError,
    FlavorNotSupportedError,
    InvalidRequestError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
    TransportFailure,
)
from airflow_provider_runway.runway.retry_policy import RetryPolicy

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
FAST = RetryPolicy(max_retries=3, initial_delay=0.05, max_delay=0.2, jitter=0.1)
GEN3 = {"promptImage": CAT, "model": "gen3a_turbo"}
GEN4 = {"promptImage": CAT, "model": "gen4_turbo", "ratio": "1280:720"}
both_flavors = pytest.mark.parametrize("runway_connection", ["cometapi", "runway"], indirect=True)
runway_flavor = pytest.mark.runway_connection("runway")

pytestmark = pytest.mark.integration


def hook() -> RunwayHook:
    return RunwayHook(retry_policy=FAST)


def body_for(conn: RunwayTestConnection) -> dict[str, Any]:
    return GEN4 if conn.flavor == "runway" else GEN3


def sent(emulator: Any, method: str, suffix: str) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == method and r["path"].endswith(suffix)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- create


@both_flavors
def test_create_sends_the_documented_headers_and_camelcase_body(runway_connection: RunwayTestConnection) -> None:
    emulator = runway_connection.emulator
    emulator.configure(api_key=TEST_API_KEY)
    task_id = hook().create_task("image_to_video", {**body_for(runway_connection), "seed": 7})

    [request] = sent(emulator, "POST", "/image_to_video")
    headers = {k.lower(): v for k, v in request["headers"].items()}
    prefix = "/v1" if runway_connection.flavor == "runway" else "/runwayml/v1"
    assert request["path"] == f"{prefix}/image_to_video"
    assert request["auth_matches_pinned_key"] is True
    assert headers["x-runway-version"] == "2024-11-06"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"airflow-provider-runway/{__version__}"
    assert request["body"] == {**body_for(runway_connection), "seed": 7}
    assert emulator.stats()["creates"]["count"] == 1
    assert len(task_id) == 36


def test_submit_image_to_video_is_a_create_task(runway_connection: RunwayTestConnection) -> None:
    task_id = hook().submit_image_to_video(GEN3)
    assert runway_connection.emulator.stats()["tasks"][task_id]["status"] in ("PENDING", "THROTTLED", "RUNNING")


def test_invalid_body_is_refused_before_any_request(runway_connection: RunwayTestConnection) -> None:
    with pytest.raises(InvalidRequestError, match="seed"):
        hook().create_task("image_to_video", {**GEN3, "seed": -1})
    assert runway_connection.emulator.requests() == []


@runway_flavor
def test_a_validated_body_goes_out_as_given_and_the_apis_error_names_the_field(
    runway_connection: RunwayTestConnection,
) -> None:
    # Bypasses the client-side checks to see the emulator's own answer.
    body = ValidatedBody(body={"promptImage": CAT, "model": "gen4_turbo", "ratio": "1:1"}, warnings=())
    with pytest.raises(RunwayAPIError) as caught:
        RunwayHook(retry_policy=FAST).create_task("image_to_video", body)
    assert caught.value.status_code == 400
    assert "ratio" in caught.value.api_message


def test_an_endpoint_without_client_checks_passes_the_body_through_with_a_warning(
    runway_connection: RunwayTestConnection, capfd: pytest.CaptureFixture[str]
) -> None:
    body = {"model": "future_model", "promptText": "a red fox", "anything": [1, 2]}
    with pytest.raises(RunwayAPIError) as caught:  # the emulator has no such endpoint
        hook().create_task("no_such_endpoint", body)
    assert caught.value.status_code == 404
    [request] = sent(runway_connection.emulator, "POST", "/no_such_endpoint")
    assert request["body"] == body
    assert "endpoint 'no_such_endpoint' is not in this provider's catalog; sent unvalidated" in "".join(
        capfd.readouterr()
    )


def test_an_endpoint_the_flavor_does_not_offer_fails_before_any_request_naming_who_does(
    runway_connection: RunwayTestConnection,
) -> None:
    from airflow_provider_runway.runway.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=r"text_to_video is not offered through flavor cometapi.*runway"):
        hook().create_task("text_to_video", {"model": "gen4.5", "promptText": "a fox", "ratio": "1280:720"})
    assert runway_connection.emulator.requests() == []


def test_an_endpoint_that_is_not_one_path_segment_is_refused_before_any_request(
    runway_connection: RunwayTestConnection,
) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        hook().create_task("../tasks", GEN3)
    assert runway_connection.emulator.requests() == []


def test_create_honours_retry_after_and_creates_once(runway_connection: RunwayTestConnection) -> None:
    emulator = runway_connection.emulator
    emulator.set_faults(rate_limit={"count": 1, "route": "create", "retry_after": 1})
    started = time.monotonic()
    hook().create_task("image_to_video", GEN3)
    assert time.monotonic() - started >= 1.0
    assert len(sent(emulator, "POST", "/image_to_video")) == 2
    assert emulator.stats()["creates"]["count"] == 1


@pytest.mark.parametrize(
    "faults",
    [
        {"slow": {"count": 1, "delay": 2.0, "route": "create", "when": "after"}},
        {"reset": {"count": 1, "route": "create"}},
        {"server_error": {"count": 1, "status": 500, "route": "create"}},
    ],
    ids=["read-timeout", "reset", "500"],
)
@pytest.mark.runway_connection(timeout=0.5)
def test_a_create_with_an_unknown_outcome_is_never_repeated(
    runway_connection: RunwayTestConnection, faults: dict[str, Any]
) -> None:
    emulator = runway_connection.emulator
    emulator.set_faults(**faults)
    with pytest.raises(CreateOutcomeUnknownError, match="may exist"):
        hook().create_task("image_to_video", GEN3)
    time.sleep(1.8 if "slow" in faults else 0)  # let a slow answer finish server-side
    assert len(sent(emulator, "POST", "/image_to_video")) == 1


def test_a_refused_create_is_reported_as_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_DEFAULT", json.dumps({"host": url, "password": "k", "conn_type": "runway"}))
    with pytest.raises(RunwayTransportError) as caught:
        hook().create_task("image_to_video", GEN3)
    assert caught.value.failure is TransportFailure.REFUSED
    assert str(caught.value) == "POST /runwayml/v1/image_to_video: connection refused by 127.0.0.1"


# --------------------------------------------------------------------------- polls


@pytest.mark.parametrize("shape", ["wrapped", "bare"])
def test_get_task_normalises_both_cometapi_shapes(runway_connection: RunwayTestConnection, shape: str) -> None:
    runway_connection.emulator.configure(
        comet_poll_shape=shape, not_visible_seconds=0, generation_seconds=0.3, pending_seconds=0
    )
    h = hook()
    task_id = h.create_task("image_to_video", GEN3)
    deadline = time.time() + 10
    task = h.get_task(task_id)
    while not task.is_terminal and time.time() < deadline:
        time.sleep(0.1)
        task = h.get_task(task_id)
    assert (task.id, task.status) == (task_id, "SUCCEEDED")
    assert task.output and task.output[0].startswith(runway_connection.base_url)


def test_task_not_exist_right_after_create_is_reported_as_not_visible(runway_connection: RunwayTestConnection) -> None:
    runway_connection.emulator.configure(not_visible_seconds=30)
    h = hook()
    task_id = h.create_task("image_to_video", GEN3)
    with pytest.raises(RunwayTaskNotVisibleError):
        h.get_task(task_id)


@runway_flavor
def test_unknown_task_on_runway_flavor_is_not_found(runway_connection: RunwayTestConnection) -> None:
    with pytest.raises(RunwayTaskNotFoundError):
        hook().get_task("00000000-0000-0000-0000-000000000000")


@runway_flavor
def test_poll_retries_a_5xx_burst_then_succeeds(runway_connection: RunwayTestConnection) -> None:
    h = hook()
    task_id = h.create_task("image_to_video", GEN4)
    runway_connection.emulator.set_faults(server_error={"count": 2, "status": 503, "route": "poll"})
    assert h.get_task(task_id).id == task_id
    assert len(sent(runway_connection.emulator, "GET", task_id)) == 3


def test_errors_carry_the_api_message_but_never_the_key(runway_connection: RunwayTestConnection) -> None:
    runway_connection.emulator.configure(api_key="the-only-accepted-key")
    with pytest.raises(RunwayAuthError) as caught:
        hook().get_task("00000000-0000-0000-0000-000000000000")
    assert caught.value.status_code == 401
    for text in (str(caught.value), repr(caught.value), repr(hook().settings)):
        assert TEST_API_KEY not in text


# --------------------------------------------------------------------------- account (Runway direct)


@runway_flavor
def test_get_organization(runway_connection: RunwayTestConnection) -> None:
    assert hook().get_organization()["creditBalance"] == 10_000


@runway_flavor
def test_get_organization_usage_posts_the_sdk_body(runway_connection: RunwayTestConnection) -> None:
    usage = hook().get_organization_usage(start_date="2026-01-01", before_date="2026-02-01")
    [request] = sent(runway_connection.emulator, "POST", "/v1/organization/usage")
    assert request["body"] == {"startDate": "2026-01-01", "beforeDate": "2026-02-01"}
    assert isinstance(usage.get("results"), list)


@runway_flavor
def test_bad_usage_dates_are_refused_before_any_request(runway_connection: RunwayTestConnection) -> None:
    with pytest.raises(InvalidRequestError, match="startDate"):
        hook().get_organization_usage(start_date="last month")
    assert runway_connection.emulator.requests() == []


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.get_organization(),
        lambda h: h.get_organization_usage(),
        lambda h: h.upload_ephemeral("frame.png", b"\x89PNG", "image/png"),
    ],
    ids=["organization", "usage", "upload"],
)
def test_runway_only_calls_refuse_cometapi_clearly(runway_connection: RunwayTestConnection, call: Any) -> None:
    with pytest.raises(FlavorNotSupportedError, match="needs the connection's flavor 'runway'"):
        call(hook())
    assert runway_connection.emulator.requests() == []
