"""How the ``runway`` connection looks in the Airflow UI (pure data, shared by hook and provider info)."""

from __future__ import annotations

from typing import Any

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"password": "API key", "host": "Base URL (optional)"},
    "placeholders": {
        "host": "https://api.cometapi.com (flavor cometapi) or https://api.dev.runwayml.com (flavor runway)",
        "password": "CometAPI key, or Runway key_...",
    },
}

CONN_FIELDS: dict[str, Any] = {
    "flavor": {
        "label": "API flavor",
        "description": "cometapi (default): CometAPI's /runwayml/v1 proxy. runway: Runway's own /v1 API.",
        "schema": {"type": ["string", "null"], "enum": ["cometapi", "runway", None], "default": "cometapi"},
    },
    "runway_version": {
        "label": "X-Runway-Version",
        "description": "API version header sent with every request.",
        "schema": {"type": ["string", "null"], "default": "2024-11-06"},
    },
    "timeout": {
        "label": "Request timeout (s)",
        "description": "Seconds allowed for each HTTP request.",
        "schema": {"type": ["number", "null"], "default": 60},
    },
}
