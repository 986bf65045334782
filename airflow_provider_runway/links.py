"""The "Runway video" button on a task: the task instance's Runway tab in the Airflow UI.

The tab (``ui/``) plays what the task stored, shows what it cost and why anything failed; a
browser can open it, where it could open neither an ``s3://`` nor a ``file://`` location (the
3.3 UI does not even show a link with such a scheme) and Runway's own output URLs expire within
48 hours. The link is relative, so the UI resolves it against its own base URL.

Airflow 3 evaluates ``get_link`` in the worker when the task finishes and keeps the answer in
XCom for the UI: the button shows only for a task that left a Runway record (an outcome, or a
final Runway task). Importing this module costs nothing at DAG parse beyond ``airflow.sdk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

OUTPUT_KEYS = ("runway_output", "runway_video", "runway_outputs")
TASK_KEYS = ("runway_task", "return_value")


def is_outcome(value: Any) -> bool:
    """An outcome record (or a batch's list of them)."""
    return isinstance(value, (Mapping, list)) and bool(value)


def is_final_task(value: Any) -> bool:
    """A Runway task as the operator (``runway_task``) or the sensor (its return value) pushes it."""
    return isinstance(value, Mapping) and bool(value.get("id")) and bool(value.get("status"))


def tab_link(ti_key: Any) -> str:
    """The task instance's Runway tab, relative to the UI's base URL."""
    from airflow_provider_runway.ui.routes import ui_task_tab

    return ui_task_tab(ti_key.dag_id, ti_key.run_id, ti_key.task_id, getattr(ti_key, "map_index", -1))


class RunwayVideoLink(BaseOperatorLink):
    """Operator extra link "Runway video"."""

    name = "Runway video"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        try:  # the first record found settles it: no more XCom reads than needed
            recorded = any(is_outcome(XCom.get_value(ti_key=ti_key, key=key)) for key in OUTPUT_KEYS) or any(
                is_final_task(XCom.get_value(ti_key=ti_key, key=key)) for key in TASK_KEYS
            )
        except Exception:  # no XCom reachable (e.g. rendered outside a task): no link rather than an error
            return ""
        return tab_link(ti_key) if recorded else ""
