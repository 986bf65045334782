"""Apache Airflow provider for Runway image-to-video, through CometAPI or Runway's own API.

Importing this package is deliberately cheap: DAG files import the operator and sensor at
every parse, so nothing here pulls in the HTTP stack.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_HOOK = "airflow_provider_runway.hooks.runway.RunwayHook"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""
    from airflow_provider_runway.connection_form import (
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
                ],
            }
        ],
        "sensors": [{"integration-name": "Runway", "python-modules": ["airflow_provider_runway.sensors.runway"]}],
        "triggers": [{"integration-name": "Runway", "python-modules": ["airflow_provider_runway.triggers.runway"]}],
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
