"""Import a heavy module off an event loop, once per process."""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import Future
from types import ModuleType


class ImportOnce:
    """One import of a module per process, run in a thread of its own the first time it is needed.

    Every caller awaits the same future (``asyncio.wrap_future(once.future())``): one that comes
    while the import still runs gets the finished module, never a half-built one from
    ``sys.modules``; none holds a thread of the loop's default executor meanwhile (Airflow's own
    async logging runs there); a caller that gives up does not cancel it for the others. A failed
    import is tried again by the next caller.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._future: Future[ModuleType] | None = None

    def future(self) -> Future[ModuleType]:
        with self._lock:
            if self._future is None or (self._future.done() and self._future.exception() is not None):
                self._future = Future()
                self._future.set_running_or_notify_cancel()  # a waiter that gives up cannot cancel it
                threading.Thread(
                    target=self._run, args=(self._future,), name=f"import {self.name}", daemon=True
                ).start()
            return self._future

    def _run(self, future: Future[ModuleType]) -> None:
        try:
            future.set_result(importlib.import_module(self.name))
        except BaseException as err:  # handed to every caller
            future.set_exception(err)


# The first import of the HTTP stack (aiohttp and the hook, ~0.3 s) on the triggerer's event loop
# would stall every trigger there: every Runway trigger awaits this one import instead.
HOOK_MODULE = "airflow_provider_runway.hooks.runway"
HOOK_IMPORT = ImportOnce(HOOK_MODULE)
