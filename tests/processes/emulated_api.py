"""The Runway side of the processes tests: driving emulated tasks and reading what the API saw.

Tests wait for events, not for wall-clock generation time: emulated tasks run for an hour unless
the test finishes them, and ``finish_runway_task`` is the one place that does.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.runway.flavors import DEFAULT_RUNWAY_VERSION, FLAVORS
from airflow_provider_runway.runway.poll_schedule import PollSchedule
from airflow_provider_runway.runway.remote_task import SUCCEEDED, RunwayTask, parse_task

if TYPE_CHECKING:
    from runway_emulator import EmulatorHandle

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The provider's requests carry its User-Agent; the test's own carry this one.
PROVIDER_AGENT = "airflow-provider-runway/"
TEST_AGENT = "runway-processes-test"
# Generation time of emulated tasks: no test waits it out, each finishes its tasks when it wants.
RUNS_UNTIL_FINISHED = 3600.0


def finish_runway_task(emulator: EmulatorHandle, task_id: str) -> dict[str, Any]:
    """Make the Runway task SUCCEED now (the emulator's admin ``complete``) and return its stats entry."""
    return finish_runway_tasks(emulator, [task_id])[task_id]


def finish_runway_tasks(emulator: EmulatorHandle, task_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``finish_runway_task`` for many tasks, checked with one read of the emulator's stats."""
    wanted = list(task_ids)
    for task_id in wanted:
        emulator.complete(task_id)
    tasks = emulator.stats()["tasks"]
    wrong = {t: tasks[t]["status"] for t in wanted if tasks[t]["status"] != SUCCEEDED}
    assert not wrong, f"Runway tasks not SUCCEEDED after complete: {wrong}"
    return {t: dict(tasks[t]) for t in wanted}


def _api_request(emulator: EmulatorHandle, flavor: str, suffix: str, api_key: str) -> tuple[int, Any]:
    """One GET of the flavor's public API, as any client of the account could make it."""
    headers = {
        "Authorization": f"Bearer {api_key}",
        "X-Runway-Version": DEFAULT_RUNWAY_VERSION,
        "User-Agent": TEST_AGENT,
    }
    request = urllib.request.Request(emulator.base_url + FLAVORS[flavor].path(suffix), headers=headers)
    try:
        with _NO_PROXY.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, None


def get_task(emulator: EmulatorHandle, flavor: str, task_id: str, api_key: str) -> tuple[int, RunwayTask | None]:
    """One GET of the task through the flavor's public API."""
    status, answer = _api_request(emulator, flavor, f"tasks/{task_id}", api_key)
    return status, parse_task(answer, task_id) if status == 200 else None


def download(url: str) -> tuple[int, bytes]:
    """GET an output URL: (status, body)."""
    try:
        with _NO_PROXY.open(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def is_mp4(data: bytes) -> bool:
    return len(data) > 1000 and data[4:8] == b"ftyp"


def provider_requests(
    emulator: EmulatorHandle, task_id: str, start: float = 0.0, end: float = float("inf")
) -> list[dict[str, Any]]:
    """Requests about one task that the provider (not the test) sent in [start, end)."""
    return [
        r
        for r in emulator.requests()
        if task_id in r["path"]
        and start <= r["at"] < end
        and any(k.lower() == "user-agent" and v.startswith(PROVIDER_AGENT) for k, v in r["headers"].items())
    ]


def deletes_of(emulator: EmulatorHandle, task_id: str) -> list[int]:
    """HTTP statuses of every DELETE of the task the API received (oldest first)."""
    return [r["status"] for r in emulator.requests() if r["method"] == "DELETE" and task_id in r["path"]]


def deletes_of_finished_tasks(stats: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    """DELETEs that reached the task after it had finished.

    On Runway's own API such a DELETE deletes the task and its output (a paid video is gone).
    """
    return [d for d in stats["deletes"]["items"] if d["task_id"] == task_id and d["finished"]]


def next_poll_in(task_id: str, poll_interval: float, last_poll_at: float, now: float) -> float:
    """Seconds until the provider's next poll of the task: every wait polls on the task's grid."""
    return PollSchedule(task_id, poll_interval).next_poll_at(now, last_poll_at) - now


def polls_between(stats: dict[str, Any], task_id: str, start: float, end: float = float("inf")) -> int:
    times = stats["polls"]["by_task"].get(task_id, {}).get("times", [])
    return sum(1 for t in times if start <= t < end)
