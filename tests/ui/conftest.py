"""A real Airflow API server and a headless Debian chromium for the connection-form check.

The check runs only when selected (``pytest -m ui``, or ``make ui-check``), and skips when the
system browser or Playwright's Python package is missing. Playwright drives ``/usr/bin/chromium``;
it never downloads a browser of its own.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.ui.support import AirflowServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 240.0


def _why_not_runnable(config: pytest.Config) -> str | None:
    # A browser and an API server are too slow for every run: only an explicit `-m ui` selects them.
    if not config.getoption("markexpr"):
        return "browser check: run with `make ui-check` or `pytest -m ui`"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (apt-get install chromium, or `make ui-check`)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright not installed (uv sync --group ui, or `make ui-check`)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _why_not_runnable(config)
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("ui"):
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(home: Path, port: int, overrides: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        # SimpleAuthManager (the default on 3.1 and 3.3) without a login page: everyone is admin.
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(overrides)
    return env


def _wait_until_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow api-server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"airflow api-server not healthy after {SERVER_START_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")


def all_admins_token(url: str) -> str:
    """With all-admins, GET /auth/token hands out a token without credentials (3.1 and 3.3)."""
    return str(requests.get(f"{url}/auth/token", timeout=30).json()["access_token"])


@contextmanager
def serve(token: Callable[[str], str], **overrides: str) -> Iterator[AirflowServer]:
    """Migrate a throw-away metadata DB, then serve the UI (env ``overrides``) until the block ends.

    ``token`` gets the admin's token from the running server (``AirflowServer.token``).
    """
    import airflow

    home = Path(tempfile.mkdtemp(prefix="runway-ui-airflow-"))
    (home / "dags").mkdir()
    port = _free_port()
    env = _server_env(home, port, {k: v.replace("{home}", str(home)) for k, v in overrides.items()})
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=env)
    log = home / "api-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "-H", "127.0.0.1", "-p", str(port), "--workers", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, proc, log)
        yield AirflowServer(url=url, env=env, version=airflow.__version__, token=token(url))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_server() -> Iterator[AirflowServer]:
    """An API server where everyone is admin (no login page)."""
    with serve(all_admins_token) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
