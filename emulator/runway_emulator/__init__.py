"""Local emulator of Runway's generation API, both as CometAPI's proxy and Runway direct.

Standalone (it never imports Airflow nor the provider it tests), served with aiohttp. It checks
create bodies against the official ``runwayml`` SDK's request types (``oracle``) and prices
tasks with its own table (``prices.json``), so a provider is checked against the API as the SDK
defines it, never against itself. See README.md next to this file.

    from runway_emulator import run_emulator

    with run_emulator(generation_seconds=1) as emu:
        emu.base_url, emu.stats(), emu.set_faults(reset={"count": 1, "route": "create"})

pytest fixtures are opt-in: ``pytest_plugins = ["runway_emulator.pytest_plugin"]``.
"""

from __future__ import annotations

from runway_emulator.config import ConfigError, EmulatorConfig
from runway_emulator.faults import FaultConfigError
from runway_emulator.handle import EmulatorAdminError, EmulatorHandle
from runway_emulator.runner import Emulator, run_emulator

__all__ = [
    "ConfigError",
    "Emulator",
    "EmulatorAdminError",
    "EmulatorConfig",
    "EmulatorHandle",
    "FaultConfigError",
    "run_emulator",
]
