"""Turn an Airflow connection's fields into validated client settings (pure, no I/O).

Kept apart from the hook so both the sync and async paths (and tests) read a connection the
same way, and so a misconfiguration is reported before any request is made.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_runway import __version__
from airflow_provider_runway.runway.errors import ConnectionConfigError
from airflow_provider_runway.runway.flavors import COMETAPI, DEFAULT_RUNWAY_VERSION, FLAVORS, FlavorSpec
from airflow_provider_runway.runway.protocol import is_iso_date

DEFAULT_TIMEOUT = 60.0
# A dead host should not hold a worker or a poll for the whole read timeout.
MAX_CONNECT_TIMEOUT = 10.0
USER_AGENT = f"airflow-provider-runway/{__version__}"


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ClientSettings:
    """Everything a request needs. ``repr`` hides the key so it never reaches a log."""

    conn_id: str
    base_url: str
    api_key: str
    flavor: FlavorSpec
    runway_version: str
    timeout: float

    def __repr__(self) -> str:
        return (
            f"ClientSettings(conn_id={self.conn_id!r}, base_url={self.base_url!r}, flavor={self.flavor.name!r}, "
            f"runway_version={self.runway_version!r}, timeout={self.timeout!r}, api_key=***)"
        )

    def url(self, suffix: str) -> str:
        return self.base_url + self.flavor.path(suffix)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or self.base_url

    @property
    def connect_timeout(self) -> float:
        return min(MAX_CONNECT_TIMEOUT, self.timeout)

    def headers(self, *, with_body: bool = False) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "X-Runway-Version": self.runway_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if with_body:
            headers["Content-Type"] = "application/json"
        return headers


def _extra_dict(extra: Any) -> dict[str, Any]:
    if extra in (None, ""):
        return {}
    if isinstance(extra, Mapping):
        return dict(extra)
    try:
        value = json.loads(extra)
    except ValueError:
        raise ConnectionConfigError("extra is not valid JSON") from None
    if not isinstance(value, dict):
        raise ConnectionConfigError("extra must be a JSON object")
    return value


def check_runway_version(value: Any) -> str:
    """The ``X-Runway-Version`` header value: an API version date (YYYY-MM-DD), checked on every flavor.

    A malformed date is refused by Runway on every call and by CometAPI on create, so it is
    caught here rather than on the first paid request.
    """
    text = str(value or DEFAULT_RUNWAY_VERSION).strip()
    if not is_iso_date(text):
        raise ConnectionConfigError(
            f"extra 'runway_version' must be an API version date such as {DEFAULT_RUNWAY_VERSION} "
            f"(YYYY-MM-DD), got {text[:40]!r}"
        )
    return text


def _base_url(host: str | None, schema: str | None, port: int | None, flavor: FlavorSpec) -> str:
    if not host:
        return flavor.default_host
    raw = host.strip().rstrip("/")
    not_a_url = ConnectionConfigError(f"host {host!r} is not an http(s) URL")
    try:
        if "://" not in host:  # checked before rstrip("/") turned "https://" into "https:"
            # A bare host: the URI form ``runway://:key@127.0.0.1:8000`` lands here.
            scheme = schema if schema in ("http", "https") else None
            hostname = urlsplit(f"//{raw}").hostname or ""
            raw = f"{scheme or ('http' if is_loopback(hostname) else 'https')}://{raw}"
        parts = urlsplit(raw)
        explicit_port = parts.port
    except ValueError:  # unbalanced "[" in the host, a port that is not a number or out of range
        raise not_a_url from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise not_a_url
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConnectionConfigError(
            "plain http:// is allowed only for loopback hosts (127.0.0.1, localhost); "
            f"use https:// for {parts.hostname}"
        )
    if port and explicit_port is None:
        raw = f"{parts.scheme}://{parts.netloc}:{port}{parts.path}"
    # A user may paste the full prefix (".../runwayml/v1"); paths are added per flavor.
    for prefix in (flavor.path_prefix, "/runwayml/v1", "/v1"):
        if raw.endswith(prefix):
            raw = raw[: -len(prefix)]
            break
    return raw.rstrip("/")


def settings_from_connection(
    conn_id: str,
    *,
    host: str | None,
    password: str | None,
    extra: Any = None,
    schema: str | None = None,
    port: int | None = None,
) -> ClientSettings:
    """Validate a ``runway`` connection; errors name the field and never echo the key.

    Every ``ConnectionConfigError`` names ``conn_id`` in its message and keeps the bare
    ``problem`` for places where the id means nothing to the user (connection Test).
    """
    try:
        return _read_connection(conn_id, host=host, password=password, extra=extra, schema=schema, port=port)
    except ConnectionConfigError as err:
        raise ConnectionConfigError(err.problem, conn_id=conn_id) from None


def _read_connection(
    conn_id: str, *, host: str | None, password: str | None, extra: Any, schema: str | None, port: int | None
) -> ClientSettings:
    options = _extra_dict(extra)
    flavor_name = str(options.get("flavor") or COMETAPI).strip().lower()
    if flavor_name not in FLAVORS:
        raise ConnectionConfigError(f"extra 'flavor' is {flavor_name!r}; allowed: {', '.join(FLAVORS)}")
    flavor = FLAVORS[flavor_name]
    if not password:
        raise ConnectionConfigError("no API key: set the connection's password field")
    timeout_value = options.get("timeout", DEFAULT_TIMEOUT)
    try:
        timeout = float(timeout_value if timeout_value not in (None, "") else DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        timeout = -1.0
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ConnectionConfigError("extra 'timeout' must be a positive number of seconds")
    return ClientSettings(
        conn_id=conn_id,
        base_url=_base_url(host, schema, port, flavor),
        api_key=password,
        flavor=flavor,
        runway_version=check_runway_version(options.get("runway_version")),
        timeout=timeout,
    )
