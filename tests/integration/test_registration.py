"""The provider as Airflow sees it: registration, connection form, and `airflow connections test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from runway_emulator.pytest_plugin import TEST_API_KEY

from airflow_provider_runway import get_provider_info
from airflow_provider_runway.hooks.runway import RunwayHook

pytestmark = pytest.mark.integration


def airflow(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def _airflow_schema(name: str) -> dict[str, Any]:
    import airflow

    schema: dict[str, Any] = json.loads((Path(airflow.__file__).parent / name).read_text())
    return schema


@pytest.mark.slow
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
    # Airflow 3.2+ names the type in the UI from `hook-name` without importing the hook.
    assert conn_type["hook-name"] == RunwayHook.hook_name == "Runway"
    assert conn_type["connection-type"] == RunwayHook.conn_type
    assert conn_type["ui-field-behaviour"]["relabeling"]["password"] == "API key"
    assert set(conn_type["conn-fields"]) == {"flavor", "runway_version", "timeout"}
    jsonschema.validate(get_provider_info(), _airflow_schema("provider_info.schema.json"))


def test_field_behaviour_in_both_spellings_from_one_table() -> None:
    [conn_type] = get_provider_info()["connection-types"]
    provider_spelling = conn_type["ui-field-behaviour"]
    hook_spelling = RunwayHook.get_ui_field_behaviour()
    assert set(provider_spelling) == {"hidden-fields", "relabeling", "placeholders"}
    assert set(hook_spelling) == {"hidden_fields", "relabeling", "placeholders"}
    assert {key.replace("-", "_"): value for key, value in provider_spelling.items()} == hook_spelling
    assert hook_spelling["hidden_fields"] == ["schema", "login", "port"]
    assert hook_spelling["relabeling"] == {"password": "API key", "host": "Base URL (optional)"}
    # Airflow 3.1 validates the classmethod's answer with this schema and drops it when it fails.
    jsonschema.validate(hook_spelling, _airflow_schema("customized_form_field_behaviours.schema.json"))
    hook_spelling["hidden_fields"].clear()  # Airflow rewrites what it is given: each call is a fresh copy
    assert RunwayHook.get_ui_field_behaviour()["hidden_fields"] == ["schema", "login", "port"]


def test_no_field_offers_a_null_choice() -> None:
    [conn_type] = get_provider_info()["connection-types"]
    for name, field in conn_type["conn-fields"].items():
        enum = field["schema"].get("enum", [])
        assert None not in enum and "null" not in enum, name
    assert conn_type["conn-fields"]["flavor"]["schema"]["enum"] == ["cometapi", "runway"]


_UI_METADATA = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
[meta] = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "runway"]
print(json.dumps(meta.model_dump(mode="json")))
"""


@pytest.mark.slow
def test_the_ui_endpoint_serves_the_form_on_this_airflow() -> None:
    """What Airflow's `/ui/connections/hook_meta` sends the browser (3.1: hook classmethods, 3.3: provider info)."""
    run = subprocess.run([sys.executable, "-c", _UI_METADATA], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    meta = json.loads(run.stdout.strip().splitlines()[-1])
    assert meta["hook_name"] == "Runway"
    standard = meta["standard_fields"]
    assert (standard["password"]["title"], standard["host"]["title"]) == ("API key", "Base URL (optional)")
    assert [name for name in ("url_schema", "login", "port", "host") if standard[name]["hidden"]] == [
        "url_schema",
        "login",
        "port",
    ]
    extra = meta["extra_fields"]
    assert set(extra) == {"flavor", "runway_version", "timeout"}
    assert extra["flavor"]["schema"]["enum"] == ["cometapi", "runway"]
    assert extra["flavor"]["value"] == "cometapi"
    assert extra["flavor"]["schema"]["title"] == "API flavor"
    assert all(field["description"] for field in extra.values())


@pytest.mark.slow
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
