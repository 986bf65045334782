"""The Runway side of the processes tests: driving emulated tasks and reading what the API saw.

Tests wait for events, not for wall-clock generation time: ``finish_runway_task`` is the one
place that makes a Runway task succeed when a test wants it to.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.models import DEFAULT_RUNWAY_VERSION, FLAVORS, build_image_to_video_body
from airflow_provider_runway.tasks import SUCCEEDED, RunwayTask, parse_created_id, parse_task
from airflow_provider_runway.tasks import TERMINAL_STATUSES as TERMINAL

if TYPE_CHECKING:
    from airflow_provider_runway.emulator import EmulatorHandle

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The provider's requests carry its User-Agent; the test's own carry this one.
PROVIDER_AGENT = "airflow-provider-runway/"
TEST_AGENT = "runway-processes-test"


def finish_runway_task(emulator: EmulatorHandle, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Make the Runway task SUCCEED now (the admin ``complete`` endpoint) and return its stats entry.

    An emulator without that endpoint is waited out: the task then succeeds when its generation
    time (set by the test with ``configure(generation_seconds=...)``) has passed.
    """
    return finish_runway_tasks(emulator, [task_id], timeout)[task_id]


def finish_runway_tasks(
    emulator: EmulatorHandle, task_ids: Iterable[str], timeout: float = 120.0
) -> dict[str, dict[str, Any]]:
    """``finish_runway_task`` for many tasks, reading the emulator's stats once per round."""
    pending = list(task_ids)
    complete = getattr(emulator, "complete", None)
    if complete is not None:
        for task_id in pending:
            complete(task_id)
    deadline = time.monotonic() + timeout
    while True:
        tasks = emulator.stats()["tasks"]
        states = {t: tasks[t]["status"] for t in pending}
        if all(status in TERMINAL for status in states.values()):
            wrong = {t: status for t, status in states.items() if status != SUCCEEDED}
            assert not wrong, f"Runway tasks ended otherwise than SUCCEEDED: {wrong}"
            return {t: dict(tasks[t]) for t in pending}
        running = {t: status for t, status in states.items() if status not in TERMINAL}
        assert time.monotonic() < deadline, f"Runway tasks still going after {timeout:.0f} s: {running}"
        time.sleep(0.2)


def _api_request(
    emulator: EmulatorHandle, flavor: str, suffix: str, api_key: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One call to the flavor's public API, as any client of the account could make it."""
    headers = {
        "Authorization": f"Bearer {api_key}",
        "X-Runway-Version": DEFAULT_RUNWAY_VERSION,
        "User-Agent": TEST_AGENT,
    }
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(emulator.base_url + FLAVORS[flavor].path(suffix), data=data, headers=headers)
    try:
        with _NO_PROXY.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, None


class ThrottledQueue:
    """Hold every new Runway task THROTTLED, then let them all succeed at once.

    Runway runs at most ``maxConcurrentGenerations`` tasks of an account at a time and queues
    the rest as THROTTLED, in order; the emulator models that. One task of the test's own fills
    the account's single slot, so every task created afterwards waits THROTTLED however long the
    test needs; ``release`` widens the limit and shortens generation, and the whole queue then
    starts, and finishes, at once. The test's own task stays RUNNING and is never cancelled.
    """

    def __init__(self, emulator: EmulatorHandle, api_key: str, flavor: str = "cometapi") -> None:
        self.emulator = emulator
        emulator.configure(max_concurrency=1, generation_seconds=86_400.0)
        status, answer = _api_request(
            emulator,
            flavor,
            "image_to_video",
            api_key,
            build_image_to_video_body(prompt_image="https://images.example.org/slot-holder.jpg", flavor=flavor).body,
        )
        assert status == 200, (status, answer)
        self.slot_holder = parse_created_id(answer)

    def release(self) -> None:
        self.emulator.configure(max_concurrency=100_000, generation_seconds=0.001)


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


def cancels_of_finished_tasks(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Cancel/DELETE calls that reached a task already SUCCEEDED/FAILED/CANCELLED.

    On Runway's own API such a DELETE deletes the task and its output (a paid video is gone).
    """
    return [c for c in stats["cancels"]["items"] if c.get("status_before") in TERMINAL]


def deletes_of_finished_tasks(stats: dict[str, Any]) -> int | None:
    """The emulator's own count of DELETEs that destroyed a finished task, where it keeps one."""
    deletes = stats.get("deletes")
    return None if deletes is None else int(deletes["finished"])


def polls_between(stats: dict[str, Any], task_id: str, start: float, end: float = float("inf")) -> int:
    times = stats["polls"]["by_task"].get(task_id, {}).get("times", [])
    return sum(1 for t in times if start <= t < end)
