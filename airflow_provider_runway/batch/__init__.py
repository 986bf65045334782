"""Batches of pictures: what to make (``planning``), what it may cost (``budget``), what was made (``summary``).

Rule: may import ``runway/`` and ``media/``; reads and writes only names and plain records, never
an item's bytes (each item's task reads its own input).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# ``airflow_provider_runway.batch`` was one module; its names keep working for one release.
_FORMER_HOMES = ("planning", "budget", "summary")


def __getattr__(name: str) -> Any:
    for home in _FORMER_HOMES:
        module = importlib.import_module(f"{__name__}.{home}")
        if hasattr(module, name) and not name.startswith("_"):
            warnings.warn(
                f"{__name__}.{name} moved to {__name__}.{home}.{name}; the old path goes in the next release",
                DeprecationWarning,
                2,
            )
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
