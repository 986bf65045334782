"""Shared helpers for the emulator tests: HTTP clients that never use a proxy, and request bodies."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests

from airflow_provider_runway.emulator.pytest_plugin import TEST_API_KEY

VERSION = "2024-11-06"
IMAGE = "https://example.com/cat.jpg"
COMET = "/runwayml/v1"
RUNWAY = "/v1"


def headers(key: str = TEST_API_KEY, version: str | None = VERSION) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}"}
    if version is not None:
        out["X-Runway-Version"] = version
    return out


def comet_body(**extra: Any) -> dict[str, Any]:
    return {"promptImage": IMAGE, "model": "gen3a_turbo", **extra}


def runway_body(**extra: Any) -> dict[str, Any]:
    return {"promptImage": IMAGE, "model": "gen4_turbo", "ratio": "1280:720", **extra}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive requests session that ignores proxy settings (127.0.0.1 only)."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def hx() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
