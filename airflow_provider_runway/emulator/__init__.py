"""Moved: the emulator is its own distribution, ``runway-emulator`` (``import runway_emulator``).

This re-export keeps old imports working for one release, with a warning.
Install it with ``pip install "airflow-provider-runway[emulator]"``.
"""

from __future__ import annotations

import warnings

warnings.warn(
    "airflow_provider_runway.emulator moved to the runway-emulator distribution: import runway_emulator instead",
    DeprecationWarning,
    stacklevel=2,
)

from runway_emulator import *  # noqa: E402, F403
from runway_emulator import __all__ as __all__  # noqa: E402
