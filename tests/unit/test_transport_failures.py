"""Transport failures are classified by exception type (as each HTTP stack raises them), never by text."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from airflow_provider_runway.hooks import async_http, sync_http
from airflow_provider_runway.runway.errors import RunwayTransportError, TransportFailure

F = TransportFailure


def _caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


def _wrapped(reason: BaseException) -> requests.exceptions.ConnectionError:
    """How requests reports a failed connect: ConnectionError(MaxRetryError(reason=...))."""
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/tasks/x", reason=reason))  # type: ignore[arg-type]


DNS_ERROR = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
REFUSED = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
UNREACHABLE = OSError(errno.ENETUNREACH, "Network is unreachable")


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (_wrapped(NameResolutionError("api.example.invalid", None, DNS_ERROR)), F.DNS),  # type: ignore[arg-type]
        (_wrapped(_caused(NewConnectionError(None, "refused"), REFUSED)), F.REFUSED),  # type: ignore[arg-type]
        (_wrapped(_caused(NewConnectionError(None, "unreachable"), UNREACHABLE)), F.UNREACHABLE),  # type: ignore[arg-type]
        (requests.exceptions.ConnectTimeout("connect timed out"), F.CONNECT_TIMEOUT),
        (requests.exceptions.SSLError("bad certificate"), F.TLS),
        (requests.exceptions.ReadTimeout("read timed out"), F.READ_TIMEOUT),
        (requests.exceptions.ConnectionError(ProtocolError("aborted", ConnectionResetError())), F.LOST),
        (requests.exceptions.ChunkedEncodingError("truncated"), F.LOST),
    ],
)
def test_requests_failures(exc: requests.RequestException, failure: TransportFailure) -> None:
    assert sync_http.transport_failure(exc) is failure


def test_a_dns_failure_is_not_mistaken_for_a_refusal_whatever_its_text_says() -> None:
    # The old check looked for "NewConnectionError" in repr(exc); a DNS failure's repr matched it too.
    exc = _wrapped(NameResolutionError("api.example.invalid", None, DNS_ERROR))  # type: ignore[arg-type]
    assert sync_http.transport_failure(exc) is F.DNS


def _key(host: str = "api.example.invalid") -> Any:
    return SimpleNamespace(host=host, port=443, ssl=True, is_ssl=True)


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (aiohttp.ClientConnectorDNSError(_key(), DNS_ERROR), F.DNS),
        (aiohttp.ClientConnectorError(_key(), DNS_ERROR), F.DNS),
        (aiohttp.ClientConnectorError(_key(), REFUSED), F.REFUSED),
        (aiohttp.ClientConnectorError(_key(), UNREACHABLE), F.UNREACHABLE),
        (aiohttp.ClientConnectorCertificateError(_key(), ssl.SSLCertVerificationError("bad cert")), F.TLS),
        (aiohttp.ClientConnectorSSLError(_key(), ssl.SSLError("handshake")), F.TLS),
        (aiohttp.ConnectionTimeoutError("Connection timeout"), F.CONNECT_TIMEOUT),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), F.READ_TIMEOUT),
        (asyncio.TimeoutError(), F.READ_TIMEOUT),
        (aiohttp.ServerDisconnectedError(), F.LOST),
        (aiohttp.ClientPayloadError("truncated"), F.LOST),
        (aiohttp.ClientOSError(errno.ECONNRESET, "reset"), F.LOST),
    ],
)
def test_aiohttp_failures(exc: BaseException, failure: TransportFailure) -> None:
    assert async_http.transport_failure(exc) is failure


@pytest.mark.parametrize(
    ("failure", "reason", "sent"),
    [
        (F.DNS, "cannot resolve host api.example.invalid", False),
        (F.REFUSED, "connection refused by api.example.invalid", False),
        (F.UNREACHABLE, "cannot connect to api.example.invalid", False),
        (F.CONNECT_TIMEOUT, "no connection to api.example.invalid within 3 s", False),
        (F.TLS, "TLS handshake with api.example.invalid failed", False),
        (F.READ_TIMEOUT, "no answer within 60 s", True),
        (F.LOST, "connection lost", True),
    ],
)
def test_one_wording_for_both_stacks(failure: TransportFailure, reason: str, sent: bool) -> None:
    err = RunwayTransportError.of(
        failure, "GET /v1/tasks/x", host="api.example.invalid", timeout=60.0, connect_timeout=3.0
    )
    assert str(err) == f"GET /v1/tasks/x: {reason}"
    assert err.reason == reason
    assert err.sent is sent
    assert err.failure is failure
