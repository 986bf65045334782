"""The connection form's Test button, as a user meets it: one clear sentence, fast, no temporary id.

Airflow's UI tests a copy of the connection under a random id (``get_random_string()`` in
``api_fastapi/core_api/routes/public/connections.py`` ``test_connection``), so messages never
name a connection id. Only 127.0.0.1 is contacted: a name that does not resolve is simulated
below the HTTP stacks, in ``socket.getaddrinfo``.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.runway.errors import RunwayTransportError, TransportFailure
from airflow_provider_runway.runway.retry_policy import RetryPolicy

pytestmark = pytest.mark.integration

RANDOM_ID = "xq7vz2kd9p"  # what a UI Test would be named
UNRESOLVABLE = "api.runway-test.invalid"


def hook_on(monkeypatch: pytest.MonkeyPatch, host: str, key: str = "a-test-key", **extra: Any) -> RunwayHook:
    conn = {"conn_type": "runway", "host": host, "password": key, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{RANDOM_ID.upper()}", json.dumps(conn))
    return RunwayHook(RANDOM_ID)


def outcome(hook: RunwayHook) -> tuple[bool, str]:
    ok, message = hook.test_connection()
    assert RANDOM_ID not in message
    return ok, message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unresolvable(monkeypatch: pytest.MonkeyPatch) -> str:
    """``*.invalid`` fails name resolution here, before any DNS query leaves the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return UNRESOLVABLE


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: connects hang like an unreachable host's."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        yield port
        for filler in fillers:
            filler.close()


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


@pytest.mark.parametrize(
    ("flavor", "says"), [("cometapi", "Connected to CometAPI at"), ("runway", "Connected to Runway")]
)
def test_success(runway_emulator: Any, monkeypatch: pytest.MonkeyPatch, flavor: str, says: str) -> None:
    ok, message = outcome(hook_on(monkeypatch, runway_emulator.base_url, flavor=flavor))
    assert ok, message
    assert message.startswith(f"{says}")


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_a_bad_key_is_named_once(runway_emulator: Any, monkeypatch: pytest.MonkeyPatch, flavor: str) -> None:
    runway_emulator.configure(api_key="the-only-accepted-key")
    ok, message = outcome(hook_on(monkeypatch, runway_emulator.base_url, key="nope-nope-nope", flavor=flavor))
    assert (ok, message) == (False, "The API key was rejected (401): Invalid API key.")


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_a_malformed_runway_version_fails_on_every_flavor(
    runway_emulator: Any, monkeypatch: pytest.MonkeyPatch, flavor: str
) -> None:
    ok, message = outcome(hook_on(monkeypatch, runway_emulator.base_url, flavor=flavor, runway_version="latest"))
    assert not ok
    assert message == (
        "The connection is not usable: extra 'runway_version' must be an API version date such as "
        "2024-11-06 (YYYY-MM-DD), got 'latest'"
    )
    assert runway_emulator.requests() == []


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_a_wrong_host_or_flavor(html_server: str, monkeypatch: pytest.MonkeyPatch, flavor: str) -> None:
    ok, message = outcome(hook_on(monkeypatch, html_server, flavor=flavor))
    assert not ok
    assert message.startswith(f"Wrong host or flavor? {html_server} answered 404 to GET ")


def test_a_refused_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    ok, message = outcome(hook_on(monkeypatch, url))
    assert (ok, message) == (False, f"Cannot reach {url}: connection refused by 127.0.0.1")


def test_a_host_that_does_not_resolve(unresolvable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = outcome(hook_on(monkeypatch, f"https://{unresolvable}"))
    assert (ok, message) == (False, f"Cannot reach https://{unresolvable}: cannot resolve host {unresolvable}")


def test_an_unreachable_host_answers_within_seconds(silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{silent_port}"
    started = time.monotonic()
    ok, message = outcome(hook_on(monkeypatch, url))
    elapsed = time.monotonic() - started
    assert (ok, message) == (False, f"Cannot reach {url}: no connection to 127.0.0.1 within 3 s")
    # One attempt with a 3 s connect timeout; the default (10 s, retried) would take a minute.
    assert elapsed < 9


def test_airflows_own_test_path_names_no_temporary_id(runway_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the UI's Test endpoint does: a Connection under a random id, exported, then tested."""
    from airflow.models.connection import Connection

    runway_emulator.configure(api_key="the-only-accepted-key")
    conn = Connection(conn_id=RANDOM_ID, conn_type="runway", host=runway_emulator.base_url, password="wrong-key")
    monkeypatch.setenv(f"AIRFLOW_CONN_{RANDOM_ID.upper()}", conn.get_uri())
    assert conn.test_connection() == (False, "The API key was rejected (401): Invalid API key.")


def test_polls_name_a_host_that_does_not_resolve_too(unresolvable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hook_on(monkeypatch, f"https://{unresolvable}")
    hook = RunwayHook(RANDOM_ID, retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(RunwayTransportError) as caught:
        hook.get_task("00000000-0000-0000-0000-000000000000")
    assert caught.value.failure is TransportFailure.DNS
    assert caught.value.sent is False
