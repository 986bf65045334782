"""``python -m airflow_provider_runway.emulator``: same as the ``runway-emulator`` script."""

from __future__ import annotations

import sys

from airflow_provider_runway.emulator.cli import main

sys.exit(main())
