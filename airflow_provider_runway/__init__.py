"""Apache Airflow provider for Runway generation tasks, through CometAPI or Runway's own API.

Importing this package is deliberately cheap: DAG files import the operator and sensor at
every parse, so nothing here pulls in the HTTP stack (nor Airflow: ``runway/`` is pure).

Rooms (docs/architecture.md): ``runway/`` the API as data and pure functions; ``media/`` inputs and
outputs at rest; ``hooks/`` all HTTP and the connection; ``execution/`` the Airflow glue operators
and the sensor share; ``operators/``, ``sensors/``, ``triggers/``; ``batch/`` planning, budget and
summary of batches.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Any

__version__ = "0.1.0"

# Import paths that moved, kept for one release with a DeprecationWarning: old name -> where it went.
_MOVED_MODULES: dict[str, tuple[str, ...]] = {
    f"{__name__}.errors": (f"{__name__}.runway.errors",),
    f"{__name__}.models": (f"{__name__}.runway.bodies", f"{__name__}.runway.flavors", f"{__name__}.runway.credits"),
    f"{__name__}.budget": (f"{__name__}.batch.budget", f"{__name__}.runway.credit_caps"),
}
_MOVED_PACKAGES: dict[str, str] = {f"{__name__}.emulator": "runway_emulator"}


class _MovedPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the old paths: a moved package is its new module itself (submodules too); a module that
    was split is a stand-in that looks names up where they went."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _MOVED_MODULES and self._package_target(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname in _MOVED_PACKAGES)

    @staticmethod
    def _package_target(fullname: str) -> str | None:
        for old, new in _MOVED_PACKAGES.items():
            if fullname == old or fullname.startswith(f"{old}."):
                return new + fullname[len(old) :]
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        target = self._package_target(spec.name)
        where = target or ", ".join(_MOVED_MODULES[spec.name])
        warnings.warn(f"{spec.name} moved to {where}; the old path goes in the next release", DeprecationWarning, 2)
        if target is not None:
            return importlib.import_module(target)
        homes = [importlib.import_module(name) for name in _MOVED_MODULES[spec.name]]
        stand_in = types.ModuleType(spec.name, f"Moved to {where}.")

        def lookup(name: str) -> Any:
            for home in homes:
                if hasattr(home, name):
                    return getattr(home, name)
            raise AttributeError(f"module {spec.name!r} has no attribute {name!r}")

        stand_in.__getattr__ = lookup  # type: ignore[method-assign]
        return stand_in

    def exec_module(self, module: types.ModuleType) -> None:
        return None


if not any(isinstance(finder, _MovedPaths) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedPaths())

_HOOK = "airflow_provider_runway.hooks.runway.RunwayHook"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""
    from airflow_provider_runway.hooks.connection_form import (
        CONNECTION_TYPE,
        HOOK_NAME,
        conn_fields,
        provider_ui_field_behaviour,
    )

    return {
        "package-name": "airflow-provider-runway",
        "name": "Runway",
        "description": "Runway generation tasks (images, videos, audio) through CometAPI or Runway's own API.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Runway",
                "external-doc-url": "https://docs.dev.runwayml.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "Runway", "python-modules": ["airflow_provider_runway.hooks.runway"]}],
        "operators": [
            {
                "integration-name": "Runway",
                "python-modules": [
                    "airflow_provider_runway.operators.runway",
                    "airflow_provider_runway.operators.generate",
                    "airflow_provider_runway.operators.batch",
                ],
            }
        ],
        "sensors": [{"integration-name": "Runway", "python-modules": ["airflow_provider_runway.sensors.runway"]}],
        "triggers": [
            {
                "integration-name": "Runway",
                "python-modules": ["airflow_provider_runway.triggers.runway", "airflow_provider_runway.triggers.batch"],
            }
        ],
        "extra-links": ["airflow_provider_runway.links.RunwayVideoLink"],
        "connection-types": [
            {
                "hook-class-name": _HOOK,
                "hook-name": HOOK_NAME,
                "connection-type": CONNECTION_TYPE,
                "ui-field-behaviour": provider_ui_field_behaviour(),
                "conn-fields": conn_fields(),
            }
        ],
    }
