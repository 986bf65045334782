"""RunwayHook: the only place the provider speaks HTTP.

Blocking calls (operator, sensor poke, downloads) share one pooled ``requests.Session`` per
hook (``sync_http``); the trigger's calls share one aiohttp session per event loop across
every trigger in the triggerer (``async_http``). Both paths build requests and read answers
with ``protocol`` and retry by ``retry.RetryState``, so they behave identically.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_runway.hooks import async_http, sync_http
from airflow_provider_runway.hooks.connection import ClientSettings, settings_from_connection
from airflow_provider_runway.hooks.connection_check import connection_check
from airflow_provider_runway.hooks.connection_form import form_widgets, ui_field_behaviour
from airflow_provider_runway.observability.metrics import count_download_retry, count_task_created
from airflow_provider_runway.runway.bodies import ValidatedBody, validate_body
from airflow_provider_runway.runway.errors import (
    FlavorNotSupportedError,
    MalformedResponseError,
    OutputUnavailableError,
    RunwayAPIError,
    RunwayError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.runway.flavors import IMAGE_TO_VIDEO, RUNWAY, check_endpoint
from airflow_provider_runway.runway.protocol import (
    decide_cancel,
    endpoint_name,
    observed_status,
    parse_upload_slot,
    task_path,
    upload_body,
    usage_body,
)
from airflow_provider_runway.runway.remote_task import CreatedTask, RunwayTask, parse_created, parse_task
from airflow_provider_runway.runway.retry_policy import RetryPolicy, RetryState

if TYPE_CHECKING:
    import requests
    from airflow.sdk import Connection

# Errors a call may be repeated after, if ``RetryState`` agrees.
_RETRY_CANDIDATES = (RunwayAPIError, RunwayTransportError, MalformedResponseError)
# Connection Test answers fast: one attempt, a short connect timeout.
TEST_RETRY_POLICY = RetryPolicy(max_retries=0)
TEST_CONNECT_TIMEOUT = 3.0
# How long a task created a moment ago may stay unlisted (CometAPI) while its cancel is repeated.
UNRECORDED_CANCEL_SECONDS = 30.0


def _caught(call: Callable[..., Any], *args: Any) -> Any:
    """The call's result, or the API error it raised (the cancel steps decide what an error means)."""
    try:
        return call(*args)
    except RunwayAPIError as err:
        return err


async def _acaught(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except RunwayAPIError as err:
        return err


class RunwayHook(BaseHook):
    """Talk to Runway's task API through CometAPI (default) or Runway directly.

    :param runway_conn_id: connection of type ``runway``: password = API key; extra ``flavor``
        (``cometapi``|``runway``), ``runway_version``, ``timeout``; optional host.
    :param retry_policy: backoff for transient failures; one policy for every call.
    :param connect_timeout: seconds to establish a connection (default: the connection's
        timeout, at most 10 s).
    """

    conn_name_attr = "runway_conn_id"
    default_conn_name = "runway_default"
    conn_type = "runway"
    hook_name = "Runway"

    def __init__(
        self,
        runway_conn_id: str = default_conn_name,
        retry_policy: RetryPolicy | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.runway_conn_id = runway_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self.connect_timeout = connect_timeout
        self._settings: ClientSettings | None = None
        self._session: requests.Session | None = None

    # -- connection ---------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden fields, labels and placeholders as Airflow 3.1 reads them (``hidden_fields`` spelling)."""
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields as wtforms fields, for Airflow 3.1 (3.2+ reads ``conn-fields`` instead)."""
        return form_widgets()

    @staticmethod
    def _settings_from(conn: Connection) -> ClientSettings:
        if conn.password:
            # Airflow masks passwords it reads itself; this also covers hooks built from other sources.
            from airflow.sdk.log import mask_secret

            mask_secret(conn.password)
        return settings_from_connection(
            conn.conn_id,
            host=conn.host,
            password=conn.password,
            extra=conn.extra,
            schema=conn.schema,
            port=conn.port,
        )

    @property
    def settings(self) -> ClientSettings:
        if self._settings is None:
            self._settings = self._settings_from(self.get_connection(self.runway_conn_id))
        return self._settings

    async def aget_settings(self) -> ClientSettings:
        if self._settings is None:
            self._settings = self._settings_from(await self.aget_connection(self.runway_conn_id))
        return self._settings

    @property
    def flavor(self) -> str:
        return self.settings.flavor.name

    def get_conn(self) -> requests.Session:
        """The pooled session (created once per hook)."""
        if self._session is None:
            self._session = sync_http.new_session()
        return self._session

    def _connect_timeout(self, settings: ClientSettings) -> float:
        return settings.connect_timeout if self.connect_timeout is None else min(self.connect_timeout, settings.timeout)

    def _require_runway_flavor(self, call: str) -> None:
        if self.flavor != RUNWAY:
            raise FlavorNotSupportedError(
                f"{call} needs the connection's flavor 'runway' (Runway's own API); CometAPI does not offer it"
            )

    # -- blocking calls -------------------------------------------------------------------------

    def _request(
        self, method: str, suffix: str, body: Mapping[str, Any] | None = None, *, is_create: bool = False
    ) -> Any:
        settings = self.settings
        state = RetryState(self.retry_policy, is_create=is_create)
        while True:
            try:
                return sync_http.send(
                    self.get_conn(), settings, method, suffix, body, connect_timeout=self._connect_timeout(settings)
                )
            except _RETRY_CANDIDATES as err:
                delay = state.delay_or_raise(err)
                self.log.warning(
                    "Runway %s %s failed (%s); retry %d in %.1f s", method, suffix, err, state.attempts, delay
                )
                time.sleep(delay)

    def create(
        self,
        endpoint: str,
        body: Mapping[str, Any] | ValidatedBody,
        *,
        on_created: Callable[[CreatedTask], None] | None = None,
    ) -> CreatedTask:
        """Create a task on any task endpoint (a paid call): its id and the API's cost estimate.

        Every create goes through here. It is repeated only when it surely created nothing
        (429/502/503, or no connection made); after an unknown outcome (read timeout, reset,
        500/504, unreadable answer) it raises ``CreateOutcomeUnknownError`` instead of risking
        a second payment. A raw body is validated first, so bad input never costs a request.
        ``on_created`` gets the task before anything else here can fail (a log line can: its
        pipe to Airflow's supervisor may be gone), so callers record the id a retry needs first.
        """
        path = endpoint_name(endpoint)
        check_endpoint(path, self.flavor)  # an endpoint this flavor lacks fails before any request
        validated = self._validated(path, body)
        for warning in validated.warnings:
            self.log.warning("%s", warning)
        created = parse_created(self._request("POST", path, validated.body, is_create=True))
        if on_created is not None:
            on_created(created)
        estimate = (
            "the API gave no cost estimate"
            if created.estimated_credits is None
            else f"the API estimates at most {created.estimated_credits:.10g} credits"
        )
        model = validated.body.get("model") or (
            f"{created.routed_model}, chosen by the router" if created.routed_model else None
        )
        self.log.info("Created Runway %s task %s (model %s); %s", path, created.id, model, estimate)
        count_task_created(path, validated.body.get("model"), self.flavor)
        return created

    def create_task(self, endpoint: str, body: Mapping[str, Any] | ValidatedBody) -> str:
        """``create``, for callers that need only the Runway task id."""
        return self.create(endpoint, body).id

    def _validated(self, endpoint: str, body: Mapping[str, Any] | ValidatedBody) -> ValidatedBody:
        if isinstance(body, ValidatedBody):
            return body
        return validate_body(body, self.flavor, endpoint)

    def submit_image_to_video(self, body: Mapping[str, Any] | ValidatedBody) -> str:
        """Create an image-to-video task (camelCase body, as the API documents it); its task id."""
        return self.create_task(IMAGE_TO_VIDEO, body)

    def get_task(self, task_id: str) -> RunwayTask:
        """One poll of a task, normalised whatever shape (bare or CometAPI envelope) came back."""
        return parse_task(self._request("GET", task_path(task_id)), task_id)

    def cancel_task(self, task_id: str) -> bool:
        """Stop a task that is still running; never delete a finished one. True if a cancel was sent.

        Looks at the task first: Runway's DELETE cancels a PENDING/THROTTLED/RUNNING task but
        deletes any other task with its output (see ``protocol.decide_cancel``). A task whose
        state cannot be read is left alone (the error is raised).
        """
        if not self._cancel_wanted(task_id, _caught(self.get_task, task_id)):
            return False
        return self._cancel_answered(task_id, _caught(self._request, "DELETE", task_path(task_id)))

    def cancel_unrecorded(self, task_id: str) -> bool:
        """Cancel a task created a moment ago whose id nothing could record (a retry would pay again).

        It is PENDING, so DELETE cancels it; no read first and no log line, because this runs when
        Airflow's supervisor (which carries logs and records) is gone. CometAPI may not list a task
        this new yet (``task_not_exist``): the DELETE is repeated for up to ``UNRECORDED_CANCEL_SECONDS``.
        True if the API said yes.
        """
        deadline = time.monotonic() + UNRECORDED_CANCEL_SECONDS
        while True:
            try:
                self._request("DELETE", task_path(task_id))
                return True
            except RunwayTaskNotVisibleError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)
            except Exception:  # best effort, with nobody left to tell
                return False

    def _cancel_wanted(self, task_id: str, seen: RunwayTask | RunwayAPIError) -> bool:
        decision = decide_cancel(task_id, observed_status(seen))
        self.log.info("%s", decision.message)
        return decision.send_delete

    def _cancel_answered(self, task_id: str, answer: Any) -> bool:
        """404/405/task_not_exist: nothing to cancel (or CometAPI cannot); any other error is raised."""
        if not isinstance(answer, RunwayAPIError):
            self.log.info("Cancelled Runway task %s", task_id)
            return True
        if answer.status_code in (404, 405) or isinstance(answer, RunwayTaskNotVisibleError):
            self.log.warning("Runway task %s was not cancelled: %s", task_id, answer)
            return False
        raise answer

    def get_organization(self) -> dict[str, Any]:
        """Account details: credit balance and tier limits (``GET /v1/organization``). Runway flavor only."""
        self._require_runway_flavor("get_organization")
        result = self._request("GET", "organization")
        return dict(result) if isinstance(result, Mapping) else {}

    def get_organization_usage(self, start_date: str | None = None, before_date: str | None = None) -> dict[str, Any]:
        """Credits used per model and day (``POST /v1/organization/usage``, at most 90 days). Runway flavor only.

        :param start_date: first day, ``YYYY-MM-DD`` UTC (API default: 30 days ago).
        :param before_date: day after the last, ``YYYY-MM-DD`` (API default: 30 days after the start).
        """
        body = usage_body(start_date, before_date)  # bad dates fail before the flavor is even read
        self._require_runway_flavor("get_organization_usage")
        result = self._request("POST", "organization/usage", body)
        return dict(result) if isinstance(result, Mapping) else {}

    def upload_ephemeral(self, filename: str, data: bytes, content_type: str) -> str:
        """Upload a file for use as a task input; returns its ``runway://`` URI. Runway flavor only.

        Two steps, as the official SDK does (runwayml 5.13.0, ``resources/uploads.py``): the API
        hands out a presigned storage form (``POST /v1/uploads``), then the file is POSTed to
        that storage URL with the form's fields and no API key.
        """
        request = upload_body(filename)
        self._require_runway_flavor("upload_ephemeral")
        slot = parse_upload_slot(self._request("POST", "uploads", request))
        settings = self.settings
        sync_http.post_form(
            self.get_conn(),
            slot.upload_url,
            slot.fields,
            (filename, data, content_type),
            timeout=settings.timeout,
            connect_timeout=self._connect_timeout(settings),
        )
        self.log.info("Uploaded %s (%d bytes) as %s", filename, len(data), slot.runway_uri)
        return slot.runway_uri

    def download_output(
        self,
        url: str,
        target: str,
        *,
        runway_task_id: str | None = None,
        output_index: int = 0,
        chunk_size: int = 1 << 20,
    ) -> int:
        """Stream a task's output to ``target`` (a local path or any fsspec/ObjectStoragePath URL).

        Output URLs are pre-signed and expire within 24-48 h; they are fetched with no API key.
        When one answers 403/404/410 and ``runway_task_id`` is given, the task is fetched again
        for a fresh URL (``output[output_index]``) and the download is tried once more, as the
        official SDK documents (``types/task_retrieve_response.py``: "These URLs will expire
        within 24-48 hours; fetch the task again to get fresh URLs"). Returns bytes written.
        """
        try:
            return self._download(url, target, chunk_size)
        except OutputUnavailableError as err:
            if runway_task_id is None:
                raise
            self.log.warning(
                "Output URL of Runway task %s answered %s; fetching a fresh one", runway_task_id, err.status_code
            )
            count_download_retry(err.status_code)
        outputs = self.get_task(runway_task_id).output
        if not 0 <= output_index < len(outputs):
            raise RunwayError(f"Runway task {runway_task_id} has no output #{output_index} ({len(outputs)} outputs)")
        return self._download(outputs[output_index], target, chunk_size)

    def _download(self, url: str, target: str, chunk_size: int) -> int:
        settings = self.settings
        return sync_http.download(
            self.get_conn(),
            url,
            target,
            timeout=settings.timeout,
            connect_timeout=self._connect_timeout(settings),
            chunk_size=chunk_size,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Call the API for real, once and with a short connect timeout, and say plainly what is wrong.

        Messages never name the connection id: Airflow's UI tests a temporary copy with a random id.
        """
        probe = type(self)(self.runway_conn_id, retry_policy=TEST_RETRY_POLICY, connect_timeout=TEST_CONNECT_TIMEOUT)
        return connection_check(probe)

    # -- async calls (trigger) ----------------------------------------------------------------

    async def _arequest(self, method: str, suffix: str) -> Any:
        settings = await self.aget_settings()
        headers = settings.headers()
        state: RetryState | None = None  # most polls succeed: no state (and no RNG) for them
        while True:
            try:
                return await async_http.send(
                    settings, method, suffix, None, headers=headers, connect_timeout=self._connect_timeout(settings)
                )
            except _RETRY_CANDIDATES as err:
                state = state or RetryState(self.retry_policy)
                delay = state.delay_or_raise(err)
                self.log.warning(
                    "Runway %s %s failed (%s); retry %d in %.1f s", method, suffix, err, state.attempts, delay
                )
                await asyncio.sleep(delay)

    async def aget_task(self, task_id: str) -> RunwayTask:
        """Async poll for the trigger; same normalisation as ``get_task``."""
        return parse_task(await self._arequest("GET", task_path(task_id)), task_id)

    async def acancel_task(self, task_id: str) -> bool:
        """``cancel_task`` for the trigger: the same look-first rule, on the loop's shared session."""
        if not self._cancel_wanted(task_id, await _acaught(self.aget_task(task_id))):
            return False
        return self._cancel_answered(task_id, await _acaught(self._arequest("DELETE", task_path(task_id))))

    @staticmethod
    async def aclose() -> None:
        """Close the running loop's shared session now, for every hook on the loop (tests; it closes at loop end)."""
        await async_http.close_loop_client()

    @staticmethod
    def async_pool_stats() -> async_http.PoolStats | None:
        """The running loop's shared-session counters (in flight, peak, completed, limit)."""
        return async_http.pool_stats()
