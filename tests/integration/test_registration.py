"""The provider as Airflow sees it: registration, connection form, and `airflow connections test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_runway import get_provider_info
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.integration


def airflow(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_providers_list_and_hooks_show_the_provider() -> None:
    listed = airflow("providers", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    [ours] = [p for p in json.loads(listed.stdout) if p["package_name"] == "airflow-provider-runway"]
    assert ours["version"] == get_provider_info()["versions"][0]
    hooks = airflow("providers", "hooks", "-o", "json")
    assert any(h["connection_type"] == "runway" for h in json.loads(hooks.stdout))


def test_provider_info_describes_the_connection_form() -> None:
    [conn_type] = get_provider_info()["connection-types"]
    assert conn_type["hook-class-name"] == "airflow_provider_runway.hooks.runway.RunwayHook"
    assert conn_type["ui-field-behaviour"]["relabeling"]["password"] == "API key"
    assert set(conn_type["conn-fields"]) == {"flavor", "runway_version", "timeout"}


def test_airflow_connections_test_calls_the_api(runway_emulator: Any) -> None:
    runway_emulator.configure(api_key=TEST_API_KEY)
    good = json.dumps({"conn_type": "runway", "host": runway_emulator.base_url, "password": TEST_API_KEY})
    bad = json.dumps({"conn_type": "runway", "host": runway_emulator.base_url, "password": "not-the-key"})
    env = {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    ok = airflow("connections", "test", "runway_good", AIRFLOW_CONN_RUNWAY_GOOD=good, **env)
    assert "Connection success!" in ok.stdout, ok.stdout + ok.stderr[-2000:]
    assert [r["auth_matches_pinned_key"] for r in runway_emulator.requests()] == [True]  # it really called the API
    refused = airflow("connections", "test", "runway_bad", AIRFLOW_CONN_RUNWAY_BAD=bad, **env)
    assert "key was rejected" in refused.stdout, refused.stdout + refused.stderr[-2000:]
    assert "not-the-key" not in refused.stdout + refused.stderr
