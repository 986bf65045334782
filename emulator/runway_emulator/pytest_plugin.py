"""pytest fixtures for the local Runway emulator; opt-in, never loaded by merely installing the provider.

Opt in from a ``conftest.py`` with ``pytest_plugins = ["runway_emulator.pytest_plugin"]``
or on the command line with ``-p runway_emulator.pytest_plugin``.

Fixtures:

- ``runway_emulator``: an ``EmulatorHandle`` with fresh state for each test. One server per
  session (thread mode), reset before each test; fast (1 s generation, 0.3 s task_not_exist
  window), any non-empty key accepted. Per-test settings via a marker::

      @pytest.mark.runway_emulator(generation_seconds=2, faults={"reset": {"count": 1}})
      @pytest.mark.runway_emulator(prices={"fallback": {"video": {"per": "second", "credits": 9}}})

- ``runway_connection``: sets ``AIRFLOW_CONN_RUNWAY_DEFAULT`` to a JSON connection pointing at
  the emulator (flavor cometapi unless told otherwise) and returns a ``RunwayTestConnection``.
  Choose the flavor with ``@pytest.mark.runway_connection(flavor="runway")`` or indirect
  parametrisation: ``@pytest.mark.parametrize("runway_connection", ["cometapi", "runway"], indirect=True)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from runway_emulator.runner import run_emulator

if TYPE_CHECKING:
    from runway_emulator.handle import EmulatorHandle

TEST_API_KEY = "test-runway-emulator-key"  # not a secret: only the local emulator accepts it
CONN_ENV = "AIRFLOW_CONN_RUNWAY_DEFAULT"
# No pinned key: any non-empty key passes, as the emulator's default. Pin one per test with
# @pytest.mark.runway_emulator(api_key=...) or runway_emulator.configure(api_key=...).
SESSION_CONFIG: dict[str, Any] = {
    "pending_seconds": 0.2,
    "generation_seconds": 1.0,
    "not_visible_seconds": 0.3,
}


@dataclass(frozen=True)
class RunwayTestConnection:
    """What ``runway_connection`` put into the environment, for assertions."""

    conn_id: str
    flavor: str
    api_key: str
    base_url: str
    env_value: str
    emulator: EmulatorHandle
    extra: dict[str, Any] = field(default_factory=dict)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "runway_emulator(**settings): EmulatorConfig fields (and faults={...}) for this test's emulator"
    )
    config.addinivalue_line(
        "markers", "runway_connection(flavor='cometapi', **extra): flavor and extras of the runway_default connection"
    )


@pytest.fixture(scope="session")
def runway_emulator_session() -> Iterator[EmulatorHandle]:
    """One emulator for the whole session; tests get it through ``runway_emulator``."""
    with run_emulator(**SESSION_CONFIG) as handle:
        yield handle


@pytest.fixture
def runway_emulator(runway_emulator_session: EmulatorHandle, request: pytest.FixtureRequest) -> EmulatorHandle:
    """The session emulator, reset, with this test's ``runway_emulator`` marker applied."""
    handle = runway_emulator_session
    handle.reset()
    marker = request.node.get_closest_marker("runway_emulator")
    if marker is not None:
        settings = dict(marker.kwargs)
        faults = settings.pop("faults", None)
        if settings:
            handle.configure(**settings)
        if faults:
            handle.set_faults(**faults)
    return handle


@pytest.fixture
def runway_connection(
    runway_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> RunwayTestConnection:
    """``AIRFLOW_CONN_RUNWAY_DEFAULT`` pointing at the emulator with the test key."""
    extra: dict[str, Any] = {"flavor": "cometapi"}
    marker = request.node.get_closest_marker("runway_connection")
    if marker is not None:
        if marker.args:
            extra["flavor"] = marker.args[0]
        extra.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        extra["flavor"] = param
    elif isinstance(param, dict):
        extra.update(param)
    pinned = request.node.get_closest_marker("runway_emulator")
    api_key = str((pinned.kwargs.get("api_key") if pinned else None) or extra.pop("api_key", None) or TEST_API_KEY)
    value = json.dumps({"conn_type": "runway", "password": api_key, "host": runway_emulator.base_url, "extra": extra})
    monkeypatch.setenv(CONN_ENV, value)
    return RunwayTestConnection(
        conn_id="runway_default",
        flavor=str(extra["flavor"]),
        api_key=api_key,
        base_url=runway_emulator.base_url,
        env_value=value,
        emulator=runway_emulator,
        extra=extra,
    )
