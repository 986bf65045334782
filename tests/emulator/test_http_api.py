"""Both flavors over real HTTP on 127.0.0.1, with requests and httpx (sync and async)."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from runway_emulator import EmulatorAdminError, EmulatorHandle
from runway_emulator.pytest_plugin import TEST_API_KEY

from tests.emulator.support import COMET, IMAGE, RUNWAY, comet_body, headers, runway_body

if TYPE_CHECKING:
    import requests

pytestmark = pytest.mark.integration


def create(http: requests.Session, emu: EmulatorHandle, prefix: str, body: dict[str, Any]) -> str:
    resp = http.post(emu.url(f"{prefix}/image_to_video"), json=body, headers=headers())
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"id", "estimatedCost"}
    return str(resp.json()["id"])


def poll(http: requests.Session, emu: EmulatorHandle, prefix: str, task_id: str) -> requests.Response:
    return http.get(emu.url(f"{prefix}/tasks/{task_id}"), headers=headers())


def test_cometapi_flow_with_not_visible_window_and_wrapped_envelope(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    runway_emulator.configure(not_visible_seconds=30, pending_seconds=1, generation_seconds=10)
    task_id = create(http, runway_emulator, COMET, comet_body())
    early = poll(http, runway_emulator, COMET, task_id)
    assert early.status_code == 400
    assert early.json() == {"code": "task_not_exist", "message": "task_not_exist"}
    runway_emulator.advance(30)  # visible now, and long finished (1 s pending + 10 s running)
    resp = poll(http, runway_emulator, COMET, task_id)
    assert resp.status_code == 200
    envelope: dict[str, Any] = resp.json()
    assert (envelope["code"], envelope["message"]) == ("success", "")
    data = envelope["data"]
    assert set(data) >= {"task_id", "action", "status", "fail_reason", "submit_time", "start_time", "finish_time"}
    assert (data["task_id"], data["action"], data["progress"]) == (task_id, "IMAGE_TO_VIDEO", "100%")
    inner = data["data"]
    assert inner["id"] == task_id and inner["status"] == "SUCCEEDED"
    assert data["result_url"] == inner["output"][0]
    assert inner["output"][0].startswith(f"{runway_emulator.base_url}/_emulator/outputs/{task_id}.mp4?exp=")

    stats = runway_emulator.stats()
    assert stats["creates"]["count"] == 1
    assert stats["creates"]["items"][0]["flavor"] == "cometapi"
    assert stats["polls"]["by_task"][task_id]["count"] >= 2
    assert stats["active_tasks"] == []


def test_cometapi_bare_shape_and_feed(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(comet_poll_shape="bare", not_visible_seconds=0)
    task_id = create(http, runway_emulator, COMET, comet_body())
    bare = poll(http, runway_emulator, COMET, task_id).json()
    assert bare["id"] == task_id and bare["status"] in ("PENDING", "RUNNING")
    feed = http.post(runway_emulator.url("/runway/feed"), json={"task_id": task_id}, headers=headers(version=None))
    assert feed.status_code == 200
    assert feed.json()["data"]["task_id"] == task_id  # the feed is always wrapped
    missing = http.post(runway_emulator.url("/runway/feed"), json={}, headers=headers())
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "task_id"


def test_runway_flow_progress_and_organization(runway_emulator: EmulatorHandle, hx: httpx.Client) -> None:
    runway_emulator.configure(pending_seconds=0, generation_seconds=10)
    resp = hx.post(runway_emulator.url("/v1/image_to_video"), json=runway_body(duration=5), headers=headers())
    task_id = resp.json()["id"]
    runway_emulator.advance(3)
    running = hx.get(runway_emulator.url(f"/v1/tasks/{task_id}"), headers=headers()).json()
    assert running["status"] == "RUNNING"
    assert 0.3 <= running["progress"] < 1.0
    assert running["estimatedCost"] == {"credits": 25.0}  # gen4_turbo: 5 s at 5 credits/s
    assert running["createdAt"].endswith("Z")
    org = hx.get(runway_emulator.url("/v1/organization"), headers=headers()).json()
    assert org["creditBalance"] == 10_000 - 25  # held while it runs
    assert org["tier"]["models"]["gen4_turbo"]["maxConcurrentGenerations"] == 2
    assert org["usage"]["models"]["gen4_turbo"]["dailyGenerations"] == 1


def test_async_httpx_client(runway_emulator: EmulatorHandle) -> None:
    async def main() -> list[int]:
        async with httpx.AsyncClient(base_url=runway_emulator.base_url, trust_env=False) as client:
            ids = []
            for _ in range(3):
                resp = await client.post("/v1/image_to_video", json=runway_body(), headers=headers())
                ids.append(resp.json()["id"])
            polls = await asyncio.gather(*(client.get(f"/v1/tasks/{i}", headers=headers()) for i in ids * 5))
            return [p.status_code for p in polls]

    assert asyncio.run(main()) == [200] * 15
    assert runway_emulator.stats()["polls"]["count"] == 15


def test_concurrency_limit_shows_throttled(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(max_concurrency=1, pending_seconds=1, generation_seconds=50)
    first = create(http, runway_emulator, RUNWAY, runway_body())
    second = create(http, runway_emulator, RUNWAY, runway_body())
    runway_emulator.advance(5)
    assert poll(http, runway_emulator, RUNWAY, first).json()["status"] == "RUNNING"
    assert poll(http, runway_emulator, RUNWAY, second).json()["status"] == "THROTTLED"


def test_safety_word_fails_the_task(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(pending_seconds=1, safety_words=["forbidden", "nope"])
    task_id = create(http, runway_emulator, RUNWAY, runway_body(promptText="a nope scene"))
    assert poll(http, runway_emulator, RUNWAY, task_id).json()["status"] == "PENDING"
    runway_emulator.advance(1)  # the prompt is read as PENDING ends
    failed = poll(http, runway_emulator, RUNWAY, task_id).json()
    assert failed["status"] == "FAILED" and failed["failureCode"] == "SAFETY.INPUT.TEXT"
    assert failed["failure"] and failed["cost"] == {"credits": 0}


def test_delete_cancels_then_404_on_runway(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(http, runway_emulator, RUNWAY, runway_body())
    resp = http.delete(runway_emulator.url(f"/v1/tasks/{task_id}"), headers=headers())
    assert resp.status_code == 204 and resp.content == b""
    assert poll(http, runway_emulator, RUNWAY, task_id).status_code == 404
    again = http.delete(runway_emulator.url(f"/v1/tasks/{task_id}"), headers=headers())
    assert (again.status_code, again.json()) == (404, {"error": "Task not found."})
    stats = runway_emulator.stats()
    assert stats["tasks"][task_id]["status"] == "CANCELLED"
    assert stats["cancels"]["items"][0]["source"] == "api"


@pytest.mark.parametrize("prefix", [RUNWAY, COMET])
def test_delete_of_a_finished_task_deletes_it_and_its_output(
    runway_emulator: EmulatorHandle, http: requests.Session, prefix: str
) -> None:
    runway_emulator.configure(not_visible_seconds=0, comet_poll_shape="bare")
    task_id = create(http, runway_emulator, prefix, runway_body() if prefix == RUNWAY else comet_body())
    runway_emulator.complete(task_id)
    output = poll(http, runway_emulator, prefix, task_id).json()["output"][0]
    assert http.delete(runway_emulator.url(f"{prefix}/tasks/{task_id}"), headers=headers()).status_code == 204
    gone = poll(http, runway_emulator, prefix, task_id)
    assert gone.status_code == (404 if prefix == RUNWAY else 400)  # CometAPI: task_not_exist
    assert http.get(output).status_code == 404
    stats = runway_emulator.stats()
    assert stats["deletes"]["count"] == 1 and stats["deletes"]["finished"] == 1
    assert stats["tasks"][task_id]["status"] == "SUCCEEDED" and stats["tasks"][task_id]["deleted"]


def test_delete_of_a_running_task_is_not_a_finished_delete(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    task_id = create(http, runway_emulator, RUNWAY, runway_body())
    assert http.delete(runway_emulator.url(f"/v1/tasks/{task_id}"), headers=headers()).status_code == 204
    deletes = runway_emulator.stats()["deletes"]
    assert (deletes["count"], deletes["finished"]) == (1, 0)
    assert deletes["items"][0]["status_before"] in ("PENDING", "RUNNING")


def test_cometapi_delete_supported_or_405(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    task_id = create(http, runway_emulator, COMET, comet_body())
    assert http.delete(runway_emulator.url(f"{COMET}/tasks/{task_id}"), headers=headers()).status_code == 204
    runway_emulator.configure(comet_delete_supported=False)
    other = create(http, runway_emulator, COMET, comet_body())
    refused = http.delete(runway_emulator.url(f"{COMET}/tasks/{other}"), headers=headers())
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET"


def test_external_cancel_via_admin(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(generation_seconds=30)
    task_id = create(http, runway_emulator, RUNWAY, runway_body())
    assert runway_emulator.cancel(task_id)["status"] == "CANCELLED"
    assert poll(http, runway_emulator, RUNWAY, task_id).json()["status"] == "CANCELLED"
    with pytest.raises(EmulatorAdminError) as caught:
        runway_emulator.cancel(task_id)
    assert caught.value.status == 409


@pytest.mark.parametrize(
    ("prefix", "key", "version"),
    [(COMET, "", "2024-11-06"), (RUNWAY, "", "2024-11-06"), (COMET, "Basic abc", "2024-11-06")],
)
def test_missing_or_malformed_auth_is_401(
    runway_emulator: EmulatorHandle, http: requests.Session, prefix: str, key: str, version: str
) -> None:
    hdrs = {"X-Runway-Version": version}
    if key:
        hdrs["Authorization"] = key
    resp = http.post(runway_emulator.url(f"{prefix}/image_to_video"), json=comet_body(), headers=hdrs)
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert "Authorization" in (error if isinstance(error, str) else error["message"])


def test_pinned_key(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(api_key="only-this-key")
    url = runway_emulator.url("/v1/organization")
    assert http.get(url, headers=headers("wrong")).status_code == 401
    assert http.get(url, headers=headers("only-this-key")).status_code == 200
    log = runway_emulator.requests()
    assert [r["auth_matches_pinned_key"] for r in log] == [False, True]
    assert log[1]["headers"]["Authorization"] == EmulatorHandle.fingerprint("only-this-key")
    assert "only-this-key" not in str(log) and "wrong" not in str(log)
    assert "only-this-key" not in str(runway_emulator.stats()) + str(runway_emulator.config())


@pytest.mark.parametrize(
    ("prefix", "send"),
    [
        (COMET, None),  # create needs it on CometAPI too
        (RUNWAY, None),
        (RUNWAY, "yesterday"),
    ],
)
def test_version_header_checked_on_create(
    runway_emulator: EmulatorHandle, http: requests.Session, prefix: str, send: str | None
) -> None:
    body = comet_body() if prefix == COMET else runway_body()
    resp = http.post(runway_emulator.url(f"{prefix}/image_to_video"), json=body, headers=headers(version=send))
    assert resp.status_code == 400
    assert "X-Runway-Version" in resp.text


def test_version_header_needed_on_every_runway_call_only(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    task_id = create(http, runway_emulator, COMET, comet_body())
    runway_id = create(http, runway_emulator, RUNWAY, runway_body())
    assert http.get(runway_emulator.url(f"{COMET}/tasks/{task_id}"), headers=headers(version=None)).ok
    resp = http.get(runway_emulator.url(f"/v1/tasks/{runway_id}"), headers=headers(version=None))
    assert resp.status_code == 400 and "X-Runway-Version" in resp.json()["error"]


@pytest.mark.parametrize(
    ("prefix", "body", "field"),
    [
        (RUNWAY, runway_body(ratio="1280:768"), "ratio"),
        (RUNWAY, {"model": "gen4_turbo"}, "promptImage"),
        (COMET, comet_body(seed=1_000_000_000), "seed"),
        (COMET, comet_body(duration=7), "duration"),
        (COMET, comet_body(promptImage="http://example.com/a.jpg"), "promptImage"),
        (COMET, comet_body(promptText="x" * 513), "promptText"),
    ],
)
def test_invalid_body_is_400_naming_the_field(
    runway_emulator: EmulatorHandle, http: requests.Session, prefix: str, body: dict[str, Any], field: str
) -> None:
    resp = http.post(runway_emulator.url(f"{prefix}/image_to_video"), json=body, headers=headers())
    assert resp.status_code == 400
    error = resp.json()["error"]
    if prefix == RUNWAY:
        assert field in error
    else:
        assert field in error["message"]
        assert error["param"] == field
        assert set(error) == {"message", "type", "param", "code"}
    assert runway_emulator.stats()["creates"] == {"count": 0, "attempts": 1, "items": []}


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"'])
def test_non_object_body_is_400(runway_emulator: EmulatorHandle, http: requests.Session, raw: bytes) -> None:
    resp = http.post(runway_emulator.url("/v1/image_to_video"), data=raw, headers=headers())
    assert resp.status_code == 400
    assert "JSON" in resp.json()["error"]


@pytest.mark.parametrize("prefix", [RUNWAY, COMET])
def test_an_unknown_model_is_400_naming_model(
    runway_emulator: EmulatorHandle, http: requests.Session, prefix: str
) -> None:
    body = {"promptImage": IMAGE, "model": "gen9_future", "ratio": "7:3"}
    resp = http.post(runway_emulator.url(f"{prefix}/image_to_video"), json=body, headers=headers())
    assert resp.status_code == 400
    error = resp.json()["error"]
    message = error if prefix == RUNWAY else error["message"]
    assert message.startswith("model must be one of") and "'gen9_future'" in message
    assert runway_emulator.stats()["creates"]["count"] == 0


def test_data_uri_prompt_image_is_accepted(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    task_id = create(http, runway_emulator, RUNWAY, runway_body(promptImage=uri))
    assert runway_emulator.requests()[-1]["body"]["promptImage"] == uri
    assert task_id in runway_emulator.stats()["tasks"]


def test_unknown_ids_per_flavor(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(not_visible_seconds=0)
    comet_id = create(http, runway_emulator, COMET, comet_body())
    resp = poll(http, runway_emulator, RUNWAY, comet_id)  # Runway has never heard of a CometAPI task
    assert (resp.status_code, resp.json()) == (404, {"error": "Task not found."})
    resp = poll(http, runway_emulator, COMET, "00000000-0000-0000-0000-000000000000")
    assert (resp.status_code, resp.json()["code"]) == (400, "task_not_exist")
    assert runway_emulator.stats()["polls"]["unknown_ids"] == 2


def test_unknown_path_and_wrong_method(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    assert http.get(runway_emulator.url("/v1/nope"), headers=headers()).status_code == 404
    html = http.get(runway_emulator.url("/runwayml/v1/nope"), headers=headers())
    assert html.status_code == 404 and html.headers["Content-Type"].startswith("text/html")
    wrong = http.get(runway_emulator.url("/v1/image_to_video"), headers=headers())
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert http.put(runway_emulator.url("/v1/tasks/abc"), headers=headers()).status_code == 405


def test_request_log_has_exact_headers_and_body(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    body = comet_body(seed=7, promptText="slow zoom")
    hdrs = {**headers(), "X-Custom": "yes"}
    http.post(runway_emulator.url(f"{COMET}/image_to_video"), json=body, headers=hdrs)
    [entry] = runway_emulator.requests()
    assert entry["method"] == "POST" and entry["path"] == f"{COMET}/image_to_video"
    assert entry["body"] == body
    assert entry["status"] == 200
    assert entry["headers"]["X-Custom"] == "yes"
    assert entry["headers"]["X-Runway-Version"] == "2024-11-06"
    assert entry["headers"]["Authorization"] == EmulatorHandle.fingerprint(TEST_API_KEY)
    assert entry["auth_matches_pinned_key"] is None  # no key pinned
    assert isinstance(entry["connection"], int)


def test_keep_alive_reuses_one_connection(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id = create(http, runway_emulator, RUNWAY, runway_body())
    for _ in range(5):
        assert poll(http, runway_emulator, RUNWAY, task_id).ok
    assert len({r["connection"] for r in runway_emulator.requests()}) == 1


def test_config_endpoint_validates(runway_emulator: EmulatorHandle) -> None:
    assert runway_emulator.configure(generation_seconds=2.5)["generation_seconds"] == 2.5
    with pytest.raises(EmulatorAdminError, match="comet_poll_shape"):
        runway_emulator.configure(comet_poll_shape="flat")
    with pytest.raises(EmulatorAdminError, match="startup"):
        runway_emulator.configure(port=1)
    runway_emulator.reset()
    assert runway_emulator.config()["generation_seconds"] == 1.0  # reset restores the startup config


@pytest.mark.runway_emulator(generation_seconds=0.25, comet_poll_shape="bare")
def test_marker_configures_the_emulator(runway_emulator: EmulatorHandle) -> None:
    config = runway_emulator.config()
    assert (config["generation_seconds"], config["comet_poll_shape"]) == (0.25, "bare")
