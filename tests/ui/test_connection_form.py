"""The ``runway`` connection as a user meets it: Admin → Connections → Add, Save, Test.

Runs against a real ``airflow api-server`` in a headless system chromium, on whichever Airflow
the running interpreter has (``make ui-check`` runs it on 3.3.2 and 3.1.8). Screenshots land in
``docs/screenshots/`` for the README.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from packaging.version import Version

from airflow_provider_runway.hooks.connection_form import HOOK_NAME, conn_fields
from airflow_provider_runway.runway.flavors import FLAVORS
from tests.ui.support import screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Response
    from runway_emulator import EmulatorHandle

    from tests.ui.support import AirflowServer

pytestmark = pytest.mark.ui

UI_API_KEY = "ui-check-key-0b7e4d2a9c1f"  # only the local emulator accepts it
HIDDEN_STANDARD_FIELDS = ("Schema", "Login", "Port")
# The placeholder's rendered width against the input's content box, in the input's own font.
PLACEHOLDER_FITS = """el => {
    const style = getComputedStyle(el);
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return ctx.measureText(el.placeholder).width <= room;
}"""


def portless_test_rejected(version: str) -> bool:
    """Whether the UI's Test button fails for a connection without a port on this Airflow.

    The UI posts ``port: Number(null) == 0``; apache/airflow#69957 (shipped in 3.3.1) refuses a test
    whose host or port differs from the stored connection, and ``0`` differs from NULL. Fixed by
    apache/airflow#73298, merged after 3.3.2 was released.
    """
    return Version("3.3.1") <= Version(version) <= Version("3.3.2")


def open_add_connection(page: Page, server: AirflowServer) -> None:
    page.goto(server.url + "/")
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.get_by_role("button", name="Add Connection").click()


def choose_runway_type(page: Page) -> list[str]:
    """Pick the connection type the way a user does: type "runway", pick the one entry offered."""
    combo = page.get_by_role("combobox", name="Connection Type")
    combo.click()
    combo.fill("runway")
    page.get_by_role("option").first.wait_for()
    offered = page.get_by_role("option").all_inner_texts()
    assert offered == [HOOK_NAME], f"type list offers {offered}"
    page.get_by_role("option", name=HOOK_NAME, exact=True).click()
    return offered


def open_extra_fields(page: Page) -> None:
    page.get_by_text("Extra Fields", exact=True).click()
    page.get_by_role("combobox", name="API flavor").wait_for()


def test_add_form_shows_the_runway_form(airflow_server: AirflowServer, page: Page) -> None:
    version = airflow_server.version
    open_add_connection(page, airflow_server)
    page.get_by_label("Connection ID").fill("runway_default")
    offered = choose_runway_type(page)
    assert offered == [HOOK_NAME] == ["Runway"]
    dialog = page.get_by_role("dialog")

    base_url = dialog.get_by_label("Base URL (optional)")
    api_key = dialog.get_by_label("API key")
    assert base_url.is_visible() and api_key.is_visible()
    assert api_key.get_attribute("type") == "password"
    for field in (base_url, api_key):
        assert field.get_attribute("placeholder")
        assert field.evaluate(PLACEHOLDER_FITS), f"placeholder cut off: {field.get_attribute('placeholder')!r}"
    for hidden in (*HIDDEN_STANDARD_FIELDS, "Host", "Password"):
        assert dialog.get_by_text(hidden, exact=True).count() == 0, f"{hidden} should be hidden or relabelled"
    screenshot(dialog, f"connection-form-airflow-{version}.png")

    open_extra_fields(page)
    for field in conn_fields().values():
        assert dialog.get_by_text(field["label"], exact=True).is_visible()
        assert dialog.get_by_text(field["description"], exact=True).is_visible()
    assert dialog.get_by_text("cometapi", exact=True).filter(visible=True).count() == 1  # preselected default
    # Airflow names each extra input `element_<extra key>`; the defaults are prefilled.
    assert dialog.locator('input[name="element_runway_version"]').input_value() == "2024-11-06"
    assert dialog.locator('input[name="element_timeout"]').input_value() == "60"
    screenshot(dialog, f"connection-extra-fields-airflow-{version}.png")
    dialog.get_by_role("combobox", name="API flavor").click()
    flavors = page.get_by_role("option").all_inner_texts()
    assert flavors == list(FLAVORS) == ["cometapi", "runway"]  # no literal "null" choice


def save_connection(page: Page, server: AirflowServer, conn_id: str, base_url: str) -> None:
    open_add_connection(page, server)
    page.get_by_label("Connection ID").fill(conn_id)
    choose_runway_type(page)
    page.get_by_label("Base URL (optional)").fill(base_url)
    page.get_by_label("API key").fill(UI_API_KEY)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections") and r.request.method == "POST") as saved:
        page.get_by_role("button", name="Save").click()
    assert saved.value.status == 201, saved.value.text()
    page.get_by_role("row").filter(has_text=conn_id).wait_for()
    # Let the "created" toast go so the Test answer is the only one on the page.
    page.get_by_role("status").wait_for(state="detached", timeout=60_000)


def press_test(page: Page, conn_id: str) -> tuple[Request, Response]:
    row = page.get_by_role("row").filter(has_text=conn_id)
    with page.expect_response("**/api/v2/connections/test", timeout=90_000) as answered:
        row.get_by_role("button", name="Test Connection").click()
    return answered.value.request, answered.value


def toast_text(page: Page, title: str) -> str:
    """The text of the toast titled ``title``, once it has finished sliding in."""
    toast = page.get_by_role("status").filter(has_text=title)
    toast.wait_for()
    toast.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished))")
    return toast.inner_text()


def stored_connection(server: AirflowServer, conn_id: str) -> dict[str, Any]:
    answer = server.api("GET", f"/connections/{conn_id}")
    answer.raise_for_status()
    stored: dict[str, Any] = answer.json()
    return stored


def test_saved_connection_and_test_button(
    airflow_server: AirflowServer, page: Page, runway_emulator: EmulatorHandle
) -> None:
    version = airflow_server.version
    conn_id = "runway_ui_check"
    runway_emulator.configure(api_key=UI_API_KEY)
    save_connection(page, airflow_server, conn_id, runway_emulator.base_url)

    stored = stored_connection(airflow_server, conn_id)
    assert (stored["conn_type"], stored["host"], stored["port"]) == ("runway", runway_emulator.base_url, None)
    assert json.loads(stored["extra"]) == {"flavor": "cometapi", "runway_version": "2024-11-06", "timeout": 60}
    assert stored["password"] == "***"

    page.set_viewport_size({"width": 1280, "height": 480})  # keeps the row and the answer's toast close
    sent, answer = press_test(page, conn_id)
    assert json.loads(sent.post_data or "{}")["port"] == 0  # Number(null) in the UI, on 3.1 and 3.3
    if portless_test_rejected(version):
        assert answer.status == 400
        assert "differs from the stored connection" in answer.json()["detail"]
        assert "Bad Request" in toast_text(page, "Test Connection Failed")
        assert runway_emulator.requests() == []  # refused before the provider was asked
    else:
        assert answer.status == 200 and answer.json()["status"] is True, answer.text()
        toast_text(page, "Connection success")
        assert [r["auth_matches_pinned_key"] for r in runway_emulator.requests()] == [True]
    screenshot(page, f"connection-test-airflow-{version}.png")

    # The workarounds the README gives, on every version: the REST call without `port`, and the CLI.
    runway_emulator.clear_requests()
    rest = airflow_server.api("POST", "/connections/test", json={"connection_id": conn_id, "conn_type": "runway"})
    assert rest.status_code == 200 and rest.json()["status"] is True, rest.text
    cli = airflow_server.airflow("connections", "test", conn_id)
    assert "Connection success!" in cli.stdout, cli.stdout + cli.stderr[-2000:]
    assert UI_API_KEY not in cli.stdout + cli.stderr
    assert [r["auth_matches_pinned_key"] for r in runway_emulator.requests()] == [True, True]
