"""The Airflow plugin: the Runway app mounted in the API server, and its two tabs.

Registered through the ``airflow.plugins`` entry point (pyproject.toml): the provider-info
``plugins`` key is read only with ``[core] lazy_discover_providers`` off. Every Airflow process
loads plugins, task runners included, so the app is built only when the API server asks for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_runway.ui.routes import (
    PLUGIN_NAME,
    RUN_TAB_HREF,
    RUN_TAB_ROUTE,
    TAB_NAME,
    TASK_TAB_HREF,
    TASK_TAB_ROUTE,
    URL_PREFIX,
)

# A tab shows only with ``url_route``; ``dag_run`` and ``task_instance`` exist on Airflow 3.1 and 3.3.
EXTERNAL_VIEWS: list[dict[str, Any]] = [
    {"name": TAB_NAME, "href": RUN_TAB_HREF, "destination": "dag_run", "url_route": RUN_TAB_ROUTE},
    {"name": TAB_NAME, "href": TASK_TAB_HREF, "destination": "task_instance", "url_route": TASK_TAB_ROUTE},
]


@cache
def _fastapi_apps() -> list[dict[str, Any]]:
    from airflow_provider_runway.ui.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Runway outputs"}]


class RunwayViewPlugin(AirflowPlugin):
    """Outputs, costs and failures of a run's Runway tasks, as tabs in the Airflow UI."""

    name = PLUGIN_NAME
    external_views = EXTERNAL_VIEWS

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return _fastapi_apps()
