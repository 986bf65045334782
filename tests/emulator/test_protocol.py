"""HTTP/1.1 as clients meet it (keep-alive, pipelining, 100-continue, HTTP/1.0, bad input), over raw sockets."""

from __future__ import annotations

import contextlib
import json
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.emulator.support import wait_for

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

pytestmark = pytest.mark.integration
AUTH = "Authorization: Bearer k\r\nX-Runway-Version: 2024-11-06\r\n"


def connect(emu: EmulatorHandle) -> socket.socket:
    parts = urlsplit(emu.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port
    return socket.create_connection((parts.hostname, parts.port), timeout=5)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_responses(sock: socket.socket, count: int) -> list[tuple[str, bytes]]:
    """Read ``count`` Content-Length framed responses: [(status line, body)]."""
    buf = b""
    out: list[tuple[str, bytes]] = []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        length = next((int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k == "Content-Length"), 0)
        while len(buf) < length:
            buf += sock.recv(65536)
        out.append((lines[0], buf[:length]))
        buf = buf[length:]
    return out


def test_pipelined_requests_are_answered_in_order(runway_emulator: EmulatorHandle) -> None:
    with connect(runway_emulator) as sock:
        sock.sendall((f"GET /v1/organization HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n" * 2).encode())
        sock.sendall(b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n" + AUTH.encode() + b"\r\n")
        answers = read_responses(sock, 3)
    assert [a[0] for a in answers] == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"]
    assert len({r["connection"] for r in runway_emulator.requests()}) == 1


def test_expect_100_continue(runway_emulator: EmulatorHandle) -> None:
    body = json.dumps({"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "960:960"})
    head = (
        f"POST /v1/image_to_video HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with connect(runway_emulator) as sock:
        sock.sendall(head.encode())
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body.encode())
        [(status, payload)] = read_responses(sock, 1)
    assert status == "HTTP/1.1 200 OK" and "id" in json.loads(payload)


def test_http_1_0_closes_after_the_answer(runway_emulator: EmulatorHandle) -> None:
    with connect(runway_emulator) as sock:
        sock.sendall(f"GET /v1/organization HTTP/1.0\r\n{AUTH}\r\n".encode())
        raw = read_all(sock)  # returns only because the server closed
    assert raw.startswith(b"HTTP/1.0 200 OK") and raw.endswith(b"}")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NONSENSE\r\n\r\n",
        b"GET /v1/organization HTTP/1.1\r\nbad header line\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
    ],
)
def test_unparsable_requests_get_400_and_a_close(runway_emulator: EmulatorHandle, request_bytes: bytes) -> None:
    with connect(runway_emulator) as sock:
        sock.sendall(request_bytes)
        raw = read_all(sock)
    assert raw.split(b" ")[1] == b"400"
    assert runway_emulator.requests() == []  # never reached the API


def test_chunked_request_body_is_read(runway_emulator: EmulatorHandle) -> None:
    body = json.dumps({"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "960:960"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:20], body[20:])) + b"0\r\n\r\n"
    head = f"POST /v1/image_to_video HTTP/1.1\r\nHost: x\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n"
    with connect(runway_emulator) as sock:
        sock.sendall(head.encode() + chunks)
        [(status, payload)] = read_responses(sock, 1)
    assert status == "HTTP/1.1 200 OK" and "id" in json.loads(payload)


def test_body_over_the_limit_is_413(runway_emulator: EmulatorHandle) -> None:
    body = b'{"promptImage": "' + b"a" * (17 * 1024 * 1024) + b'"}'
    head = f"POST /v1/image_to_video HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {len(body)}\r\n\r\n"
    with connect(runway_emulator) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(ConnectionError):  # the server may answer and close before reading it all
            sock.sendall(body)
        [(status, _payload)] = read_responses(sock, 1)
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert runway_emulator.stats()["creates"]["attempts"] == 0


def test_204_has_no_body_headers(runway_emulator: EmulatorHandle) -> None:
    body = json.dumps({"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "960:960"})
    with connect(runway_emulator) as sock:
        sock.sendall(
            (f"POST /v1/image_to_video HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {len(body)}\r\n\r\n{body}").encode()
        )
        [(_status, payload)] = read_responses(sock, 1)
        task_id = json.loads(payload)["id"]
        sock.sendall(f"DELETE /v1/tasks/{task_id} HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n".encode())
        raw = read_all(sock)
    assert raw.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"Content-Length" not in raw and raw.endswith(b"\r\n\r\n")


def test_a_request_delayed_across_a_reset_does_not_touch_the_new_state(runway_emulator: EmulatorHandle) -> None:
    runway_emulator.set_faults(slow={"count": 1, "delay": 1.5, "route": "create"})
    body = json.dumps({"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "960:960"})
    with connect(runway_emulator) as sock:
        sock.sendall(
            (f"POST /v1/image_to_video HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {len(body)}\r\n\r\n{body}").encode()
        )
        wait_for(lambda: runway_emulator.requests())  # the server is now sleeping on it
        runway_emulator.reset()  # what the next test's fixture does
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert runway_emulator.stats()["creates"]["count"] == 0
