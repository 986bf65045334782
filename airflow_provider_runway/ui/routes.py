"""Where the Runway view lives: the app's URL prefix, its routes and the tabs' addresses. Pure.

The tabs' ``href`` are relative (no leading ``/``): the UI resolves them against its own base
URL (``<base href>``), so they work under any ``[api] base_url`` path. The same holds for the
"Runway video" extra link, which opens the task instance's Runway tab inside the UI.
"""

from __future__ import annotations

from urllib.parse import quote

URL_PREFIX = "/runway"
RUN_TAB_ROUTE = "runway-run"  # the tab's own path segment in the UI (``.../plugin/runway-run``)
TASK_TAB_ROUTE = "runway-task"
TAB_NAME = "Runway"
PLUGIN_NAME = "runway"

# Routes inside the mounted app (FastAPI path syntax).
RUN_PAGE = "/dags/{dag_id}/runs/{run_id}"
TASK_PAGE = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"
OUTPUT = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/output"

_PREFIX = URL_PREFIX.lstrip("/")
# The placeholders the UI fills in (3.1 inserts them as they are, 3.3 percent-encodes them).
RUN_TAB_HREF = f"{_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}"
TASK_TAB_HREF = f"{_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}/tasks/{{TASK_ID}}?map_index={{MAP_INDEX}}"


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _task_path(dag_id: str, run_id: str, task_id: str) -> str:
    return f"/dags/{_segment(dag_id)}/runs/{_segment(run_id)}/tasks/{_segment(task_id)}"


def output_href(
    mounted_at: str, dag_id: str, run_id: str, task_id: str, map_index: int, item_index: int | None = None
) -> str:
    """One stored output (``item_index``: a batch task's picture); ``mounted_at`` is the app's ASGI root path."""
    item = f"&item={item_index}" if item_index is not None else ""
    return f"{mounted_at}{_task_path(dag_id, run_id, task_id)}/output?map_index={map_index}{item}"


def task_page_href(mounted_at: str, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    return f"{mounted_at}{_task_path(dag_id, run_id, task_id)}?map_index={map_index}"


def ui_task_tab(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
    """The task instance's Runway tab in the Airflow UI, relative to the UI's base URL."""
    path = _task_path(dag_id, run_id, task_id).lstrip("/")
    if map_index is not None and map_index >= 0:
        path += f"/mapped/{map_index}"
    return f"{path}/plugin/{TASK_TAB_ROUTE}"


def optional_int(value: str | None) -> int | None:
    """A number from the query (``?map_index=``, ``?item=``, ``?page=``), else None: the tab of an unmapped
    task sends its ``{MAP_INDEX}`` placeholder unfilled."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
