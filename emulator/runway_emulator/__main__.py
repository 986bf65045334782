"""``python -m runway_emulator``: same as the ``runway-emulator`` script."""

from __future__ import annotations

import sys

from runway_emulator.cli import main

sys.exit(main())
