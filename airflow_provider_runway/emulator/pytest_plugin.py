"""Moved: opt in with ``pytest_plugins = ["runway_emulator.pytest_plugin"]``; this path warns for one release."""

from __future__ import annotations

from runway_emulator.pytest_plugin import *  # noqa: F403
