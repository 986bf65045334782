"""Local emulator of Runway's image-to-video API, both as CometAPI's proxy and Runway direct.

Standalone and stdlib-only (it never imports Airflow, so it starts fast); it validates create
bodies with ``airflow_provider_runway.models.validate_body`` so that the provider's client-side
checks and the emulator always agree. See README.md next to this file.

    from airflow_provider_runway.emulator import run_emulator

    with run_emulator(generation_seconds=1) as emu:
        emu.base_url, emu.stats(), emu.set_faults(reset={"count": 1, "route": "create"})

Names are imported lazily: pytest loads ``emulator.pytest_plugin`` (and so this package) at
every start, which must not pay for the server modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.config import ConfigError, EmulatorConfig
    from airflow_provider_runway.emulator.faults import FaultConfigError
    from airflow_provider_runway.emulator.handle import EmulatorAdminError, EmulatorHandle
    from airflow_provider_runway.emulator.runner import Emulator, run_emulator

_EXPORTS = {
    "ConfigError": "config",
    "EmulatorConfig": "config",
    "FaultConfigError": "faults",
    "EmulatorAdminError": "handle",
    "EmulatorHandle": "handle",
    "Emulator": "runner",
    "run_emulator": "runner",
}

__all__ = [
    "ConfigError",
    "Emulator",
    "EmulatorAdminError",
    "EmulatorConfig",
    "EmulatorHandle",
    "FaultConfigError",
    "run_emulator",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
