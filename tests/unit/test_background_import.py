"""ImportOnce: one import per process, off the event loop, shared by every caller."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_runway.triggers.background_import import ImportOnce

SLOW_MODULE = """
import threading, time
imported_in = threading.current_thread().name
time.sleep(0.3)
"""


@pytest.fixture
def slow_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"runway_slow_import_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(SLOW_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_callers_share_one_import_in_its_own_thread_and_one_giving_up_cancels_nothing(slow_module: str) -> None:
    once = ImportOnce(slow_module)

    async def callers() -> list[object]:
        quitter = asyncio.ensure_future(asyncio.wrap_future(once.future()))
        stayers = [asyncio.wrap_future(once.future()) for _ in range(20)]
        await asyncio.sleep(0.05)
        quitter.cancel()  # a trigger killed while the import still runs
        ticks = 0
        while not all(s.done() for s in stayers):
            await asyncio.sleep(0.01)  # the loop keeps running during the import
            ticks += 1
        assert ticks >= 10
        return [await s for s in stayers]

    modules = asyncio.run(callers())
    imported = sys.modules[slow_module]
    assert {id(m) for m in modules} == {id(imported)}
    assert imported.imported_in == f"import {slow_module}"
    assert imported.imported_in != threading.main_thread().name
    assert once.future() is once.future()  # done: later callers get the same module at once


def test_a_failed_import_is_tried_again_by_the_next_caller() -> None:
    once = ImportOnce("runway_no_such_module")
    first = once.future()

    async def caller() -> object:
        return await asyncio.wait_for(asyncio.wrap_future(first), 10)

    with pytest.raises(ModuleNotFoundError, match="runway_no_such_module"):
        asyncio.run(caller())
    second = once.future()
    assert second is not first
    with pytest.raises(ModuleNotFoundError):
        second.result(timeout=10)
