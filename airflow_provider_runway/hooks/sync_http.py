"""The blocking HTTP path (operator creates, sensor pokes, downloads) on a pooled ``requests.Session``.

Only API calls carry the key (``ClientSettings.headers``); output downloads and presigned
upload forms go to storage hosts with no credentials. Redirects are never followed, so a
request cannot be steered to another host.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from airflow_provider_runway.runway.errors import RunwayAPIError, RunwayTransportError, TransportFailure
from airflow_provider_runway.runway.protocol import check_output_status, read_response

if TYPE_CHECKING:
    from airflow_provider_runway.hooks.connection import ClientSettings


def new_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def transport_failure(exc: requests.RequestException) -> TransportFailure:
    """Classify by type. requests wraps urllib3's cause in ``MaxRetryError.reason`` (args[0])."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportFailure.CONNECT_TIMEOUT
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportFailure.TLS
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportFailure.READ_TIMEOUT
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)
    if isinstance(cause, NameResolutionError):  # a NewConnectionError subclass: test it first
        return TransportFailure.DNS
    if isinstance(cause, NewConnectionError):  # also a ConnectTimeoutError subclass in urllib3 2
        os_error = cause.__cause__ or cause.__context__
        refused = isinstance(os_error, OSError) and os_error.errno == errno.ECONNREFUSED
        return TransportFailure.REFUSED if refused else TransportFailure.UNREACHABLE
    if isinstance(cause, ConnectTimeoutError):
        return TransportFailure.CONNECT_TIMEOUT
    return TransportFailure.LOST


def _transport_error(
    exc: requests.RequestException, where: str, host: str, timeout: float, connect_timeout: float
) -> RunwayTransportError:
    return RunwayTransportError.of(
        transport_failure(exc), where, host=host, timeout=timeout, connect_timeout=connect_timeout
    )


def send(
    session: requests.Session,
    settings: ClientSettings,
    method: str,
    suffix: str,
    body: Mapping[str, Any] | None,
    *,
    connect_timeout: float,
) -> Any:
    """One API call: the answer's JSON, or the matching RunwayError."""
    path = settings.flavor.path(suffix)
    try:
        response = session.request(
            method,
            settings.url(suffix),
            headers=settings.headers(with_body=body is not None),
            data=None if body is None else json.dumps(body),
            timeout=(connect_timeout, settings.timeout),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise _transport_error(exc, f"{method} {path}", settings.host, settings.timeout, connect_timeout) from None
    return read_response(response.status_code, response.text, response.headers, method, path)


def download(
    session: requests.Session, url: str, target: str, *, timeout: float, connect_timeout: float, chunk_size: int
) -> int:
    """Stream a signed output URL (no credentials) to a local path or any fsspec URL; bytes written."""
    host = urlsplit(url).hostname or "the output host"
    try:
        response = session.get(url, stream=True, timeout=(connect_timeout, timeout), allow_redirects=False)
    except requests.RequestException as exc:
        raise _transport_error(exc, "download of the output", host, timeout, connect_timeout) from None
    with response:
        check_output_status(response.status_code, response.headers)
        try:
            return write_stream(target, response.iter_content(chunk_size))
        except requests.RequestException as exc:
            raise _transport_error(exc, "download of the output", host, timeout, connect_timeout) from None


def post_form(
    session: requests.Session,
    url: str,
    fields: Mapping[str, str],
    file: tuple[str, bytes, str],
    *,
    timeout: float,
    connect_timeout: float,
) -> None:
    """POST a presigned storage form (S3-style fields plus the file); no credentials are sent."""
    host = urlsplit(url).hostname or "the storage host"
    try:
        response = session.post(
            url, data=dict(fields), files={"file": file}, timeout=(connect_timeout, timeout), allow_redirects=False
        )
    except requests.RequestException as exc:
        raise _transport_error(exc, "upload to storage", host, timeout, connect_timeout) from None
    with response:
        if not 200 <= response.status_code < 300:
            raise RunwayAPIError(response.status_code, f"upload to storage at {host} failed")


def write_stream(target: str, chunks: Iterable[bytes]) -> int:
    """Write chunks to a local path or an ``ObjectStoragePath`` URL (s3://, gs://, ...)."""
    if "://" in target:
        from airflow.sdk import ObjectStoragePath

        path: Any = ObjectStoragePath(target)
    else:
        from pathlib import Path

        path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    return written
