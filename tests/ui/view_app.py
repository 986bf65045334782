"""Airflow's API server app in this process, with per-DAG access control, for the Runway view's checks.

A test module makes its fixture from ``serving_app`` (``yield from serving_app(monkeypatch)``);
``token_for`` signs a user's token the way the UI's login does (the UI keeps it in the ``_token`` cookie).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tests.ui.batch_inputs import BATCH_DAG_ID
from tests.ui.dag_scoped_auth import AUTH_MANAGER, DENIALS_ENV

if TYPE_CHECKING:
    import pytest

VIEWER, OUTSIDER = "viewer", "outsider"
TOKEN_COOKIE = "_token"


def serving_app(monkeypatch: pytest.MonkeyPatch, *denied: str) -> Iterator[Any]:
    """The app ``airflow api-server`` serves (the plugin mounted from its entry point); ``outsider`` may
    read every DAG but the batch one and ``denied``."""
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", AUTH_MANAGER)
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", f"{VIEWER}:viewer,{OUTSIDER}:viewer")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
    monkeypatch.setenv(DENIALS_ENV, f"{OUTSIDER}={'|'.join((BATCH_DAG_ID, *denied))}")
    from airflow.api_fastapi.app import create_app, purge_cached_app

    yield create_app()
    purge_cached_app()


def token_for(username: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role="viewer")))


def client_as(app: Any, username: str | None) -> Any:
    """A test client carrying ``username``'s token in the UI's cookie (None: anonymous)."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    if username is not None:
        client.cookies.set(TOKEN_COOKIE, token_for(username))
    return client
