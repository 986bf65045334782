"""What a failure code on the Runway view means, in one sentence. Pure.

Runway's own codes are explained by ``runway.failures``; the provider records a few codes of
its own for what fails before or after Runway's part (a refused input, the credit cap, storing)
and for waits that ended without a final answer.
"""

from __future__ import annotations

from airflow_provider_runway.execution.outcomes import INVALID_INPUT, STORE_FAILED
from airflow_provider_runway.execution.wait_tracker import ERROR, TASK_CANCELLED, TASK_FAILED, TIMEOUT
from airflow_provider_runway.runway.credit_caps import CREDIT_LIMIT
from airflow_provider_runway.runway.failures import classify_failure

# Codes the provider records besides Runway's (``record_wait_failure`` upper-cases the wait's status).
PROVIDER_MEANINGS: dict[str, str] = {
    INVALID_INPUT: "refused before any paid call: an input or a field is invalid (the message names it)",
    STORE_FAILED: (
        "Runway made the output and charged for it, but storing it failed; clear or retry the task to "
        "store it without paying again"
    ),
    CREDIT_LIMIT: "refused, or cancelled at once, because it would cost more than max_credits",
    TIMEOUT.upper(): "the wait timed out; the Runway task was cancelled unless cancel_on_timeout=False",
    ERROR.upper(): "the wait gave up on answers it could not use (see the task log)",
    TASK_CANCELLED.upper(): "the Runway task was cancelled (by a user, or by a wait that gave up)",
}


def failure_meaning(code: str | None, message: str | None = None) -> str:
    """The meaning of ``code``: the provider's own codes, else Runway's documented ones (or none known)."""
    if code and code.upper() in PROVIDER_MEANINGS:
        return PROVIDER_MEANINGS[code.upper()]
    if code and code.upper() == TASK_FAILED.upper():
        code = None  # FAILED without a failure code: the text may still name one
    if code is None and not message:
        return "the task left no failure code; its log says what happened"
    return classify_failure(code, message).meaning
