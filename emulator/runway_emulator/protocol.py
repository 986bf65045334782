"""Names the emulated APIs use on the wire: the two flavors, their path prefixes, task statuses.

The emulator's own copy (it never imports the provider): statuses as Runway's SDK types them
(``types/task_retrieve_response.py``), prefixes as each API serves them.
"""

from __future__ import annotations

RUNWAY = "runway"
COMETAPI = "cometapi"
FLAVORS = (COMETAPI, RUNWAY)
PATH_PREFIXES = {RUNWAY: "/v1", COMETAPI: "/runwayml/v1"}

PENDING = "PENDING"
THROTTLED = "THROTTLED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})
