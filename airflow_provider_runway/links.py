"""The "Runway video" button on a task: the stored output, else the task's (expiring) output URL.

Airflow 3 evaluates ``get_link`` in the worker when the task finishes and keeps the answer in
XCom for the UI, so this reads what the task pushed: ``runway_output`` (the stored output of any
kind; ``runway_video`` where only that was pushed), else the final Runway task (``runway_task``
from the operator, the sensor's return value).
Importing this module costs nothing at DAG parse beyond ``airflow.sdk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

OUTPUT_KEYS = ("runway_output", "runway_video")
TASK_KEYS = ("runway_task", "return_value")


def link_for(video: Any, tasks: list[Any]) -> str:
    """Pure choice of the link: a stored video wins, then the first output URL of a final task."""
    from airflow_provider_runway.media.locations import as_url

    stored = (video.get("output") or video.get("video")) if isinstance(video, Mapping) else None
    if stored:
        return as_url(str(stored))
    for task in tasks:
        if isinstance(task, Mapping) and task.get("output"):
            return str(task["output"][0])
    return ""


class RunwayVideoLink(BaseOperatorLink):
    """Operator extra link "Runway video"."""

    name = "Runway video"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        try:
            video = next(filter(None, (XCom.get_value(ti_key=ti_key, key=key) for key in OUTPUT_KEYS)), None)
            tasks = [XCom.get_value(ti_key=ti_key, key=key) for key in TASK_KEYS]
        except Exception:  # no XCom reachable (e.g. rendered outside a task): no link rather than an error
            return ""
        return link_for(video, tasks)
