"""Runway create operators: any task endpoint through one flow, and image-to-video by name.

``RunwayCreateTaskOperator`` runs every create the same way: build the body, read stored
inputs, validate, estimate the credits (and refuse above ``max_credits``), reconnect to an
earlier try's task or create one through the hook, push XCom, wait (blocking or deferred) and
store the output. Typed operators (``RunwayImageToVideoOperator`` here, the others in
``generate.py``) only name the body's fields as parameters. Thin by design: bodies are built
and validated by ``models``, HTTP lives in the hook and the wait is the shared one in ``wait``.
DAG files import this at every parse, so the HTTP stack loads only in ``execute``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.configuration import conf
from airflow.sdk import BaseOperator

from airflow_provider_runway.execution.lineage import RunwayLineageMixin
from airflow_provider_runway.execution.wait import (
    DEFAULT_NOT_VISIBLE_GRACE,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    RunwayWaitMixin,
)
from airflow_provider_runway.execution.wait_tracker import as_seconds
from airflow_provider_runway.runway.bodies import WIRE_NAMES
from airflow_provider_runway.runway.flavors import IMAGE_TO_VIDEO
from airflow_provider_runway.runway.poll_schedule import poll_interval_seconds

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_runway.execution.submitted_tasks import SubmittedTaskStore
    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.runway.remote_task import CreatedTask

XCOM_TASK_ID_KEY = "runway_task_id"
XCOM_TASK_KEY = "runway_task"
# Templated parameters every create operator has besides its body fields.
COMMON_TEMPLATE_FIELDS: tuple[str, ...] = (
    "extra_body",
    "max_credits",
    "runway_conn_id",
    "input_conn_id",
    "output_path",
    "output_conn_id",
)


class RunwayCreateTaskOperator(RunwayWaitMixin, RunwayLineageMixin, BaseOperator):
    """Create a task on any Runway task endpoint (and optionally wait for it); returns its task id.

    The body is validated where the catalog knows the endpoint and model, and sent with a
    warning where it does not; an endpoint the connection's flavor does not offer fails before
    any request, naming the flavor that does. The id is the XCom ``return_value`` and is also
    pushed under ``runway_task_id``. A retry of this task reconnects to the task an earlier try
    created unless that one failed or was cancelled, so a retry never pays twice. A failed one
    is submitted again only when Runway's failure code allows a retry (``failures.py``);
    content refusals never are.

    :param endpoint: the task endpoint, e.g. ``text_to_image``, ``video_upscale``.
    :param body: the create body as the API documents it (camelCase). Without ``model`` the
        flavor's default model for the endpoint is used. Media fields (``videoUri``,
        ``referenceImages[].uri``, ...) may name stored files, read when the task runs.
    :param extra_body: more API fields, sent as given (for fields not modelled yet).
    :param lenient: known-model rule violations become warnings instead of errors, for when
        Runway's API has moved ahead of this provider's catalog (model-independent checks stay).
    :param max_credits: a cap in Runway credits. A request the catalog prices above it is refused
        before any paid call; one it cannot price is created and the API's own estimate
        (``estimatedCost``) decides at once: above the cap the task is cancelled (refunded while
        PENDING) and this task fails naming the estimate, the cap and what was charged. Every
        create logs both estimates; XCom ``runway_credits`` carries them and the final charge.
    :param runway_conn_id: the ``runway`` connection.
    :param input_conn_id: Airflow connection for reading stored inputs (e.g. an ``aws`` one).
    :param wait_for_completion: also wait for the task; the final task goes to XCom ``runway_task``.
    :param output_path: with ``wait_for_completion``, store the output here (a file, or a folder
        when it ends in ``/``; local or object storage) with a JSON sidecar; XCom
        ``runway_output`` (and ``runway_video`` for videos). In a folder the file is named
        ``runway-<key>`` plus the suffix of what was made (``.mp4``, ``.png``, ``.jpg``, ...).
    :param output_conn_id: Airflow connection for writing to ``output_path``.
    :param idempotent: skip the paid create when an output and sidecar for the same endpoint,
        body and input bytes are already stored at ``output_path`` (needs ``output_path``).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poll_interval: seconds between polls while waiting.
    :param timeout: seconds to wait before failing (the remote task is cancelled unless
        ``cancel_on_timeout=False``).
    :param not_visible_grace: seconds during which ``task_not_exist`` means "not visible yet".
    :param cancel_on_kill: cancel the Runway task when this task is killed while waiting.
    :param resubmit_on_failure: on an Airflow retry, submit again if the earlier try's task
        was CANCELLED or FAILED with a code Runway allows to retry (otherwise fail without
        paying again).
    :param reuse_after_clear: what a *cleared* task (a new run of this task instance, as opposed
        to an automatic retry) does with a Runway task its earlier run left unfinished. False
        (default): submit a new one. True: reconnect to it while it is usable, never paying
        again. Independent of whether Airflow keeps task state across clears; see ``resume.py``.
    """

    # operator parameter -> API field, for operators that name the body's fields
    body_fields: ClassVar[Mapping[str, str]] = {}
    default_endpoint: ClassVar[str | None] = None
    template_fields: Sequence[str] = ("endpoint", "body", *COMMON_TEMPLATE_FIELDS)
    template_fields_renderers = {"body": "json", "extra_body": "json", "content_moderation": "json"}
    ui_color = "#d9c6f2"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        body: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        lenient: bool = False,
        max_credits: float | str | None = None,
        runway_conn_id: str = "runway_default",
        input_conn_id: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=True),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: timedelta | float = DEFAULT_TIMEOUT,
        not_visible_grace: float = DEFAULT_NOT_VISIBLE_GRACE,
        cancel_on_timeout: bool = True,
        cancel_on_kill: bool = True,
        resubmit_on_failure: bool = True,
        reuse_after_clear: bool = False,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        endpoint = endpoint or self.default_endpoint
        if not endpoint:
            raise ValueError("endpoint is required, e.g. endpoint='text_to_image'")
        if output_path and not wait_for_completion:
            raise ValueError("output_path needs wait_for_completion=True (or set it on a RunwayTaskSensor)")
        if idempotent and not output_path:
            raise ValueError("idempotent=True needs an output_path to find earlier outputs in")
        self.endpoint = endpoint
        self.body = body
        self.extra_body = extra_body
        self.lenient = lenient
        self.max_credits = max_credits
        self.input_conn_id = input_conn_id
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        self.idempotent = idempotent
        self.runway_conn_id = runway_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval_seconds(poll_interval)
        self.wait_timeout = as_seconds(timeout)
        self.not_visible_grace = float(not_visible_grace)
        self.cancel_on_timeout = cancel_on_timeout
        self.cancel_on_kill = cancel_on_kill
        self.resubmit_on_failure = resubmit_on_failure
        self.reuse_after_clear = reuse_after_clear

    def keep_body_fields(self, values: Mapping[str, Any]) -> None:
        """Keep a typed operator's named parameters (its ``__init__`` locals) as attributes."""
        for name in self.body_fields:
            setattr(self, name, values[name])

    # -- the request --------------------------------------------------------------------------

    def request_fields(self) -> dict[str, Any]:
        """The API fields this task names (camelCase), as rendered, before defaults and ``extra_body``."""
        from airflow_provider_runway.runway.fields import invalid

        if self.body is not None and not isinstance(self.body, Mapping):
            raise invalid("body", f"must be a dict of API fields, got {type(self.body).__name__}")
        named = {wire: getattr(self, name) for name, wire in self.body_fields.items()}
        return {**dict(self.body or {}), **named}

    def request_body(self, flavor: str) -> dict[str, Any]:
        """The camelCase body for ``flavor``: named fields, the default model, ``extra_body``."""
        from airflow_provider_runway.runway.bodies import compose_body

        return compose_body(self.endpoint, self.request_fields(), extra_body=self.extra_body, flavor=flavor)

    def _reusable_task(self, hook: RunwayHook, store: SubmittedTaskStore) -> str | None:
        """The earlier try's Runway task, if it can be reused instead of paying again."""
        from airflow_provider_runway._compat import AirflowFailException
        from airflow_provider_runway.execution.submitted_tasks import FAIL, REUSE, decide_earlier_task
        from airflow_provider_runway.runway.errors import RunwayTaskNotFoundError, RunwayTaskNotVisibleError
        from airflow_provider_runway.runway.remote_task import PENDING, RunwayTask

        previous = store.get()
        if previous is None:
            return None
        earlier = previous.runway_task_id
        if previous.cleared_since(store.max_tries):
            if not self.reuse_after_clear:
                self.log.warning(
                    "This task was cleared after try %s submitted Runway task %s; reuse_after_clear=False: submitting "
                    "a new Runway task (task %s is left as it is)",
                    previous.try_number,
                    earlier,
                    earlier,
                )
                return None
            self.log.info(
                "This task was cleared after try %s submitted Runway task %s; reuse_after_clear=True",
                previous.try_number,
                earlier,
            )
        task: RunwayTask | None
        try:
            task = hook.get_task(earlier)
        except RunwayTaskNotVisibleError:
            task = RunwayTask(id=earlier, status=PENDING)  # created moments ago: CometAPI does not show it yet
        except RunwayTaskNotFoundError:
            task = None
        decision = decide_earlier_task(earlier, task, resubmit_on_failure=self.resubmit_on_failure)
        if decision.action == FAIL:
            raise AirflowFailException(decision.message)
        if decision.action == REUSE:
            self.log.info("%s", decision.message)
            return earlier
        self.log.warning("%s", decision.message)
        return None

    def execute(self, context: Context) -> str:
        from airflow_provider_runway._compat import AirflowFailException
        from airflow_provider_runway.execution.checkpoint import ensure_supervised, keep_created
        from airflow_provider_runway.execution.credits import check_after_create, check_before_create
        from airflow_provider_runway.execution.prepare import prepare_request
        from airflow_provider_runway.hooks.runway import RunwayHook
        from airflow_provider_runway.runway.errors import CreateOutcomeUnknownError

        hook = RunwayHook(self.runway_conn_id)
        # Stored inputs are read and the output checked here: bad input fails before any paid call.
        prepared = prepare_request(self, context, hook)
        if prepared.done is not None:
            return prepared.done  # its output and sidecar are already stored: nothing to pay for
        estimate = check_before_create(self, context, prepared)
        validated = prepared.validated(hook)
        store = self._store(context)
        runway_task_id = self._reusable_task(hook, store)
        if runway_task_id is None:
            ensure_supervised(store)

            def remember(created: CreatedTask) -> None:  # before anything else: a retry reconnects, never pays again
                keep_created(store, store.set(created.id), created.id, hook.cancel_unrecorded)

            try:
                created = hook.create(self.endpoint, validated, on_created=remember)
            except CreateOutcomeUnknownError as err:
                # A paid task may exist but its id is unknown: an Airflow retry would pay again.
                raise AirflowFailException(str(err)) from err
            runway_task_id = created.id
            prepared.credits = check_after_create(self, context, hook, estimate, created)
        context["ti"].xcom_push(key=XCOM_TASK_ID_KEY, value=runway_task_id)
        prepared.remember(context, runway_task_id)
        if not self.wait_for_completion:
            store.clear()
            return runway_task_id
        if self.deferrable:
            self.defer(
                trigger=self._make_trigger(runway_task_id, self.wait_timeout),
                method_name="execute_complete",
            )
        return self.execute_complete(context, self.wait_blocking(runway_task_id, self.wait_timeout))

    def _store(self, context: Context) -> SubmittedTaskStore:
        from airflow_provider_runway.execution.submitted_tasks import SubmittedTaskStore

        return SubmittedTaskStore(context, self.log, survive_clear=self.reuse_after_clear)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the wait: push the final task to XCom ``runway_task``; return the id."""
        task = self._finish_and_store(
            context, event, no_resubmit_reason=None if self.resubmit_on_failure else "resubmit_on_failure=False"
        )
        context["ti"].xcom_push(key=XCOM_TASK_KEY, value=task)
        self._store(context).clear()
        return str(event.get("runway_task_id"))


class RunwayImageToVideoOperator(RunwayCreateTaskOperator):
    """Create a Runway image-to-video task; returns its Runway task id.

    ``RunwayCreateTaskOperator`` on ``image_to_video`` with the body's fields as parameters:
    the same XCom, credits check, retry and resume rules, wait and storing.

    :param prompt_image: https URL, ``data:image/...;base64`` URI (<= 5 MiB), ``runway://`` URI
        (flavor runway), a stored image (local path, ``file://`` or object storage URL such as
        ``s3://bucket/cat.png``, read when the task runs) or a list of
        ``{"uri": ..., "position": "first"|"last"}`` frames.
    :param image_conn_id: Airflow connection for reading stored images (e.g. an ``aws`` one).
    :param model: Runway model id (default: the flavor's, ``gen3a_turbo`` through CometAPI,
        ``gen4_turbo`` through Runway); unknown models pass with a warning.
    :param prompt_text: motion/scene prompt (CometAPI <= 512 characters, Runway <= 1000).
    :param ratio: output ratio such as ``1280:768``; allowed values depend on flavor and model.
    :param duration: seconds of video; allowed values depend on flavor and model.
    :param seed: integer for reproducible results.
    :param watermark: add Runway's watermark.
    :param content_moderation: e.g. ``{"publicFigureThreshold": "low"}``.
    :param negative_prompt: what should not appear (models that take it, e.g. veo3.1).
    :param audio: generate audio (models that take it, e.g. veo3.1; affects price).

    Every other parameter (``extra_body``, ``lenient``, ``max_credits``, ``wait_for_completion``,
    ``output_path``, ``idempotent``, ``deferrable``, ...) is ``RunwayCreateTaskOperator``'s; the
    stored video also goes to XCom ``runway_video``.
    """

    body_fields = WIRE_NAMES
    default_endpoint = IMAGE_TO_VIDEO
    template_fields: Sequence[str] = (
        "prompt_image",
        "model",
        "prompt_text",
        "ratio",
        "duration",
        "seed",
        "watermark",
        "content_moderation",
        "negative_prompt",
        "audio",
        "extra_body",
        "max_credits",
        "runway_conn_id",
        "image_conn_id",
        "output_path",
        "output_conn_id",
    )

    def __init__(
        self,
        *,
        prompt_image: str | list[dict[str, str]],
        model: str | None = None,
        prompt_text: str | None = None,
        ratio: str | None = None,
        duration: int | str | None = None,
        seed: int | str | None = None,
        watermark: bool | str | None = None,
        content_moderation: Mapping[str, Any] | None = None,
        negative_prompt: str | None = None,
        audio: bool | str | None = None,
        image_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(input_conn_id=image_conn_id, **kwargs)
        self.keep_body_fields(locals())

    @property
    def image_conn_id(self) -> str | None:
        """The connection stored images are read with (``input_conn_id`` of the other operators)."""
        return self.input_conn_id

    @image_conn_id.setter
    def image_conn_id(self, value: str | None) -> None:
        self.input_conn_id = value
