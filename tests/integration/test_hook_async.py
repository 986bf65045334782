"""The trigger's HTTP path: one aiohttp session per event loop, bounded, closed when the loop ends."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from airflow_provider_runway.hooks.async_http import MAX_IN_FLIGHT
from airflow_provider_runway.hooks.runway import RunwayHook
from airflow_provider_runway.runway.errors import RunwayTaskNotVisibleError, RunwayTransportError, TransportFailure
from airflow_provider_runway.runway.retry_policy import RetryPolicy

if TYPE_CHECKING:
    from runway_emulator.pytest_plugin import RunwayTestConnection

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
FAST = RetryPolicy(max_retries=2, initial_delay=0.05, max_delay=0.1, jitter=0.1)

pytestmark = [pytest.mark.integration, pytest.mark.runway_connection("runway")]


def create_tasks(count: int) -> list[str]:
    hook = RunwayHook(retry_policy=FAST)
    body = {"promptImage": CAT, "model": "gen4_turbo", "ratio": "1280:720"}
    return [hook.create_task("image_to_video", body) for _ in range(count)]


class LeakWatch:
    """Collects what an unclosed aiohttp session or connector reports when it is garbage collected."""

    def __init__(self) -> None:
        self.reports: list[str] = []

    def run(self, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        handler = logging.Handler()
        handler.emit = lambda record: self.reports.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("asyncio").addHandler(handler)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = asyncio.run(main())
                gc.collect()
            self.reports += [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
        finally:
            logging.getLogger("asyncio").removeHandler(handler)
        return result

    @property
    def unclosed(self) -> list[str]:
        return [r for r in self.reports if "Unclosed" in r]


@pytest.fixture
def leak_watch() -> Iterator[LeakWatch]:
    yield LeakWatch()


@pytest.mark.runway_emulator(generation_seconds=60, not_visible_seconds=0)
def test_500_concurrent_polls_share_one_bounded_session_that_closes_with_the_loop(
    runway_connection: RunwayTestConnection, leak_watch: LeakWatch
) -> None:
    """Hundreds of waits on one loop: every poll happens, never more than the bound in flight, no leak."""
    ids = create_tasks(25)
    hooks = [RunwayHook(retry_policy=FAST) for _ in range(500)]

    async def poll_twice() -> tuple[list[str], Any, int]:
        seen: list[str] = []
        for _ in range(2):
            tasks = await asyncio.gather(*(h.aget_task(ids[i % len(ids)]) for i, h in enumerate(hooks)))
            seen += [t.status for t in tasks]
        stats = RunwayHook.async_pool_stats()
        return seen, stats, len({id(h) for h in hooks})

    seen, stats, distinct_hooks = leak_watch.run(poll_twice)
    assert distinct_hooks == 500
    assert set(seen) <= {"PENDING", "THROTTLED", "RUNNING"}, set(seen)
    assert len(seen) == 1000
    assert runway_connection.emulator.stats()["polls"]["count"] == 1000
    assert stats.completed == 1000
    # 500 polls start at once: the bound is reached and never passed.
    assert stats.peak_in_flight == stats.limit == MAX_IN_FLIGHT
    assert stats.in_flight == 0
    assert leak_watch.unclosed == []


def test_the_leak_watch_does_see_an_unclosed_session(leak_watch: LeakWatch) -> None:
    async def leak() -> None:
        aiohttp.ClientSession()  # never closed

    leak_watch.run(leak)
    assert any("Unclosed client session" in r for r in leak_watch.unclosed)


def test_polls_from_many_hooks_reuse_few_connections(runway_connection: RunwayTestConnection) -> None:
    ids = create_tasks(3)

    async def poll_all() -> Any:
        hooks = [RunwayHook(retry_policy=FAST) for _ in ids]
        first = None
        for _ in range(3):
            await asyncio.gather(*(h.aget_task(i) for h, i in zip(hooks, ids, strict=True)))
            first = first or RunwayHook.async_pool_stats()
        return first is RunwayHook.async_pool_stats()

    assert asyncio.run(poll_all()) is True
    connections = {r.get("connection") for r in runway_connection.emulator.requests() if r["method"] == "GET"}
    assert len(connections) <= 3  # 9 polls from 3 hooks


def test_aclose_closes_now_and_the_next_call_opens_a_new_session(
    runway_connection: RunwayTestConnection, leak_watch: LeakWatch
) -> None:
    [task_id] = create_tasks(1)

    async def main() -> tuple[bool, bool]:
        hook = RunwayHook(retry_policy=FAST)
        await hook.aget_task(task_id)
        before = RunwayHook.async_pool_stats()
        await hook.aclose()
        closed_now = RunwayHook.async_pool_stats() is None
        await hook.aget_task(task_id)
        return closed_now, RunwayHook.async_pool_stats() is not before

    assert leak_watch.run(main) == (True, True)
    assert leak_watch.unclosed == []


def test_each_event_loop_gets_its_own_session_and_forgets_it_at_its_end(
    runway_connection: RunwayTestConnection,
) -> None:
    [task_id] = create_tasks(1)
    clients: list[weakref.ref[Any]] = []

    async def stats_after_a_poll() -> int:
        await RunwayHook(retry_policy=FAST).aget_task(task_id)
        stats = RunwayHook.async_pool_stats()
        assert stats is not None
        clients.append(weakref.ref(stats))  # lives exactly as long as the loop's client
        return stats.completed

    # A fresh loop starts from a fresh session whose counters start at zero.
    assert [asyncio.run(stats_after_a_poll()) for _ in range(2)] == [1, 1]
    gc.collect()
    assert [ref() for ref in clients] == [None, None]  # an ended loop's client is not kept


@pytest.mark.runway_connection("cometapi")
@pytest.mark.runway_emulator(not_visible_seconds=30)
def test_async_errors_map_like_the_sync_path(runway_connection: RunwayTestConnection) -> None:
    task_id = RunwayHook(retry_policy=FAST).create_task("image_to_video", {"promptImage": CAT, "model": "gen3a_turbo"})

    async def poll() -> None:
        await RunwayHook(retry_policy=FAST).aget_task(task_id)

    with pytest.raises(RunwayTaskNotVisibleError):
        asyncio.run(poll())


def test_async_transport_failures_are_classified_by_type(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("AIRFLOW_CONN_RUNWAY_DEFAULT", '{"conn_type": "runway", "host": "127.0.0.1:9", "password": "k"}')
    with socket.socket() as sock:  # port 9 is not listening on the test machine's loopback
        assert sock.connect_ex(("127.0.0.1", 9)) != 0

    async def poll() -> None:
        await RunwayHook(retry_policy=RetryPolicy(max_retries=0)).aget_task("some-task")

    with pytest.raises(RunwayTransportError) as caught:
        asyncio.run(poll())
    assert caught.value.failure is TransportFailure.REFUSED
    assert str(caught.value) == "GET /runwayml/v1/tasks/some-task: connection refused by 127.0.0.1"
