"""Every fault kind fires as configured, seen from real HTTP clients."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest
import requests
from runway_emulator import EmulatorAdminError, EmulatorHandle

from tests.emulator.support import COMET, RUNWAY, comet_body, headers, runway_body

pytestmark = pytest.mark.integration


def create(http: requests.Session, emu: EmulatorHandle, prefix: str = RUNWAY, **kw: Any) -> requests.Response:
    body = runway_body() if prefix == RUNWAY else comet_body()
    return http.post(emu.url(f"{prefix}/image_to_video"), json=body, headers=headers(), **kw)


def poll(http: requests.Session, emu: EmulatorHandle, task_id: str, **kw: Any) -> requests.Response:
    return http.get(emu.url(f"/v1/tasks/{task_id}"), headers=headers(), **kw)


def new_task(http: requests.Session, emu: EmulatorHandle) -> str:
    resp = create(http, emu)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


@pytest.mark.parametrize("prefix", [RUNWAY, COMET])
def test_rate_limit_first_n_creates(runway_emulator: EmulatorHandle, http: requests.Session, prefix: str) -> None:
    runway_emulator.set_faults(rate_limit={"count": 2, "retry_after": 3})
    answers = [create(http, runway_emulator, prefix) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    error = answers[0].json()["error"]
    if prefix == COMET:
        assert error["code"] == "rate_limit_exceeded" and set(error) == {"message", "type", "param", "code"}
    else:
        assert isinstance(error, str)
    stats = runway_emulator.stats()
    assert (stats["creates"]["count"], stats["creates"]["attempts"]) == (1, 3)
    assert stats["faults_fired"]["by_kind"] == {"rate_limit": 2}
    assert stats["faults"]["rate_limit"]["remaining"] == 0


def test_rate_based_faults_are_reproducible(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = new_task(http, runway_emulator)

    def pattern() -> list[int]:
        runway_emulator.set_faults(server_error={"rate": 0.5, "route": "poll"})
        return [poll(http, runway_emulator, task_id).status_code for _ in range(20)]

    first = pattern()
    assert set(first) == {200, 503}
    runway_emulator.reset()  # reseeds the RNG
    task_id = new_task(http, runway_emulator)
    assert pattern() == first


def test_server_error_burst_on_polls_only(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.set_faults(server_error={"count": 3, "status": 502, "route": "poll"})
    task_id = new_task(http, runway_emulator)  # creates are not affected
    codes = [poll(http, runway_emulator, task_id).status_code for _ in range(4)]
    assert codes == [502, 502, 502, 200]


def test_after_lets_requests_through_first(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.set_faults(server_error={"count": 1, "after": 2, "route": "poll"})
    task_id = new_task(http, runway_emulator)
    assert [poll(http, runway_emulator, task_id).status_code for _ in range(4)] == [200, 200, 503, 200]


def test_reset_before_create_creates_nothing(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.set_faults(reset={"count": 1, "route": "create"})
    with pytest.raises(requests.ConnectionError):
        create(http, runway_emulator)
    assert runway_emulator.stats()["creates"]["count"] == 0
    assert create(http, runway_emulator).status_code == 200


def test_reset_after_create_loses_the_answer_of_a_paid_task(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    runway_emulator.set_faults(reset={"count": 1, "route": "create", "when": "after"})
    with pytest.raises(requests.ConnectionError):
        create(http, runway_emulator)
    assert runway_emulator.stats()["creates"]["count"] == 1
    [entry] = runway_emulator.requests()
    assert (entry["status"], entry["faults"]) == ("reset", ["reset"])


def test_reset_is_a_real_tcp_rst(runway_emulator: EmulatorHandle) -> None:
    runway_emulator.set_faults(reset={"count": 1, "route": "organization"})
    host, port = runway_emulator.base_url.removeprefix("http://").split(":")
    request = (
        f"GET /v1/organization HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer k\r\n"
        "X-Runway-Version: 2024-11-06\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)


def test_slow_response_times_out_the_client(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = new_task(http, runway_emulator)
    runway_emulator.set_faults(slow={"count": 1, "delay": 3, "route": "poll"})
    with pytest.raises(requests.ReadTimeout):
        poll(http, runway_emulator, task_id, timeout=0.2)
    assert runway_emulator.stats()["faults"]["slow"]["remaining"] == 0  # budget used up
    assert poll(http, runway_emulator, task_id).status_code == 200
    runway_emulator.set_faults(slow={"count": 1, "delay": 0.3, "route": "poll"})
    started = time.monotonic()
    assert poll(http, runway_emulator, task_id).status_code == 200
    assert time.monotonic() - started >= 0.3  # a lower bound only: a busy machine is never early


def test_slow_after_create_still_creates(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.set_faults(slow={"count": 1, "delay": 3, "route": "create", "when": "after"})
    with pytest.raises(requests.ReadTimeout):
        create(http, runway_emulator, timeout=0.2)
    assert runway_emulator.stats()["creates"]["count"] == 1


def test_malformed_bodies(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = new_task(http, runway_emulator)

    runway_emulator.set_faults(malformed={"count": 1, "body": "html", "route": "poll"})
    html = poll(http, runway_emulator, task_id)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.JSONDecodeError):
        html.json()

    runway_emulator.set_faults(malformed={"count": 1, "body": "empty", "route": "poll"})
    empty = poll(http, runway_emulator, task_id)
    assert (empty.status_code, empty.content) == (200, b"")

    runway_emulator.set_faults(malformed={"count": 1, "body": "truncated", "route": "poll"})
    truncated = poll(http, runway_emulator, task_id)
    assert truncated.status_code == 200 and truncated.content.startswith(b'{"id":')
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.content)

    assert poll(http, runway_emulator, task_id).json()["id"] == task_id


def test_short_body_breaks_the_transfer(runway_emulator: EmulatorHandle, hx: httpx.Client) -> None:
    runway_emulator.set_faults(malformed={"count": 1, "body": "short", "route": "create"})
    with pytest.raises(httpx.RemoteProtocolError):
        hx.post(runway_emulator.url("/v1/image_to_video"), json=runway_body(), headers=headers())
    assert runway_emulator.stats()["creates"]["count"] == 1


def test_malformed_never_touches_error_answers(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.set_faults(malformed={"count": 1, "route": "poll"})
    assert poll(http, runway_emulator, "nope").status_code == 404
    assert runway_emulator.stats()["faults"]["malformed"]["remaining"] == 1


@pytest.mark.parametrize("shape", ["wrapped", "bare"])
def test_unknown_status(runway_emulator: EmulatorHandle, http: requests.Session, shape: str) -> None:
    runway_emulator.configure(not_visible_seconds=0, comet_poll_shape=shape)
    runway_emulator.set_faults(unknown_status={"count": 1, "value": "MYSTERY"})
    task_id = create(http, runway_emulator, COMET).json()["id"]
    url = runway_emulator.url(f"{COMET}/tasks/{task_id}")
    first = http.get(url, headers=headers()).json()
    second = http.get(url, headers=headers()).json()
    if shape == "wrapped":
        assert (first["data"]["status"], first["data"]["data"]["status"]) == ("MYSTERY", "MYSTERY")
        first, second = first["data"]["data"], second["data"]["data"]
    assert first["status"] == "MYSTERY"
    assert second["status"] in ("PENDING", "RUNNING")


def test_throttle_extra(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(pending_seconds=0, max_concurrency=10, generation_seconds=1000)
    runway_emulator.set_faults(throttle_extra={"seconds": 600})
    task_id = new_task(http, runway_emulator)
    assert poll(http, runway_emulator, task_id).json()["status"] == "THROTTLED"
    runway_emulator.advance(500)
    assert poll(http, runway_emulator, task_id).json()["status"] == "THROTTLED"
    runway_emulator.advance(200)
    assert poll(http, runway_emulator, task_id).json()["status"] == "RUNNING"
    assert runway_emulator.stats()["faults_fired"]["by_kind"] == {"throttle_extra": 1}


def test_external_cancel_after_seconds(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(generation_seconds=300)
    runway_emulator.set_faults(external_cancel={"after_seconds": 30, "count": 1})
    doomed, spared = new_task(http, runway_emulator), new_task(http, runway_emulator)
    runway_emulator.advance(31)
    assert poll(http, runway_emulator, doomed).json()["status"] == "CANCELLED"
    assert poll(http, runway_emulator, spared).json()["status"] != "CANCELLED"
    cancels = runway_emulator.stats()["cancels"]
    assert [(c["task_id"], c["source"]) for c in cancels["items"]] == [(doomed, "fault")]


def test_admin_is_never_faulted(runway_emulator: EmulatorHandle) -> None:
    runway_emulator.set_faults(server_error={"count": 5}, reset={"count": 5}, slow={"count": 5})
    assert runway_emulator.stats()["faults"]["server_error"]["remaining"] == 5
    runway_emulator.clear_faults()
    assert runway_emulator.faults() == {}


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"explode": {}}, "unknown fault kind"),
        ({"server_error": {"status": 404}}, "status"),
        ({"reset": {"route": "everywhere"}}, "route"),
        ({"malformed": {"body": "xml"}}, "body"),
        ({"slow": {"count": -1}}, "count"),
        ({"rate_limit": {"rate": 2}}, "rate"),
        ({"throttle_extra": {}}, "seconds is required"),
        ({"unknown_status": {"route": "create"}}, "poll"),
        ({"slow": {"delay": 1, "bogus": 1}}, "bogus"),
    ],
)
def test_fault_config_is_validated(runway_emulator: EmulatorHandle, faults: dict[str, Any], message: str) -> None:
    with pytest.raises(EmulatorAdminError, match=message) as caught:
        runway_emulator.set_faults(**faults)
    assert caught.value.status == 400
    assert runway_emulator.faults() == {}


@pytest.mark.runway_emulator(faults={"server_error": {"count": 1, "route": "organization"}})
def test_marker_sets_faults(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    url = runway_emulator.url("/v1/organization")
    assert [http.get(url, headers=headers()).status_code for _ in range(2)] == [503, 200]
