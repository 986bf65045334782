"""The Airflow API server the browser checks drive, and their screenshots (no fixtures here)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class AirflowServer:
    """An ``airflow api-server`` on 127.0.0.1 with its own AIRFLOW_HOME and metadata DB."""

    url: str
    env: dict[str, str]
    version: str
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the REST API (``/api/v2`` + path) as the all-admins user, like a script with a token would."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=90, **kwargs)

    def airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` CLI against this server's home (same DB, same config)."""
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=self.env, timeout=180
        )


def screenshot(target: Page | Locator, name: str, **kwargs: Any) -> Path:
    """Save a PNG of a page or of one element (e.g. the dialog) under docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    target.screenshot(path=str(path), **kwargs)
    return path
