"""Faults below HTTP, done on the request's own TCP connection.

A load balancer that drops a connection sends a TCP RST, not an HTTP answer; a backend that
dies mid-answer leaves a body shorter than its ``Content-Length``. Clients handle those on
different code paths than any status code, so the emulator produces them for real:

- ``reset``: SO_LINGER 0, then abort -> the kernel sends RST; the client sees
  ``ConnectionResetError`` with no answer at all.
- ``short``: the head announces the full ``Content-Length``, half the body follows, then
  the connection closes -> the client sees an incomplete body (a protocol error).

aiohttp then finds the connection gone when it tries to finish the answer and drops it
quietly (``ConnectionError`` is expected there).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from aiohttp import web

DELIVER = "deliver"
RESET = "reset"
SHORT = "short"


def reset_connection(request: web.BaseRequest) -> web.Response:
    """Close the request's connection with a TCP RST; the returned answer is never sent."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)


async def send_short(request: web.BaseRequest, answer: web.Response) -> web.StreamResponse:
    """Send ``answer``'s head with its full length but only half its body, then close."""
    body = answer.body if isinstance(answer.body, bytes) else b""
    stream = web.StreamResponse(status=answer.status, headers=answer.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    await asyncio.sleep(0)  # let the half body reach the socket before the close
    if request.transport is not None:
        request.transport.close()
    return stream


async def deliver(request: web.BaseRequest, answer: web.Response, action: str) -> web.StreamResponse:
    """``answer`` as it is, or the transport-level fault ``action`` in its place."""
    if action == RESET:
        return reset_connection(request)
    if action == SHORT:
        return await send_short(request, answer)
    return answer
