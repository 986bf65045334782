"""Unit tests for reading an Airflow connection's fields into client settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_runway import __version__
from airflow_provider_runway.hooks.connection import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    ClientSettings,
    is_loopback,
    settings_from_connection,
)
from airflow_provider_runway.runway.errors import ConnectionConfigError

KEY = "sk-unit-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CONN = "runway_default"


def settings(host: str | None = None, extra: Any = None, **kwargs: Any) -> ClientSettings:
    return settings_from_connection(CONN, host=host, password=kwargs.pop("password", KEY), extra=extra, **kwargs)


def refused(host: str | None = None, extra: Any = None, **kwargs: Any) -> ConnectionConfigError:
    with pytest.raises(ConnectionConfigError) as info:
        settings(host, extra, **kwargs)
    message = str(info.value)
    assert KEY not in message
    return info.value


# --------------------------------------------------------------------------- flavors and default hosts


@pytest.mark.parametrize(
    ("extra", "flavor", "base_url"),
    [
        (None, "cometapi", "https://api.cometapi.com"),
        ("", "cometapi", "https://api.cometapi.com"),
        ({}, "cometapi", "https://api.cometapi.com"),
        ({"flavor": None}, "cometapi", "https://api.cometapi.com"),
        ({"flavor": ""}, "cometapi", "https://api.cometapi.com"),
        ({"flavor": "cometapi"}, "cometapi", "https://api.cometapi.com"),
        ({"flavor": "runway"}, "runway", "https://api.dev.runwayml.com"),
        ({"flavor": "RUNWAY"}, "runway", "https://api.dev.runwayml.com"),
        ({"flavor": " Runway "}, "runway", "https://api.dev.runwayml.com"),
        ('{"flavor": "runway"}', "runway", "https://api.dev.runwayml.com"),
    ],
)
def test_flavor_and_its_default_host(extra: Any, flavor: str, base_url: str) -> None:
    s = settings(extra=extra)
    assert s.flavor.name == flavor
    assert s.base_url == base_url


@pytest.mark.parametrize(
    ("flavor", "suffix", "url"),
    [
        ("cometapi", "image_to_video", "https://api.cometapi.com/runwayml/v1/image_to_video"),
        ("cometapi", "/tasks/abc", "https://api.cometapi.com/runwayml/v1/tasks/abc"),
        ("runway", "image_to_video", "https://api.dev.runwayml.com/v1/image_to_video"),
        ("runway", "tasks/abc", "https://api.dev.runwayml.com/v1/tasks/abc"),
    ],
)
def test_url_joins_base_prefix_and_suffix(flavor: str, suffix: str, url: str) -> None:
    assert settings(extra={"flavor": flavor}).url(suffix) == url


@pytest.mark.parametrize("flavor", ["openai", "runwayml", "comet"])
def test_unknown_flavor_is_refused_listing_allowed(flavor: str) -> None:
    err = refused(extra={"flavor": flavor})
    assert "'flavor'" in str(err)
    assert repr(flavor) in str(err)
    assert "allowed: cometapi, runway" in str(err)
    assert repr(CONN) in str(err)


# --------------------------------------------------------------------------- extra forms


def test_extra_as_json_string_and_dict_read_the_same() -> None:
    options = {"flavor": "runway", "timeout": 12, "runway_version": "2025-01-01"}
    a = settings(extra=json.dumps(options))
    b = settings(extra=options)
    assert repr(a) == repr(b)
    assert a.timeout == 12.0
    assert a.runway_version == "2025-01-01"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"runway"', "must be a JSON object"),
        ("42", "must be a JSON object"),
    ],
)
def test_bad_extra_is_refused(extra: str, fragment: str) -> None:
    assert fragment in str(refused(extra=extra))


# --------------------------------------------------------------------------- host handling


@pytest.mark.parametrize(
    ("host", "kwargs", "flavor", "base_url"),
    [
        ("https://api.cometapi.com", {}, "cometapi", "https://api.cometapi.com"),
        ("https://api.cometapi.com/", {}, "cometapi", "https://api.cometapi.com"),
        ("  https://api.cometapi.com  ", {}, "cometapi", "https://api.cometapi.com"),
        ("https://api.cometapi.com/runwayml/v1", {}, "cometapi", "https://api.cometapi.com"),
        ("https://api.cometapi.com/runwayml/v1/", {}, "cometapi", "https://api.cometapi.com"),
        ("https://api.dev.runwayml.com/v1", {}, "runway", "https://api.dev.runwayml.com"),
        ("https://proxy.example.com/base", {}, "cometapi", "https://proxy.example.com/base"),
        ("https://proxy.example.com/base/runwayml/v1", {}, "cometapi", "https://proxy.example.com/base"),
        # bare hosts (the URI form runway://:key@127.0.0.1:8000 lands here): http for loopback only
        ("127.0.0.1:8000", {}, "cometapi", "http://127.0.0.1:8000"),
        ("localhost:8000", {}, "cometapi", "http://localhost:8000"),
        ("[::1]:8000", {}, "runway", "http://[::1]:8000"),
        ("example.com", {}, "cometapi", "https://example.com"),
        ("example.com:8443", {}, "cometapi", "https://example.com:8443"),
        ("example.com", {"schema": "https"}, "cometapi", "https://example.com"),
        ("example.com", {"schema": "ftp"}, "cometapi", "https://example.com"),
        ("127.0.0.1:8000", {"schema": "https"}, "cometapi", "https://127.0.0.1:8000"),
        ("127.0.0.1", {"schema": "http", "port": 8000}, "cometapi", "http://127.0.0.1:8000"),
        ("127.0.0.1", {"port": 8000}, "cometapi", "http://127.0.0.1:8000"),
        # explicit URLs
        ("http://127.0.0.1:8000", {}, "cometapi", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/runwayml/v1", {}, "cometapi", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/v1", {}, "runway", "http://127.0.0.1:8000"),
        ("http://127.5.6.7:9", {}, "cometapi", "http://127.5.6.7:9"),
        ("http://localhost:1234", {}, "cometapi", "http://localhost:1234"),
        ("http://LOCALHOST:1234", {}, "cometapi", "http://LOCALHOST:1234"),
        ("http://[::1]:8000", {}, "cometapi", "http://[::1]:8000"),
        ("https://example.com", {"port": 8443}, "cometapi", "https://example.com:8443"),
        ("https://example.com/runwayml/v1", {"port": 8443}, "cometapi", "https://example.com:8443"),
        ("https://example.com:9000", {"port": 8443}, "cometapi", "https://example.com:9000"),
    ],
)
def test_host_forms(host: str, kwargs: dict[str, Any], flavor: str, base_url: str) -> None:
    assert settings(host, {"flavor": flavor}, **kwargs).base_url == base_url


@pytest.mark.parametrize(
    "host",
    [
        "http://example.com",
        "http://api.cometapi.com/runwayml/v1",
        "http://10.0.0.1:8000",
        "http://192.168.1.5",
        "http://0.0.0.0:8000",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_only_for_loopback(host: str) -> None:
    err = refused(host)
    assert "plain http:// is allowed only for loopback" in str(err)
    assert "use https://" in str(err)
    assert repr(CONN) in str(err)


def test_bare_host_with_http_schema_is_still_refused_off_loopback() -> None:
    assert "loopback" in str(refused("example.com", schema="http"))


@pytest.mark.parametrize("host", ["ftp://example.com", "https://", "http://", "ws://127.0.0.1:8000"])
def test_non_http_hosts_are_refused(host: str) -> None:
    err = refused(host)
    assert "is not an http(s) URL" in str(err)
    assert repr(host) in str(err)


@pytest.mark.parametrize(
    "host", ["http://[::1", "https://[::1:8000/runwayml/v1", "https://example.com:abc", "https://example.com:99999"]
)
def test_malformed_hosts_are_a_connection_error(host: str) -> None:
    err = refused(host)
    assert repr(CONN) in str(err)
    assert "is not an http(s) URL" in str(err)


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(hostname: str, expected: bool) -> None:
    assert is_loopback(hostname) is expected


# --------------------------------------------------------------------------- timeout


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (None, DEFAULT_TIMEOUT),
        ({"timeout": None}, DEFAULT_TIMEOUT),
        ({"timeout": ""}, DEFAULT_TIMEOUT),
        ({"timeout": 30}, 30.0),
        ({"timeout": "30"}, 30.0),
        ({"timeout": 0.5}, 0.5),
        ({"timeout": "0.001"}, 0.001),
    ],
)
def test_timeout(extra: Any, expected: float) -> None:
    assert DEFAULT_TIMEOUT == 60.0
    s = settings(extra=extra)
    assert s.timeout == expected
    assert isinstance(s.timeout, float)


@pytest.mark.parametrize("timeout", [0, "0", -1, "-5", "abc", [], {}, "nan"])
def test_bad_timeout_is_refused(timeout: Any) -> None:
    err = refused(extra={"timeout": timeout})
    assert "'timeout' must be a positive number of seconds" in str(err)
    assert repr(CONN) in str(err)


# --------------------------------------------------------------------------- API key


@pytest.mark.parametrize("password", [None, ""])
def test_missing_key_is_refused_naming_the_password_field(password: str | None) -> None:
    with pytest.raises(ConnectionConfigError) as info:
        settings_from_connection(CONN, host=None, password=password)
    assert "no API key" in str(info.value)
    assert "password" in str(info.value)
    assert repr(CONN) in str(info.value)


@pytest.mark.parametrize(
    ("host", "extra"),
    [
        ("http://example.com", None),
        ("ftp://example.com", None),
        (None, {"flavor": "nope"}),
        (None, {"timeout": -1}),
        (None, "{bad json"),
    ],
)
def test_errors_never_echo_the_key(host: str | None, extra: Any) -> None:
    refused(host, extra)  # refused() asserts the key is absent from the message


def test_repr_and_str_hide_the_key() -> None:
    s = settings("http://127.0.0.1:8000", {"flavor": "runway", "timeout": 5})
    for text in (repr(s), str(s), f"{s}", repr([s]), repr({"s": s})):
        assert KEY not in text
        assert "api_key=***" in text
    assert "conn_id='runway_default'" in repr(s)
    assert "base_url='http://127.0.0.1:8000'" in repr(s)
    assert "flavor='runway'" in repr(s)
    assert "timeout=5.0" in repr(s)
    assert s.api_key == KEY  # still usable by the client


# --------------------------------------------------------------------------- headers


def test_headers_for_a_get() -> None:
    s = settings()
    assert s.headers() == {
        "Authorization": f"Bearer {KEY}",
        "X-Runway-Version": "2024-11-06",
        "User-Agent": f"airflow-provider-runway/{__version__}",
        "Accept": "application/json",
    }


def test_headers_for_a_request_with_a_body_add_content_type() -> None:
    headers = settings().headers(with_body=True)
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("extra", "version"), [({"runway_version": "2025-06-01"}, "2025-06-01"), ({}, "2024-11-06")])
def test_runway_version_header_comes_from_extra(extra: dict[str, str], version: str) -> None:
    s = settings(extra=extra)
    assert s.runway_version == version
    assert s.headers()["X-Runway-Version"] == version


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
@pytest.mark.parametrize("version", ["2024-11-6", "latest", "2024/11/06", "2024-13-01", "2023-02-29", " "])
def test_malformed_runway_version_is_refused_on_every_flavor(flavor: str, version: str) -> None:
    err = refused(extra={"flavor": flavor, "runway_version": version})
    assert "extra 'runway_version' must be an API version date such as 2024-11-06 (YYYY-MM-DD)" in str(err)
    assert repr(CONN) in str(err)


def test_blank_runway_version_means_the_default() -> None:
    assert settings(extra={"runway_version": ""}).runway_version == "2024-11-06"


@pytest.mark.parametrize(
    ("host", "extra", "problem"),
    [
        ("ftp://example.com", None, "host 'ftp://example.com' is not an http(s) URL"),
        ("http://example.com", None, "plain http:// is allowed only for loopback hosts"),
        (None, {"flavor": "nope"}, "extra 'flavor' is 'nope'; allowed: cometapi, runway"),
        (None, {"timeout": -1}, "extra 'timeout' must be a positive number of seconds"),
        (None, {"runway_version": "v1"}, "extra 'runway_version' must be an API version date"),
        (None, "{bad", "extra is not valid JSON"),
    ],
)
def test_the_problem_is_available_without_the_connection_id(host: str | None, extra: Any, problem: str) -> None:
    err = refused(host, extra)
    assert err.problem.startswith(problem)
    assert CONN not in err.problem
    assert err.conn_id == CONN
    assert str(err) == f"connection {CONN!r}: {err.problem}"


@pytest.mark.parametrize("timeout", ["inf", float("inf")])
def test_an_endless_timeout_is_refused(timeout: Any) -> None:
    assert "'timeout' must be a positive number" in str(refused(extra={"timeout": timeout}))


@pytest.mark.parametrize(("timeout", "connect"), [(60, 10.0), (5, 5.0), (0.5, 0.5)])
def test_connect_timeout_is_the_timeout_up_to_ten_seconds(timeout: float, connect: float) -> None:
    assert settings(extra={"timeout": timeout}).connect_timeout == connect


def test_host_is_the_base_urls_hostname() -> None:
    assert settings("https://api.example.com:8443/base").host == "api.example.com"


def test_user_agent_names_the_provider_version() -> None:
    assert USER_AGENT.split("/") == ["airflow-provider-runway", __version__]


def test_conn_id_is_kept() -> None:
    assert settings_from_connection("my_conn", host=None, password=KEY).conn_id == "my_conn"
