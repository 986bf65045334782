"""Create, poll and finish tasks over HTTP, on either flavor, without waiting on a wall clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runway_emulator.protocol import PATH_PREFIXES
from runway_emulator.task_endpoints import endpoint_named

from tests.emulator.support import headers

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle


def create_answer(
    http: requests.Session, emu: EmulatorHandle, endpoint: str, flavor: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The create's JSON answer (it must be a 200)."""
    resp = http.post(emu.url(endpoint_named(endpoint).paths[flavor]), json=body, headers=headers())
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def create(http: requests.Session, emu: EmulatorHandle, endpoint: str, flavor: str, body: dict[str, Any]) -> str:
    return str(create_answer(http, emu, endpoint, flavor, body)["id"])


def poll(http: requests.Session, emu: EmulatorHandle, flavor: str, task_id: str) -> dict[str, Any]:
    resp = http.get(emu.url(f"{PATH_PREFIXES[flavor]}/tasks/{task_id}"), headers=headers())
    assert resp.status_code == 200, resp.text
    task: dict[str, Any] = resp.json()
    return task


def finish(
    http: requests.Session, emu: EmulatorHandle, endpoint: str, flavor: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create, complete through the admin API (no waiting), poll: the SUCCEEDED bare task."""
    emu.configure(not_visible_seconds=0, comet_poll_shape="bare")
    task_id = create(http, emu, endpoint, flavor, body)
    assert poll(http, emu, flavor, task_id)["status"] in ("PENDING", "THROTTLED", "RUNNING")
    emu.complete(task_id)
    task = poll(http, emu, flavor, task_id)
    assert task["status"] == "SUCCEEDED", task
    return task
