"""Everything one running emulator holds, apart from HTTP: state, faults, media, request log.

The HTTP side (``gateway``, ``endpoints``, ``outputs``, ``admin``) reaches it through the
aiohttp application (``request.app[BACKEND]``); nothing here imports those modules, so the
dependencies only ever point one way.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from runway_emulator.config import price_table
from runway_emulator.faults import FaultPlan, FaultSpec
from runway_emulator.media import MediaStore
from runway_emulator.requestlog import RequestLog
from runway_emulator.state import EmulatorState, Task

if TYPE_CHECKING:
    from collections.abc import Mapping

    from runway_emulator.clock import Clock
    from runway_emulator.config import EmulatorConfig
    from runway_emulator.prices import PriceTable


class EmulatorBackend:
    """State, fault plan, output media and request log of one emulator; event loop thread only."""

    def __init__(self, config: EmulatorConfig, clock: Clock = time.time) -> None:
        self.initial_config = config
        self.state = EmulatorState(config, clock)
        self.faults = FaultPlan(config.seed)
        self.faults.update(config.faults)
        self.media = MediaStore()
        self.requests = RequestLog(config.request_log_size)
        self.base_url = f"http://{config.host}:{config.port}"
        # Bumped by reset(): a request delayed across a reset must not act on the new state.
        self.epoch = 0
        self._prices: tuple[Mapping[str, Any], PriceTable] | None = None

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    @property
    def prices(self) -> PriceTable:
        """The price table in force: ``prices.json`` with the config's overrides (rebuilt when they change)."""
        overrides = self.state.config.prices
        if self._prices is None or self._prices[0] is not overrides:
            self._prices = (overrides, price_table(overrides))
        return self._prices[1]

    def set_base_url(self, host: str, port: int) -> None:
        if self.initial_config.public_base_url:
            self.base_url = self.initial_config.public_base_url.rstrip("/")
            return
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        self.base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def reset(self) -> None:
        """Back to the startup state: no tasks, no stats, wall-clock time, startup faults and config."""
        cfg = self.initial_config
        self.epoch += 1
        self.state.reset(cfg)
        self.faults.clear(cfg.seed)
        self.faults.update(cfg.faults)
        self.media.clear()
        self.requests.resize(cfg.request_log_size)
        self.requests.clear()

    def configure(self, changes: dict[str, Any]) -> EmulatorConfig:
        cfg = self.state.config.replace(changes, runtime=True)
        self.state.config = cfg
        self.requests.resize(cfg.request_log_size)
        return cfg

    def take_fault(
        self, kind: str, route: str, method: str, path: str, entry: dict[str, Any] | None
    ) -> FaultSpec | None:
        """Consume one firing of ``kind`` if it applies to this request, and account for it."""
        spec = self.faults.take(kind, route)
        if spec is not None:
            self.state.record_fault(kind, route, method, path)
            if entry is not None:
                entry["faults"].append(kind)
        return spec

    def output_url(self, task: Task, index: int = 0) -> str:
        return self.media.url(self.base_url, task, index, self.state.clock(), self.config.output_ttl_seconds)


BACKEND = web.AppKey("runway_emulator_backend", EmulatorBackend)
