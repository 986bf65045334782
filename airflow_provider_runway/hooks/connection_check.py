"""What the connection form's Test button says: one real call, and in plain words what is wrong.

Kept beside the hook, not in it: the hook is the HTTP client; this reads its errors for a person.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from airflow_provider_runway.runway.errors import (
    ConnectionConfigError,
    MalformedResponseError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.runway.flavors import RUNWAY

if TYPE_CHECKING:
    from airflow_provider_runway.hooks.runway import RunwayHook

NO_SUCH_TASK = "00000000-0000-0000-0000-000000000000"


def connection_check(probe: RunwayHook) -> tuple[bool, str]:
    """``(ok, message)`` for Airflow's connection test, from one call through ``probe`` (a hook that does not retry)."""
    try:
        settings = probe.settings
    except ConnectionConfigError as err:
        return False, f"The connection is not usable: {err.problem}"
    try:
        if settings.flavor.name == RUNWAY:
            balance = probe.get_organization().get("creditBalance")
            return True, f"Connected to Runway at {settings.base_url}; credit balance {balance}"
        # A made-up id must come back as "not found": then key and path are right.
        with contextlib.suppress(RunwayTaskNotVisibleError, RunwayTaskNotFoundError):
            probe.get_task(NO_SUCH_TASK)
        return True, f"Connected to CometAPI at {settings.base_url}"
    except RunwayAuthError as err:
        return False, f"The API key was rejected ({err.status_code}): {err.api_message}"
    except RunwayAPIError as err:
        hint = "Wrong host or flavor? " if err.status_code in (301, 302, 307, 308, 404, 405) else ""
        return (
            False,
            f"{hint}{settings.base_url} answered {err.status_code} to {err.method} {err.path}: {err.api_message}",
        )
    except MalformedResponseError as err:
        return False, f"{settings.base_url} did not answer like the Runway API (wrong host or flavor?): {err}"
    except RunwayTransportError as err:
        return False, f"Cannot reach {settings.base_url}: {err.reason}"
    except (RunwayError, ValueError) as err:
        return False, str(err)
