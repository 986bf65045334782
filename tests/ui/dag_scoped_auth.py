"""An auth manager that keeps some users out of some DAGs, for the Runway view's access checks.

Airflow's SimpleAuthManager grants by role only (every viewer reads every DAG); deployments that
scope access per DAG use another auth manager (FAB, Keycloak, ...). This one is SimpleAuthManager
plus per-DAG refusals, configured by ``RUNWAY_TEST_DAG_DENIALS="user=dag_a|dag_b;other=dag_c"``,
so a user can read one DAG and be refused another, as with those. Selected with
``AIRFLOW__CORE__AUTH_MANAGER=tests.ui.dag_scoped_auth.DagScopedAuthManager``.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

DENIALS_ENV = "RUNWAY_TEST_DAG_DENIALS"
AUTH_MANAGER = f"{__name__}.DagScopedAuthManager"


def denials() -> dict[str, set[str]]:
    """user -> the DAG ids that user may not read, from ``RUNWAY_TEST_DAG_DENIALS``."""
    found: dict[str, set[str]] = {}
    for part in filter(None, os.environ.get(DENIALS_ENV, "").split(";")):
        user, _, dags = part.partition("=")
        found[user.strip()] = {dag.strip() for dag in dags.split("|") if dag.strip()}
    return found


def denials_value(by_user: dict[str, set[str]]) -> str:
    return ";".join(f"{user}={'|'.join(sorted(dags))}" for user, dags in by_user.items())


class DagScopedAuthManager(SimpleAuthManager):
    """SimpleAuthManager, except that a user named in ``RUNWAY_TEST_DAG_DENIALS`` cannot see those DAGs."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        dag_id = getattr(details, "id", None)
        if dag_id is not None and dag_id in denials().get(user.get_name(), set()):
            return False
        return bool(super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details))
