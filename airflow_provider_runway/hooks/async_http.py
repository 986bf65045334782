"""The trigger's HTTP path: one aiohttp session per event loop, shared by every Runway trigger on it.

A triggerer runs up to ``[triggerer] capacity`` triggers (1,000 by default) on one loop, so
this path is built for many small concurrent polls (aiohttp is also what Airflow's own HTTP
provider uses for async calls, ``HttpAsyncHook``):

- one ``ClientSession`` per loop, so polls reuse keep-alive connections (no handshake per poll);
- a semaphore bounds the requests in flight on the loop: a burst of polls waits in a cheap
  queue *before* its timeout starts, instead of timing out inside the connection pool;
- the session is closed when the loop ends: a guard task waits forever and closes it when it
  is cancelled, which ``asyncio.run`` (the triggerer's runner) does to every task at shutdown.
  ``close_loop_client()`` closes it explicitly.

Same rules as the blocking path: the key only in API calls, no redirects followed, the same
answer mapping (``protocol.read_response``) and the same transport failure wording.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import socket
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import requests

from airflow_provider_runway.runway.errors import RunwayTransportError, TransportFailure
from airflow_provider_runway.runway.protocol import read_response

if TYPE_CHECKING:
    from airflow_provider_runway.hooks.connection import ClientSettings

# Requests in flight per loop. Loopback answers in ~1 ms; a remote API in ~100-300 ms, so 128
# keeps ~400-1,000 polls/s flowing, the rate of 4,000-10,000 triggers polling every 10 s.
MAX_IN_FLIGHT = 128


@dataclass
class PoolStats:
    """What the loop's shared client has done (for tests and benchmarks)."""

    limit: int
    in_flight: int
    peak_in_flight: int
    completed: int


class LoopClient:
    """The session every Runway hook on one event loop shares, and the bound on its requests."""

    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        # trust_env would look up ~/.netrc and proxies in a thread on every request; the proxy
        # is resolved once per origin instead (``_proxy_for``), as requests does from the env.
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.stats = PoolStats(limit=limit, in_flight=0, peak_in_flight=0, completed=0)
        self._slots = asyncio.Semaphore(limit)
        self._guard = asyncio.get_running_loop().create_task(self._close_at_loop_end(), name="runway-http-session")

    async def _close_at_loop_end(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_future()
        finally:
            if _CLIENTS.get(loop) is self:  # the entry holds the loop alive through this task
                del _CLIENTS[loop]
            await self.session.close()

    @property
    def closed(self) -> bool:
        return self.session.closed or self._guard.done()

    async def aclose(self) -> None:
        self._guard.cancel()
        await asyncio.wait([self._guard])

    async def request(
        self,
        method: str,
        url: str,
        *,
        base_url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, str, Mapping[str, str]]:
        """(status, body text, headers) of one request, inside the loop's in-flight bound."""
        async with self._slots:
            stats = self.stats
            stats.in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
            try:
                async with self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    timeout=timeout,
                    allow_redirects=False,
                    proxy=_proxy_for(base_url),
                ) as response:
                    body = await response.read()
                    return response.status, body.decode("utf-8", "replace"), response.headers
            finally:
                stats.in_flight -= 1
                stats.completed += 1


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClient] = weakref.WeakKeyDictionary()


def loop_client() -> LoopClient:
    """The running loop's shared client, created on first use (and again after a close)."""
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None or client.closed:
        client = _CLIENTS[loop] = LoopClient()
    return client


def pool_stats() -> PoolStats | None:
    """The running loop's client counters, or None before its first request."""
    client = _CLIENTS.get(asyncio.get_running_loop())
    return None if client is None else client.stats


async def close_loop_client() -> None:
    """Close the running loop's shared session now (the loop's end would do it anyway)."""
    client = _CLIENTS.get(asyncio.get_running_loop())
    if client is not None:
        await client.aclose()


@functools.lru_cache(maxsize=64)
def _proxy_for(base_url: str) -> str | None:
    """The proxy ``HTTP(S)_PROXY``/``NO_PROXY`` choose for the API, as on the blocking path; looked up once."""
    return requests.utils.select_proxy(base_url, requests.utils.get_environ_proxies(base_url))


@functools.lru_cache(maxsize=64)
def _timeout(total: float, connect: float) -> aiohttp.ClientTimeout:
    # sock_connect, not connect: aiohttp's "connect" also counts the wait for a pooled connection.
    return aiohttp.ClientTimeout(total=total, sock_connect=connect)


def transport_failure(exc: BaseException) -> TransportFailure:
    """Classify an aiohttp failure by type (subclasses before their bases)."""
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError)):
        return TransportFailure.TLS
    if isinstance(exc, aiohttp.ClientConnectorError):  # ClientConnectorDNSError wraps a gaierror too
        if isinstance(exc.os_error, socket.gaierror):
            return TransportFailure.DNS
        refused = exc.os_error.errno == errno.ECONNREFUSED
        return TransportFailure.REFUSED if refused else TransportFailure.UNREACHABLE
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransportFailure.CONNECT_TIMEOUT
    if isinstance(exc, asyncio.TimeoutError):  # SocketTimeoutError, or the total timeout
        return TransportFailure.READ_TIMEOUT
    return TransportFailure.LOST


async def send(
    settings: ClientSettings,
    method: str,
    suffix: str,
    body: Mapping[str, Any] | None,
    *,
    headers: Mapping[str, str],
    connect_timeout: float,
) -> Any:
    """One API call on the loop's shared session: the answer's JSON, or the matching RunwayError."""
    path = settings.flavor.path(suffix)
    try:
        status, text, answer_headers = await loop_client().request(
            method,
            settings.url(suffix),
            base_url=settings.base_url,
            headers=headers,
            data=None if body is None else json.dumps(body).encode(),
            timeout=_timeout(settings.timeout, connect_timeout),
        )
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise RunwayTransportError.of(
            transport_failure(exc),
            f"{method} {path}",
            host=settings.host,
            timeout=settings.timeout,
            connect_timeout=connect_timeout,
        ) from None
    return read_response(status, text, answer_headers, method, path)
