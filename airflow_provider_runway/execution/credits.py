"""Credits while an Airflow task runs a Runway task: the cap before the create, the API's estimate after it.

Before the create the catalog's estimate is logged and ``max_credits`` refuses a request priced
above it (nothing paid). Right after the create the API's own ``estimatedCost`` is logged, pushed
to XCom ``runway_credits`` and checked: above the cap (or no figure at all for a request the
catalog cannot price), the task is cancelled at once — while the server most likely still sees
it PENDING, which Runway refunds — its final ``cost`` is read back, and the Airflow task fails
naming the estimate, the cap and what was charged. The decisions are ``runway.credit_caps``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.execution.outcomes import push_xcom, record_failure
from airflow_provider_runway.runway.credit_caps import (
    CREDIT_LIMIT,
    api_estimate_refusal,
    describe_estimate,
    task_refusal,
)
from airflow_provider_runway.runway.credits import CreditEstimate, estimate_credits, task_credits
from airflow_provider_runway.runway.errors import RunwayError
from airflow_provider_runway.runway.remote_task import PENDING, THROTTLED

if TYPE_CHECKING:
    from airflow_provider_runway.execution.prepare import PreparedRequest
    from airflow_provider_runway.hooks.runway import RunwayHook
    from airflow_provider_runway.runway.remote_task import CreatedTask

XCOM_CREDITS_KEY = "runway_credits"


def check_before_create(op: Any, context: Mapping[str, Any], prepared: PreparedRequest) -> CreditEstimate:
    """Log the catalog's estimate; refuse (before any paid call) a request priced above ``max_credits``."""
    from airflow_provider_runway._compat import AirflowFailException

    estimate = estimate_credits(op.endpoint, prepared.checked.body, prepared.flavor)
    op.log.info("Estimated cost: %s", describe_estimate(estimate))
    refusal = task_refusal(estimate, op.max_credits)
    if refusal is not None:
        record_failure(op, context, CREDIT_LIMIT, refusal, endpoint=op.endpoint)
        raise AirflowFailException(refusal)
    if op.max_credits is not None and estimate.credits is None:
        op.log.info("max_credits=%s: the API's own estimate will decide right after the create", op.max_credits)
    return estimate


def check_after_create(
    op: Any, context: Mapping[str, Any], hook: RunwayHook, estimate: CreditEstimate, created: CreatedTask
) -> dict[str, Any]:
    """Report the API's estimate; cancel a task it puts above ``max_credits`` and fail, naming the charge.

    Returns the task's credits record (``runway.credits.task_credits``), also pushed to XCom.
    """
    from airflow_provider_runway._compat import AirflowFailException

    credits = task_credits(estimate.credits, created.estimated_credits)
    push_xcom(context, XCOM_CREDITS_KEY, credits)
    refusal = api_estimate_refusal(estimate, created.estimated_credits, op.max_credits)
    if refusal is None:
        return credits
    what = _cancel_and_read_cost(op, hook, created.id)
    credits = {**credits, "charged": what.get("charged"), "cancelled_while": what.get("cancelled_while")}
    push_xcom(context, XCOM_CREDITS_KEY, credits)
    message = f"{refusal}; Runway task {created.id} was cancelled at once: {what['said']}"
    record_failure(op, context, CREDIT_LIMIT, message, endpoint=op.endpoint, runway_task_id=created.id, credits=credits)
    raise AirflowFailException(message)


def _cancel_and_read_cost(op: Any, hook: RunwayHook, runway_task_id: str) -> dict[str, Any]:
    """Cancel, then tell what it cost: the final ``cost`` if the task can still be read, else what
    Runway's refund rule says for the status seen right before the cancel.

    Runway forgets a cancelled task ("aborted and deleted tasks will not be able to be fetched
    again", runwayml 5.24.0 ``tasks.delete``), and refunds one it sees PENDING or THROTTLED while
    cancelling, not one it sees RUNNING.
    """
    try:
        seen = hook.get_task(runway_task_id).status
    except RunwayError as err:
        seen = f"unreadable ({err})"
    try:
        sent = hook.cancel_task(runway_task_id)
    except RunwayError as err:
        op.log.error("Could not cancel Runway task %s: %s", runway_task_id, err)
        sent = False
    if not sent:
        return {"charged": None, "said": f"the cancel was not accepted; the task was {seen} and may charge"}
    try:
        task = hook.get_task(runway_task_id)
    except RunwayError:
        task = None
    if task is not None and task.cost_credits is not None:
        return {"charged": task.cost_credits, "said": f"status {task.status}, charged {task.cost_credits:.10g} credits"}
    if seen in (PENDING, THROTTLED):
        rule = "Runway refunds a task it sees PENDING or THROTTLED while cancelling: most likely nothing was charged"
    else:
        rule = "Runway does not refund a task it sees RUNNING while cancelling"
    return {
        "charged": None,
        "cancelled_while": seen,
        "said": f"it was {seen} right before; {rule} (a cancelled task cannot be read back to confirm)",
    }
