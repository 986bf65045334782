"""RunwayBatchOperator: one Airflow task turns many pictures into stored videos, never paying twice.

Where one mapped task per picture stops at ``[core] max_map_length`` (1,024 by default) and costs
a scheduler decision, a deferral and a resume per picture, one batch task drives up to its
``items`` (a few hundred): it submits while fewer than ``max_in_flight`` Runway tasks run, waits
for all of them in one trigger (or in the worker), stores each output as it ends and submits the
next. Map it over chunks of a large listing: 10,000 pictures in chunks of 100 are 100 task
instances. Concurrency is this parameter, not a pool that must count deferred tasks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseOperator

from airflow_provider_runway.execution.extra_links import RunwayVideoLinkMixin
from airflow_provider_runway.execution.lineage import RunwayLineageMixin
from airflow_provider_runway.execution.wait import DEFAULT_NOT_VISIBLE_GRACE, DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT
from airflow_provider_runway.execution.wait_tracker import as_seconds
from airflow_provider_runway.runway.bodies import WIRE_NAMES
from airflow_provider_runway.runway.flavors import IMAGE_TO_VIDEO
from airflow_provider_runway.runway.poll_schedule import poll_interval_seconds

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_runway.execution.batch_run import BatchRun

# No trigger event sooner than this after a deferral: see RunwayBatchTrigger's hold_until. Measured
# on a loaded 2-core LocalExecutor stack: the scheduler saw a deferring worker's exit 5-6 s after it.
RESUME_SETTLE_SECONDS = 15.0


class RunwayBatchOperator(RunwayVideoLinkMixin, RunwayLineageMixin, BaseOperator):
    """Turn a list of pictures into stored videos (and sidecars) in one task.

    Every promise of one ``RunwayImageToVideoOperator(wait_for_completion=True, idempotent=True)``
    holds per picture: bad input fails before its paid call, an output already stored for the same
    inputs is skipped (nothing paid), each Runway task id is saved before anything else so a retry,
    a killed worker or a restarted triggerer reconnects instead of paying again, and a content
    refusal is never resubmitted. One picture's failure fails none of the others; the task ends
    failed, after storing what succeeded, when any picture failed.

    :param items: one dict per picture: ``prompt_image`` and any of ``prompt_text``, ``model``,
        ``ratio``, ``duration``, ``seed``, ``watermark`` (``batch.planning.plan_items`` makes them).
    :param output_path: the folder the videos and their sidecars go to (local or object storage).
    :param defaults: parameters for every picture that does not set its own.
    :param max_in_flight: Runway tasks running at once (the account's concurrency, or its share).
    :param budget_credits: stop creating once the creates' estimates (the API's, else the
        catalog's) would pass this; the pictures left are reported as not started, never paid.
    :param input_conn_id: Airflow connection for reading the pictures (e.g. an ``aws`` one).
    :param output_conn_id: Airflow connection for writing the videos.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``); else
        poll from the worker, submitting the next picture as soon as one ends.
    :param timeout: seconds to wait for each picture's Runway task before giving up on it.
    :param resume_settle: seconds after a deferral before the trigger may fire (see
        ``RunwayBatchTrigger``'s ``hold_until``); 0 where no scheduler races it (``dag.test()``).

    XCom ``runway_outputs``: every picture's outcome (created, skipped, failed, not_started) with
    its stored output, sidecar, Runway task id, credits and failure code; ``return_value``: counts.
    """

    body_fields: Mapping[str, str] = WIRE_NAMES
    template_fields: Sequence[str] = (
        "items",
        "defaults",
        "output_path",
        "max_in_flight",
        "budget_credits",
        "runway_conn_id",
        "input_conn_id",
        "output_conn_id",
        "extra_body",
    )
    template_fields_renderers = {"items": "json", "defaults": "json", "extra_body": "json"}
    ui_color = "#d9c6f2"

    def __init__(
        self,
        *,
        items: Sequence[Mapping[str, Any]] | str,
        output_path: str,
        defaults: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        max_in_flight: int | str = 4,
        budget_credits: float | str | None = None,
        runway_conn_id: str = "runway_default",
        input_conn_id: str | None = None,
        output_conn_id: str | None = None,
        idempotent: bool = True,
        lenient: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=True),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: timedelta | float = DEFAULT_TIMEOUT,
        not_visible_grace: float = DEFAULT_NOT_VISIBLE_GRACE,
        resubmit_on_failure: bool = True,
        cancel_on_kill: bool = True,
        resume_settle: float = RESUME_SETTLE_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not output_path:
            raise ValueError("output_path is required: the folder the videos and their sidecars go to")
        self.items = items
        self.output_path = output_path
        self.defaults = dict(defaults or {})
        self.extra_body = extra_body
        self.max_in_flight = max_in_flight
        self.budget_credits = budget_credits
        self.runway_conn_id = runway_conn_id
        self.input_conn_id = input_conn_id
        self.output_conn_id = output_conn_id
        self.idempotent = idempotent
        self.lenient = lenient
        self.deferrable = deferrable
        self.poll_interval = poll_interval_seconds(poll_interval)
        self.wait_timeout = as_seconds(timeout)
        self.not_visible_grace = float(not_visible_grace)
        self.resubmit_on_failure = resubmit_on_failure
        self.cancel_on_kill = cancel_on_kill
        self.resume_settle = float(resume_settle)
        self.endpoint = IMAGE_TO_VIDEO
        self._running: BatchRun | None = None

    def _run(self, context: Context) -> BatchRun:
        from airflow_provider_runway.execution.batch_run import BatchRun
        from airflow_provider_runway.runway.fields import invalid

        if not isinstance(self.items, Sequence) or isinstance(self.items, str):
            raise invalid("items", f"must be a list of picture parameters, got {type(self.items).__name__}")
        try:
            self.max_in_flight = max(1, int(self.max_in_flight))
        except (TypeError, ValueError):
            raise invalid("max_in_flight", f"must be a whole number, got {self.max_in_flight!r}") from None
        self.output_path = str(self.output_path).rstrip("/") + "/"
        # Templated connection ids render "" when the DAG's parameter is empty.
        self.input_conn_id = self.input_conn_id or None
        self.output_conn_id = self.output_conn_id or None
        self._running = BatchRun(self, context, self.items)
        return self._running

    def execute(self, context: Context) -> dict[str, int]:
        run = self._run(context)
        self.log.info("%d picture(s); up to %d Runway task(s) at once", len(self.items), self.max_in_flight)
        run.reconnect()
        return self._advance(context, run, {})

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, int]:
        """Resume after the trigger: store what ended, submit more, wait again or finish."""
        return self._advance(context, self._run(context), event.get("ended") or {})

    def _advance(self, context: Context, run: BatchRun, ended: Mapping[str, Any]) -> dict[str, int]:
        from airflow_provider_runway.batch.ledger import PENDING

        while True:
            run.settle(ended)
            run.refill()
            flying = run.ledger.in_flight()
            if not flying:
                return self._finish(context, run)
            self.log.info("%s; waiting on %d Runway task(s)", run.counts(), len(flying))
            if self.deferrable:
                self.defer(trigger=self._trigger(run), method_name="execute_complete")
            # In the worker a resume costs nothing: refill a slot as soon as one ends.
            ended = run.wait_blocking(1 if run.ledger.with_status(PENDING) else len(flying))

    def _trigger(self, run: BatchRun) -> Any:
        from airflow_provider_runway.batch.ledger import PENDING, resume_when
        from airflow_provider_runway.triggers.batch import RunwayBatchTrigger

        flying = run.ledger.in_flight()
        return RunwayBatchTrigger(
            runway_task_ids={
                str(e.runway_task_id): (e.submitted_at or 0) + self.wait_timeout if self.wait_timeout else None
                for e in flying
            },
            runway_conn_id=self.runway_conn_id,
            poll_interval=self.poll_interval,
            resume_when=resume_when(len(flying), len(run.ledger.with_status(PENDING)), int(self.max_in_flight)),
            not_visible_until=max((e.submitted_at or 0) for e in flying) + self.not_visible_grace,
            cancel_on_kill=self.cancel_on_kill,
            hold_until=time.time() + self.resume_settle,
        )

    def _finish(self, context: Context, run: BatchRun) -> dict[str, int]:
        from airflow_provider_runway._compat import AirflowException, AirflowFailException
        from airflow_provider_runway.execution.batch_run import KEEP, on_retry
        from airflow_provider_runway.execution.outcomes import XCOM_OUTPUTS_KEY, emit_batch_asset_events

        outcomes = run.ledger.outcomes()
        context["ti"].xcom_push(key=XCOM_OUTPUTS_KEY, value=outcomes)
        emit_batch_asset_events(self, context, outcomes)
        counts = run.counts()
        self.log.info("Batch done: %s", counts)
        failed = run.failed()
        if not failed:
            run.forget()
            return counts
        # The ledger stays: a retry keeps what was made and submits only what may be submitted again.
        codes = sorted({str(r.get("failure_code")) for r in failed})
        message = f"{len(failed)} of {len(outcomes)} picture(s) failed ({', '.join(codes)}); the others are stored"
        if any(on_retry(r) != KEEP for r in failed):
            raise AirflowException(message + "; a retry submits again only the ones Runway allows to retry")
        raise AirflowFailException(message)

    def on_kill(self) -> None:
        """The worker is being killed mid-wait (deferrable=False): cancel what still runs."""
        if self.cancel_on_kill and self._running is not None:
            self._running.cancel_in_flight()
