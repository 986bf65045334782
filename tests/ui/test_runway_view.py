"""The Runway tab as a person meets it: a batch run's videos playing in the Airflow UI, costs, a failure's code.

A real ``airflow api-server`` (the plugin mounted from its entry point) and a headless Debian
chromium, on whichever Airflow the running interpreter has (``make ui-check`` runs 3.3.2 and 3.1.8).
The batch DAG runs first with ``airflow dags test`` against the emulator, into the server's
metadata DB. The server's auth manager keeps the user ``outsider`` out of the batch DAG.
Screenshots land in ``docs/screenshots/`` for the README.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_provider_runway.ui.routes import RUN_TAB_ROUTE, TASK_TAB_ROUTE
from tests.paths import ROOT
from tests.ui.batch_inputs import BATCH_DAG, BATCH_DAG_ID, SAFETY_PROMPT, batch_conf
from tests.ui.conftest import serve
from tests.ui.dag_scoped_auth import AUTH_MANAGER, DENIALS_ENV
from tests.ui.support import screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Frame, Page, Response

    from tests.ui.support import AirflowServer

pytestmark = pytest.mark.ui

PASSWORDS = {"admin": "ui-check-admin-7d1c", "outsider": "ui-check-outsider-93fa"}  # this test server's only
PLAYING = """() => {
    const video = document.querySelector("video");
    return video !== null && video.readyState >= 3 && video.currentTime > 0;
}"""


def login(url: str, username: str) -> str:
    """The token the UI's login page gets (and keeps in the ``_token`` cookie)."""
    answer = requests.post(
        f"{url}/auth/token", json={"username": username, "password": PASSWORDS[username]}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def view_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    with serve(
        lambda url: login(url, "admin"),
        AIRFLOW__CORE__AUTH_MANAGER=AUTH_MANAGER,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin,outsider:viewer",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        PYTHONPATH=str(ROOT),  # the auth manager above lives in the tests
        **{DENIALS_ENV: f"outsider={BATCH_DAG_ID}"},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def batch_run_id(
    view_server: AirflowServer, runway_emulator_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The batch DAG run into the server's DB: one video made, one refused by Runway, one refused before any call."""
    emulator = runway_emulator_session
    emulator.reset()
    emulator.configure(generation_seconds=1.0, not_visible_seconds=0.3)
    conf = batch_conf(tmp_path_factory.mktemp("batch"))
    env = {
        **view_server.env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(BATCH_DAG.parent),
        "AIRFLOW_CONN_RUNWAY_DEFAULT": json.dumps({"conn_type": "runway", "host": emulator.base_url, "password": "k"}),
        "RUNWAY_POLL_INTERVAL": "0.3",
    }
    command = [sys.executable, "-m", "airflow", "dags", "test", BATCH_DAG_ID, "--conf", json.dumps(conf)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    runs = view_server.api("GET", f"/dags/{BATCH_DAG_ID}/dagRuns").json()["dag_runs"]
    assert len(runs) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return str(runs[0]["dag_run_id"])


def signed_in(browser: Browser, server: AirflowServer, token: str | None) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    if token is not None:
        context.add_cookies([{"name": "_token", "value": token, "url": server.url}])
    return context


def runway_frame(page: Page) -> Frame:
    """The tab's iframe, once its page (served by the plugin) has loaded."""
    iframe = page.locator("iframe[title='Runway']")
    page.frame_locator("iframe[title='Runway']").locator("h1").wait_for()
    frame = iframe.element_handle().content_frame()
    assert frame is not None and "/runway/dags/" in frame.url, [f.url for f in page.frames]
    return frame


def open_tab(page: Page, url: str, route: str) -> Frame:
    """Open a page of the UI, click its Runway tab as a user would, and return the tab's frame."""
    page.goto(url)
    page.get_by_role("link", name=re.compile(r"^Runway$")).or_(page.get_by_role("tab", name="Runway")).first.click()
    page.wait_for_url(re.compile(rf"/plugin/{route}"))
    return runway_frame(page)


def test_the_run_tab_plays_the_batch_videos_with_costs_and_failure_codes(
    view_server: AirflowServer, batch_run_id: str, browser: Browser
) -> None:
    context = signed_in(browser, view_server, view_server.token)
    page = context.new_page()
    page.set_default_timeout(60_000)
    media: list[Response] = []
    page.on("response", lambda r: media.append(r) if "/output?" in r.url else None)
    frame = open_tab(page, f"{view_server.url}/dags/{BATCH_DAG_ID}/runs/{batch_run_id}", RUN_TAB_ROUTE)

    totals = dict(re.findall(r'data-total="(\w+)"><b>([^<]+)</b>', frame.content()))
    assert (totals["made"], totals["skipped"], totals["failed"]) == ("1", "0", "2")
    assert float(totals["credits"]) > 0
    assert frame.locator("[data-failure-code='SAFETY.INPUT.TEXT']").is_visible()
    assert frame.locator("[data-failure-code='INVALID_INPUT']").is_visible()
    assert frame.get_by_text(SAFETY_PROMPT).is_visible()

    frame.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    frame.wait_for_function(PLAYING)
    ranged = [r for r in media if r.status == 206]
    assert ranged, [(r.status, r.url) for r in media]
    assert ranged[0].request.headers.get("range", "").startswith("bytes=")
    assert "content-encoding" not in ranged[0].headers  # not gzipped by the API server's middleware
    frame.evaluate("() => { const v = document.querySelector('video'); v.pause(); v.currentTime = 1; }")
    screenshot(page, f"runway-run-tab-airflow-{view_server.version}.png")
    context.close()


def test_the_extra_link_opens_the_task_instance_tab(
    view_server: AirflowServer, batch_run_id: str, browser: Browser
) -> None:
    links = view_server.api(
        "GET", f"/dags/{BATCH_DAG_ID}/dagRuns/{batch_run_id}/taskInstances/videos/links", params={"map_index": 0}
    ).json()["extra_links"]
    link = links["Runway video"]
    assert link.endswith(f"/tasks/videos/mapped/0/plugin/{TASK_TAB_ROUTE}") and not link.startswith("/")
    context = signed_in(browser, view_server, view_server.token)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{view_server.url}/{link}")
    frame = runway_frame(page)
    frame.locator("video").wait_for()
    assert frame.locator("article").count() == 3  # the chunk's three pictures
    screenshot(page, f"runway-task-tab-airflow-{view_server.version}.png")
    context.close()


def test_a_user_without_access_to_the_dag_is_refused(
    view_server: AirflowServer, batch_run_id: str, browser: Browser
) -> None:
    view = f"{view_server.url}/runway/dags/{BATCH_DAG_ID}/runs/{batch_run_id}"
    for token, status in ((None, 401), (login(view_server.url, "outsider"), 403)):
        context = signed_in(browser, view_server, token)
        answer = context.new_page().goto(view)
        assert answer is not None and answer.status == status
        context.close()
