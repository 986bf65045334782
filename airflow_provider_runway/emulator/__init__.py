"""Local emulator of Runway's generation API, both as CometAPI's proxy and Runway direct.

Standalone (it never imports Airflow, so it starts fast), served with aiohttp; it validates
create bodies with ``airflow_provider_runway.models.validate_body`` so that the provider's
client-side checks and the emulator always agree. See README.md next to this file.

    from airflow_provider_runway.emulator import run_emulator

    with run_emulator(generation_seconds=1) as emu:
        emu.base_url, emu.stats(), emu.set_faults(reset={"count": 1, "route": "create"})

pytest fixtures are opt-in: ``pytest_plugins = ["airflow_provider_runway.emulator.pytest_plugin"]``.
"""

from __future__ import annotations

from airflow_provider_runway.emulator.config import ConfigError, EmulatorConfig
from airflow_provider_runway.emulator.faults import FaultConfigError
from airflow_provider_runway.emulator.handle import EmulatorAdminError, EmulatorHandle
from airflow_provider_runway.emulator.runner import Emulator, run_emulator

__all__ = [
    "ConfigError",
    "Emulator",
    "EmulatorAdminError",
    "EmulatorConfig",
    "EmulatorHandle",
    "FaultConfigError",
    "run_emulator",
]
