"""Fixtures for the emulator tests: HTTP clients that never use a proxy (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import requests


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
