"""Fixtures for the emulator tests: HTTP clients that never use a proxy (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import requests

from tests.emulator.support import MediaInputs, make_inputs


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


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """The ffmpeg binary the optional 'video' extra bundles; tests that need it skip without it."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


@pytest.fixture(scope="session")
def inputs(ffmpeg: str) -> MediaInputs:
    """Input media (PNG, MP4, WAV) made with ffmpeg directly, not by the emulator."""
    return make_inputs(ffmpeg)
