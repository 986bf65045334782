"""How the ``runway`` connection looks in the Airflow UI (pure data, shared by hook and provider info).

Airflow reads the same form description in two spellings: the provider info's
``connection-types`` entry (``hidden-fields``, ``conn-fields``; Airflow 3.2 and later) and the
hook classmethods ``get_ui_field_behaviour`` / ``get_connection_form_widgets`` (``hidden_fields``;
Airflow 3.1). Both are built here from one table so they cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_runway.hooks.connection import DEFAULT_TIMEOUT
from airflow_provider_runway.runway.flavors import COMETAPI, DEFAULT_RUNWAY_VERSION, FLAVORS, RUNWAY

CONNECTION_TYPE = "runway"
# The name in the UI's connection-type list; without it Airflow 3.2+ lists the bare type id.
HOOK_NAME = "Runway"

# Hook spelling, as Airflow's customized_form_field_behaviours schema names the keys.
_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "login", "port"],
    "relabeling": {"password": "API key", "host": "Base URL (optional)"},
    # The form input is narrow: a long placeholder is cut off. The flavor's description names the hosts.
    "placeholders": {"host": "Leave empty for the flavor's default", "password": "CometAPI key or Runway key_..."},
}

# JSON-schema fields. No ``None`` in an enum: the UI would offer it as a literal "null" choice.
_CONN_FIELDS: dict[str, Any] = {
    "flavor": {
        "label": "API flavor",
        "description": (
            f"cometapi (default): CometAPI's /runwayml/v1 proxy at {FLAVORS[COMETAPI].default_host}. "
            f"runway: Runway's own /v1 API at {FLAVORS[RUNWAY].default_host}."
        ),
        "schema": {"type": ["string", "null"], "enum": list(FLAVORS), "default": COMETAPI},
    },
    "runway_version": {
        "label": "X-Runway-Version",
        "description": "API version header sent with every request.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_RUNWAY_VERSION},
    },
    "timeout": {
        "label": "Request timeout (s)",
        "description": "Seconds allowed for each HTTP request.",
        "schema": {"type": ["number", "null"], "default": int(DEFAULT_TIMEOUT)},
    },
}


def ui_field_behaviour() -> dict[str, Any]:
    """What ``RunwayHook.get_ui_field_behaviour()`` returns (Airflow mutates it, so a fresh copy)."""
    return copy.deepcopy(_UI_FIELD_BEHAVIOUR)


def provider_ui_field_behaviour() -> dict[str, Any]:
    """The same behaviour in provider-info spelling (``hidden-fields``) for ``connection-types``."""
    return {key.replace("_", "-"): value for key, value in ui_field_behaviour().items()}


def conn_fields() -> dict[str, Any]:
    """The extra fields: label, description and JSON schema for each, keyed by extra name."""
    return copy.deepcopy(_CONN_FIELDS)


def form_widgets() -> dict[str, Any]:
    """The extra fields as wtforms fields, for Airflow 3.1 (3.2+ reads ``conn-fields`` instead).

    Airflow 3.1's API server substitutes stand-ins for wtforms and flask_appbuilder, turning
    label, description, default and an ``any_of`` validator into the field's JSON schema.
    """
    try:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from wtforms import StringField
        from wtforms.validators import Optional, any_of
    except ImportError:  # no web UI in this process: nothing reads the widgets
        return {}
    widgets: dict[str, Any] = {}
    for name, spec in conn_fields().items():
        schema = spec["schema"]
        validators = [Optional()]
        if "enum" in schema:
            validators.append(any_of(schema["enum"]))
        widgets[name] = StringField(
            spec["label"],
            validators=validators,
            widget=BS3TextFieldWidget(),
            description=spec["description"],
            default=schema.get("default"),
        )
    return widgets
