"""The Runway view's FastAPI app, mounted by the plugin in Airflow's API server.

A mounted app gets no authentication from Airflow: every route here depends on
``requires_access_dag("GET", DagAccessEntity.XCOM)`` for the route's ``dag_id``, which resolves
the user from the UI's token cookie (or a bearer token) and asks the configured auth manager.
No token: 401; a user without access to that DAG's XCom: 403.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at runtime.
"""

import logging
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

from airflow_provider_runway.media.outputs import read_sidecar
from airflow_provider_runway.media.sidecars import sidecar_location
from airflow_provider_runway.ui import run_records
from airflow_provider_runway.ui.render import Page, render_page
from airflow_provider_runway.ui.routes import OUTPUT, RUN_PAGE, TASK_PAGE, optional_int
from airflow_provider_runway.ui.serving import output_response
from airflow_provider_runway.ui.view_items import ViewItem, build_view

log = logging.getLogger(__name__)
PAGE_SIZE = 48  # outputs per page: each card may load a video's metadata
# No script at all, media from here or a presigned storage URL, framed only by the UI itself.
PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http:; media-src 'self' https: http:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def _items(session: Any, dag_id: str, run_id: str, task_id: str | None, map_index: int | None) -> list[ViewItem]:
    """Every output of the run (or of one task instance), with the connection it was written with."""
    if not run_records.run_exists(session, dag_id, run_id):
        raise HTTPException(404, f"DAG {dag_id!r} has no run {run_id!r}")
    rows = run_records.task_instances(session, dag_id, run_id, task_id, map_index)
    items = build_view(rows, run_records.xcom_values(session, dag_id, run_id, rows)).items
    conn_ids = run_records.output_conn_ids(session, dag_id, run_id) if items else {}
    for item in items:
        item.output_conn_id = item.output_conn_id or conn_ids.get((item.task_id, item.map_index))
    return items


def _fill_from_sidecar(item: ViewItem) -> None:
    """What made a stored output, where no request of this run says (skipped, or one picture of a batch).

    The sidecar is the one beside the output (where the provider writes it), whatever a record claims.
    """
    if item.model is not None or not item.output:
        return
    try:
        meta = read_sidecar(sidecar_location(item.output), item.output_conn_id)
    except Exception as err:  # storage the API server cannot reach: the item shows without it
        log.warning("Could not read the sidecar of %s: %s: %s", item.output, type(err).__name__, err)
        return
    if meta:
        item.fill_request(meta)


def _page(request: Request, session: Any, dag_id: str, run_id: str, task_id: str | None = None) -> HTMLResponse:
    map_index = optional_int(request.query_params.get("map_index")) if task_id else None
    items = _items(session, dag_id, run_id, task_id, map_index)
    page = Page.of(items, optional_int(request.query_params.get("page")), PAGE_SIZE)
    for item in page.items:
        _fill_from_sidecar(item)
    title = f"Runway outputs: {dag_id} / {run_id}"
    if task_id:
        title += f" / {task_id}" + (f" [{map_index}]" if map_index is not None and map_index >= 0 else "")
    mounted_at = str(request.scope.get("root_path", "")).rstrip("/")
    html = render_page(title, items, page, mounted_at=mounted_at, dag_id=dag_id, run_id=run_id, map_index=map_index)
    return HTMLResponse(html, headers=PAGE_HEADERS)


def create_app() -> FastAPI:
    """The app: a DAG run's page, a task instance's page, and each stored output."""
    app = FastAPI(title="Runway outputs", docs_url=None, redoc_url=None, openapi_url=None)
    can_read = [Depends(requires_access_dag("GET", DagAccessEntity.XCOM))]

    @app.get(RUN_PAGE, dependencies=can_read, response_class=HTMLResponse)
    def run_page(dag_id: str, run_id: str, request: Request, session: SessionDep) -> HTMLResponse:
        return _page(request, session, dag_id, run_id)

    @app.get(TASK_PAGE, dependencies=can_read, response_class=HTMLResponse)
    def task_page(dag_id: str, run_id: str, task_id: str, request: Request, session: SessionDep) -> HTMLResponse:
        return _page(request, session, dag_id, run_id, task_id)

    @app.get(OUTPUT, dependencies=can_read)
    def output(dag_id: str, run_id: str, task_id: str, request: Request, session: SessionDep) -> Any:
        map_index = optional_int(request.query_params.get("map_index"))
        item_index = optional_int(request.query_params.get("item"))
        items = _items(session, dag_id, run_id, task_id, -1 if map_index is None else map_index)
        stored = next((i for i in items if i.stored and i.item_index == item_index), None)
        if stored is None or stored.output is None:
            raise HTTPException(404, "no stored output here")
        return output_response(stored.output, stored.output_conn_id, request.headers.get("range"))

    return app
