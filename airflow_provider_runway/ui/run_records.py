"""Reading a run's Runway records from the metadata DB, in the API server (SQLAlchemy, both Airflow versions).

Only what the tasks recorded is read: task instances and a few XCom keys. Values are
deserialized as the REST API does (``XComModel.deserialize_value``); a value a custom XCom
backend keeps elsewhere is not followed, and its task instance shows without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_runway.execution.outcomes import XCOM_REQUEST_KEY
from airflow_provider_runway.ui.view_items import RETURN_VALUE, XCOM_KEYS, TaskInstanceRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Values = dict[tuple[str, int], dict[str, Any]]


def run_exists(session: Session, dag_id: str, run_id: str) -> bool:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    return session.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)) is not None


def task_instances(
    session: Session, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
) -> list[TaskInstanceRow]:
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    query = select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    if task_id is not None:
        query = query.where(TaskInstance.task_id == task_id)
    if map_index is not None:
        query = query.where(TaskInstance.map_index == map_index)
    return [
        TaskInstanceRow(
            task_id=ti.task_id,
            map_index=ti.map_index,
            state=str(ti.state) if ti.state is not None else None,
            operator=ti.operator,
            label=ti.rendered_map_index,
        )
        for ti in session.scalars(query)
    ]


def xcom_values(session: Session, dag_id: str, run_id: str, rows: list[TaskInstanceRow]) -> Values:
    """Each shown task instance's Runway keys, plus every request of the run (a sensor's is its upstream's).

    ``return_value`` is read only for the provider's operators (a sensor returns the final task).
    """
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, or_, select

    task_ids = {row.task_id for row in rows}
    runway_task_ids = {row.task_id for row in rows if (row.operator or "").startswith("Runway")}
    keys = [key for key in XCOM_KEYS if key != RETURN_VALUE]
    query = select(XComModel).where(
        XComModel.dag_id == dag_id,
        XComModel.run_id == run_id,
        or_(
            and_(XComModel.task_id.in_(task_ids), XComModel.key.in_(keys)),
            and_(XComModel.task_id.in_(runway_task_ids), XComModel.key == RETURN_VALUE),
            XComModel.key == XCOM_REQUEST_KEY,
        ),
    )
    values: Values = {}
    for row in session.scalars(query):
        values.setdefault((row.task_id, row.map_index), {})[row.key] = XComModel.deserialize_value(row)
    return values


def output_conn_ids(session: Session, dag_id: str, run_id: str) -> dict[tuple[str, int], str]:
    """Each task instance's rendered ``output_conn_id`` (the connection its outputs were written with).

    Outcome records name locations, not connections; the rendered fields keep the connection id
    for recent runs (``[core] max_num_rendered_ti_fields_per_task``). Older runs read object
    storage with the scheme's default connection.
    """
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as Rendered
    from sqlalchemy import select

    query = select(Rendered.task_id, Rendered.map_index, Rendered.rendered_fields).where(
        Rendered.dag_id == dag_id, Rendered.run_id == run_id
    )
    found: dict[tuple[str, int], str] = {}
    for task_id, map_index, fields in session.execute(query):
        conn_id = fields.get("output_conn_id") if isinstance(fields, dict) else None
        if isinstance(conn_id, str) and conn_id.strip():
            found[(task_id, map_index)] = conn_id.strip()
    return found
