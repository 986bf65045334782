"""RunwayHook against the local emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_runway import __version__
from airflow_provider_runway.errors import (
    CreateOutcomeUnknownError,
    InvalidRequestError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.hooks.runway import _ASYNC_CLIENTS, RunwayHook
from airflow_provider_runway.retry import RetryPolicy
from tests.conftest import TEST_API_KEY

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
FAST = RetryPolicy(max_retries=3, initial_delay=0.05, max_delay=0.2, jitter=0.1)

pytestmark = pytest.mark.integration


def conn_json(base_url: str, *, key: str = TEST_API_KEY, **extra: Any) -> str:
    return json.dumps({"conn_type": "runway", "host": base_url, "password": key, "extra": extra})


@pytest.fixture
def hook_for(runway_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(flavor: str = "cometapi", key: str = TEST_API_KEY, **extra: Any) -> RunwayHook:
        monkeypatch.setenv(
            "AIRFLOW_CONN_RUNWAY_TEST", conn_json(runway_emulator.base_url, key=key, flavor=flavor, **extra)
        )
        return RunwayHook("runway_test", retry_policy=FAST)

    return make


def create_requests(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == "POST" and r["path"].endswith("/image_to_video")]


@pytest.mark.parametrize("flavor, prefix", [("cometapi", "/runwayml/v1"), ("runway", "/v1")])
def test_create_sends_the_documented_headers_and_camelcase_body(
    runway_emulator: Any, hook_for: Any, flavor: str, prefix: str
) -> None:
    runway_emulator.configure(api_key=TEST_API_KEY)
    task_id = hook_for(flavor).submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo", "seed": 7})

    [sent] = create_requests(runway_emulator)
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert sent["path"] == f"{prefix}/image_to_video"
    assert sent["auth_matches_pinned_key"] is True
    assert headers["x-runway-version"] == "2024-11-06"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"airflow-provider-runway/{__version__}"
    assert sent["body"] == {"promptImage": CAT, "model": "gen3a_turbo", "seed": 7}
    assert runway_emulator.stats()["creates"]["count"] == 1
    assert len(task_id) == 36


@pytest.mark.parametrize("shape", ["wrapped", "bare"])
def test_get_task_normalises_both_cometapi_shapes(runway_emulator: Any, hook_for: Any, shape: str) -> None:
    runway_emulator.configure(comet_poll_shape=shape, not_visible_seconds=0, generation_seconds=0.3, pending_seconds=0)
    hook = hook_for()
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    deadline = time.time() + 10
    task = hook.get_task(task_id)
    while not task.is_terminal and time.time() < deadline:
        time.sleep(0.1)
        task = hook.get_task(task_id)
    assert task.id == task_id
    assert task.status == "SUCCEEDED"
    assert task.output and task.output[0].startswith(runway_emulator.base_url)


def test_task_not_exist_right_after_create_is_reported_as_not_visible(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.configure(not_visible_seconds=30)
    hook = hook_for()
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    with pytest.raises(RunwayTaskNotVisibleError):
        hook.get_task(task_id)


def test_unknown_task_on_runway_flavor_is_not_found(hook_for: Any) -> None:
    with pytest.raises(RunwayTaskNotFoundError):
        hook_for("runway").get_task("00000000-0000-0000-0000-000000000000")


def test_poll_retries_a_5xx_burst_then_succeeds(runway_emulator: Any, hook_for: Any) -> None:
    hook = hook_for("runway")
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen4_turbo"})
    runway_emulator.set_faults(server_error={"count": 2, "status": 503, "route": "poll"})
    assert hook.get_task(task_id).id == task_id
    polls = [r for r in runway_emulator.requests() if r["method"] == "GET" and task_id in r["path"]]
    assert len(polls) == 3


def test_create_honours_retry_after_and_creates_once(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.set_faults(rate_limit={"count": 1, "route": "create", "retry_after": 1})
    started = time.monotonic()
    hook_for().submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    assert time.monotonic() - started >= 1.0
    assert len(create_requests(runway_emulator)) == 2
    assert runway_emulator.stats()["creates"]["count"] == 1


def test_create_is_not_retried_after_a_read_timeout(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.set_faults(slow={"count": 1, "delay": 2.0, "route": "create", "when": "after"})
    with pytest.raises(CreateOutcomeUnknownError, match="may exist"):
        hook_for(timeout=0.5).submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    time.sleep(1.8)  # let the slow answer finish server-side
    assert len(create_requests(runway_emulator)) == 1
    assert runway_emulator.stats()["creates"]["count"] == 1


def test_create_is_not_retried_after_a_connection_reset(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.set_faults(reset={"count": 1, "route": "create"})
    with pytest.raises(CreateOutcomeUnknownError):
        hook_for().submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})
    assert len(create_requests(runway_emulator)) == 1


def test_refused_connection_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_TEST", conn_json(f"http://127.0.0.1:{port}"))
    with pytest.raises(RunwayTransportError, match="refused"):
        RunwayHook("runway_test", retry_policy=FAST).submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo"})


def test_invalid_body_is_refused_before_any_request(runway_emulator: Any, hook_for: Any) -> None:
    with pytest.raises(InvalidRequestError, match="seed"):
        hook_for().submit_image_to_video({"promptImage": CAT, "model": "gen3a_turbo", "seed": -1})
    assert runway_emulator.requests() == []


def test_errors_carry_the_api_message_but_never_the_key(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.configure(api_key="the-only-accepted-key")
    wrong_key = "wrong-key-0123456789abcdef"
    with pytest.raises(RunwayAuthError) as caught:
        hook_for(key=wrong_key).get_task("00000000-0000-0000-0000-000000000000")
    assert caught.value.status_code == 401
    for text in (str(caught.value), repr(caught.value), repr(hook_for(key=wrong_key).settings)):
        assert wrong_key not in text


def test_emulator_error_message_names_the_field(runway_emulator: Any, hook_for: Any) -> None:
    hook = hook_for("runway")
    body = {"promptImage": CAT, "model": "gen3a_turbo", "ratio": "1:1"}
    with pytest.raises(RunwayAPIError) as caught:
        hook._request("POST", "image_to_video", body)  # bypass local validation to see the API's answer
    assert caught.value.status_code == 400
    assert "ratio" in caught.value.api_message


def test_cancel_task(runway_emulator: Any, hook_for: Any) -> None:
    hook = hook_for("runway")
    runway_emulator.configure(generation_seconds=60)
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen4_turbo"})
    assert hook.cancel_task(task_id) is True
    assert runway_emulator.stats()["tasks"][task_id]["status"] == "CANCELLED"
    assert hook.cancel_task("00000000-0000-0000-0000-000000000000") is False


def test_download_output_writes_the_video_without_sending_the_key(
    runway_emulator: Any, hook_for: Any, tmp_path: Any
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    runway_emulator.configure(generation_seconds=0.2, pending_seconds=0, not_visible_seconds=0)
    hook = hook_for("runway")
    task_id = hook.submit_image_to_video({"promptImage": CAT, "model": "gen4_turbo"})
    time.sleep(0.5)
    url = hook.get_task(task_id).output[0]
    size = hook.download_output(url, str(tmp_path / "v.mp4"))
    data = (tmp_path / "v.mp4").read_bytes()
    assert size == len(data) > 1000
    assert data[4:8] == b"ftyp"
    [download] = [r for r in runway_emulator.requests() if r["path"].endswith(".mp4")]
    assert "authorization" not in {k.lower() for k in download["headers"]}


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_test_connection_succeeds(hook_for: Any, flavor: str) -> None:
    ok, message = hook_for(flavor).test_connection()
    assert ok, message


def test_test_connection_names_a_bad_key(runway_emulator: Any, hook_for: Any) -> None:
    runway_emulator.configure(api_key="the-only-accepted-key")
    ok, message = hook_for(key="nope-nope").test_connection()
    assert not ok
    assert "key was rejected" in message
    assert "nope-nope" not in message


@pytest.fixture
def html_server() -> Iterator[str]:
    class NotAnAPI(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Welcome to nginx</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotAnAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_test_connection_names_a_wrong_host_or_flavor(
    html_server: str, monkeypatch: pytest.MonkeyPatch, flavor: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_TEST", conn_json(html_server, flavor=flavor))
    ok, message = RunwayHook("runway_test", retry_policy=FAST).test_connection()
    assert not ok
    assert "wrong host or flavor" in message


def test_test_connection_names_an_unreachable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_TEST", conn_json(f"http://127.0.0.1:{port}"))
    ok, message = RunwayHook("runway_test", retry_policy=FAST).test_connection()
    assert not ok
    assert "refused" in message


def test_async_polls_share_one_client_per_event_loop(runway_emulator: Any, hook_for: Any) -> None:
    hook = hook_for("runway")
    ids = [hook.submit_image_to_video({"promptImage": CAT, "model": "gen4_turbo"}) for _ in range(3)]

    async def poll_all() -> tuple[list[str], int]:
        hooks = [hook_for("runway") for _ in ids]
        for _ in range(3):
            tasks = await asyncio.gather(*(h.aget_task(i) for h, i in zip(hooks, ids, strict=True)))
        loop = asyncio.get_running_loop()
        return [t.id for t in tasks], id(_ASYNC_CLIENTS[loop])

    seen, client_id = asyncio.run(poll_all())
    assert seen == ids
    # 9 polls from 3 hooks went through one pooled client: few TCP connections were opened.
    connections = {r.get("connection") for r in runway_emulator.requests() if r["method"] == "GET"}
    assert client_id
    assert len(connections) <= 3
