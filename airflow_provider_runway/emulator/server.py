"""A small HTTP/1.1 server on asyncio Protocols, with socket-level control for fault injection.

Why not http.server or a framework: faults need to misbehave below HTTP (true connection
resets via SO_LINGER 0, bodies cut short), and the emulator must answer thousands of polls
per second on one core, which a lean Protocol with keep-alive does easily.

Supported: keep-alive (HTTP/1.1 default, HTTP/1.0 on request), Content-Length request bodies,
``Expect: 100-continue``, pipelined requests (answered in order), HEAD. Chunked request bodies
get 411: every client we serve sends Content-Length for JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import itertools
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

log = logging.getLogger("airflow_provider_runway.emulator")

MAX_HEAD_BYTES = 64 * 1024
# A 5 MiB data URI plus the rest of a JSON body fits comfortably.
MAX_BODY_BYTES = 16 * 1024 * 1024

SEND = "send"
RESET = "reset"  # abort the connection with a TCP RST, no response
SHORT = "short"  # promise the full Content-Length, send half the body, close

_CONNECTION_IDS = itertools.count(1)
_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
_NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(slots=True)
class Request:
    """One parsed request; ``headers`` has lower-case names, ``raw_headers`` keeps the client's spelling."""

    method: str
    path: str
    query: str
    version: str
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes
    peer: str = ""
    connection: int = 0
    cache: dict[str, Any] = field(default_factory=dict)

    def json(self) -> tuple[Any, str | None]:
        """(parsed body, problem): parsed once, shared by the endpoint and the request log."""
        cached = self.cache.get("json")
        if cached is not None:
            return cached
        result: tuple[Any, str | None]
        if not self.body:
            result = (None, "Request body is empty: send a JSON object.")
        else:
            try:
                result = (json.loads(self.body), None)
            except (ValueError, UnicodeDecodeError):
                result = (None, "Request body is not valid JSON.")
        self.cache["json"] = result
        return result

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return conn == "keep-alive"
        return conn != "close"


class Response:
    """What to send back; ``action`` lets a fault replace the answer with a reset or a short body."""

    __slots__ = ("action", "body", "close", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/json",
        headers: list[tuple[str, str]] | None = None,
        action: str = SEND,
        close: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []
        self.action = action
        self.close = close


HandlerResult = Response | Awaitable[Response]
Handler = Callable[[Request], HandlerResult]


def _head_bytes(resp: Response, keep_alive: bool, body_len: int) -> bytes:
    status = resp.status
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", "Server: runway-emulator"]
    if status not in _NO_BODY_STATUSES:
        if resp.content_type:
            lines.append(f"Content-Type: {resp.content_type}")
        lines.append(f"Content-Length: {body_len}")
    lines.extend(f"{k}: {v}" for k, v in resp.headers)
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def rst_close(transport: asyncio.Transport) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed peer or a load balancer would."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class HttpProtocol(asyncio.Protocol):
    """One connection: parse requests, call the handler, write answers in order."""

    def __init__(self, handler: Handler, connections: set[HttpProtocol]) -> None:
        self._handler = handler
        self._connections = connections
        self._buf = bytearray()
        self._head: tuple[str, str, str, dict[str, str], list[tuple[str, str]], int] | None = None
        self._busy = False
        self._closed = False
        self._pending: asyncio.Task[None] | None = None
        self._peer = ""
        self._id = next(_CONNECTION_IDS)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._connections.discard(self)
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._busy:
            self._process()

    def close(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.close()

    # -- parsing -----------------------------------------------------------------------------

    def _error(self, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self._write(Response(status, body, close=True), "GET", keep_alive=False)

    def _parse(self) -> Request | None:
        buf = self._buf
        if self._head is None:
            while buf[:2] == b"\r\n":  # tolerate stray CRLF between requests (RFC 9112 2.2)
                del buf[:2]
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD_BYTES:
                    self._error(431, "Request header fields too large")
                return None
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self._error(400, "Malformed request line")
                return None
            headers: dict[str, str] = {}
            raw: list[tuple[str, str]] = []
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep or not name or name != name.strip():
                    self._error(400, "Malformed header line")
                    return None
                value = value.strip()
                raw.append((name, value))
                headers[name.lower()] = value
            if "transfer-encoding" in headers:
                self._error(411, "Length Required: send a Content-Length body")
                return None
            length_text = headers.get("content-length", "0")
            if not length_text.isdigit():
                self._error(400, "Invalid Content-Length")
                return None
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                self._error(413, "Request body too large")
                return None
            if length > len(buf) and headers.get("expect", "").lower() == "100-continue":
                assert self.transport is not None
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._head = (parts[0], parts[1], parts[2], headers, raw, length)
        method, target, version, headers, raw, length = self._head
        if len(buf) < length:
            return None
        body = bytes(buf[:length])
        del buf[:length]
        self._head = None
        path, _, query = target.partition("?")
        if "%" in path:
            path = unquote(path)
        return Request(method, path, query, version, headers, raw, body, self._peer, self._id)

    # -- dispatch ----------------------------------------------------------------------------

    def _process(self) -> None:
        while not self._closed:
            req = self._parse()
            if req is None or self._closed:
                return
            try:
                result = self._handler(req)
            except Exception:
                log.exception("emulator handler failed for %s %s", req.method, req.path)
                result = Response(500, b'{"error":"Internal emulator error"}')
            if isinstance(result, Response):
                if not self._write(result, req.method, req.keep_alive):
                    return
                continue
            self._busy = True
            self._pending = asyncio.get_running_loop().create_task(self._finish(req, result))
            return

    async def _finish(self, req: Request, pending: Awaitable[Response]) -> None:
        try:
            resp = await pending
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("emulator handler failed for %s %s", req.method, req.path)
            resp = Response(500, b'{"error":"Internal emulator error"}')
        self._busy = False
        if not self._closed and self._write(resp, req.method, req.keep_alive):
            self._process()

    def _write(self, resp: Response, method: str, keep_alive: bool) -> bool:
        """Send ``resp``; return whether the connection stays open for the next request."""
        transport = self.transport
        if transport is None or self._closed:
            return False
        if resp.action == RESET:
            self._closed = True
            rst_close(transport)
            return False
        keep = keep_alive and not resp.close and resp.action == SEND
        body = b"" if method == "HEAD" or resp.status in _NO_BODY_STATUSES else resp.body
        head = _head_bytes(resp, keep, len(resp.body) if method == "HEAD" else len(body))
        if resp.action == SHORT:
            transport.write(head + body[: len(body) // 2])
        else:
            transport.write(head + body)
        if not keep:
            self._closed = True
            transport.close()
        return keep


class HttpServer:
    """Binds the socket and tracks connections so that shutdown closes them all."""

    def __init__(self, handler: Handler, host: str, port: int) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[HttpProtocol] = set()

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpProtocol(self._handler, self._connections),
            self._host,
            self._port,
            reuse_address=True,
            backlog=1024,
        )
        sockname = self._server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for conn in list(self._connections):
            conn.close()
        await self._server.wait_closed()
        self._server = None
