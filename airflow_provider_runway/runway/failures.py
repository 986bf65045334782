"""Runway failure codes: what a FAILED task means and whether submitting it again may help.

Pure data and one lookup, shared by the wait's result (which Airflow exception to raise) and
the operator's resubmit decision (whether an Airflow retry may pay for a new task).

Sources, checked 2026-11:

* https://docs.dev.runwayml.com/errors/task-failures/ (also served at /api-details/task-failures):
  ``SAFETY.INPUT.*``, ``SAFETY.OUTPUT.*`` and ``INPUT_PREPROCESSING.SAFETY.TEXT`` "should not be
  retried"; ``INTERNAL.BAD_OUTPUT.*`` "may retry, but they are not likely to succeed";
  ``INPUT_PREPROCESSING.INTERNAL`` is a problem performing content moderation.
* https://docs.dev.runwayml.com/api-details/moderation and
  https://help.runwayml.com/hc/en-us/articles/32880432736659 : moderated generations cost the same
  credits, and repeatedly attempting blocked content may get the account suspended.
* ``INTERNAL`` (retry may help) and ``ASSET.INVALID`` (bad input) from the same page's later
  sections, as the project's API notes record them. The SDK types ``failureCode`` as a free
  string (runwayml 5.13 ``types/task_retrieve_response.py``): new codes must be expected.

A code nobody documented is never resubmitted automatically: paying again for a failure we
cannot explain is the expensive mistake, a manual re-run is the cheap one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow_provider_runway.runway.remote_task import CANCELLED, FAILED, RunwayTask

DOCS_URL = "https://docs.dev.runwayml.com/errors/task-failures/"


@dataclass(frozen=True)
class FailureRule:
    """One documented code (``pattern`` exact) or family (``pattern`` ending in ``.*``)."""

    pattern: str
    retry_allowed: bool
    meaning: str

    def matches(self, code: str) -> bool:
        if self.pattern.endswith(".*"):
            stem = self.pattern[:-2]
            return code == stem or code.startswith(stem + ".")
        return code == self.pattern


# Most specific first: the first matching rule decides.
FAILURE_RULES: tuple[FailureRule, ...] = (
    FailureRule(
        "SAFETY.INPUT.*",
        False,
        "an input was refused by Runway's content moderation; repeating it can get the account suspended",
    ),
    FailureRule(
        "SAFETY.OUTPUT.*",
        False,
        "the generated output was refused by Runway's content moderation; repeating it can get the account suspended",
    ),
    FailureRule("SAFETY.*", False, "refused by Runway's content moderation"),
    FailureRule(
        "INPUT_PREPROCESSING.SAFETY.TEXT",
        False,
        "the prompt text was refused by Runway's content moderation; repeating it can get the account suspended",
    ),
    FailureRule(
        "INPUT_PREPROCESSING.INTERNAL",
        True,
        "Runway had a problem performing content moderation; a retry may succeed",
    ),
    FailureRule(
        "INTERNAL.BAD_OUTPUT.*",
        True,
        "Runway's quality checks rejected the generation (often overlaid text or graphics in the input "
        "image); a retry is allowed but rarely succeeds",
    ),
    FailureRule("INTERNAL", True, "an internal error at Runway; a retry may succeed"),
    FailureRule("ASSET.INVALID", False, "an input asset is invalid (format, size or URL): fix the input"),
)

# Something shaped like a failure code inside free text (CometAPI's ``fail_reason``).
_CODE_IN_TEXT = re.compile(r"\b[A-Z][A-Z0-9_]*(?:\.[A-Z0-9_*]+)+\b|\bINTERNAL\b")


@dataclass(frozen=True)
class FailureVerdict:
    """What one finished-unsuccessfully task means.

    :param code: the failure code as reported (or found in the failure text), None if none.
    :param retry_allowed: Runway's documentation allows submitting the same request again.
    :param meaning: one sentence for the error message.
    :param source: where the code came from: ``failureCode``, ``failure text`` or ``none``.
    """

    code: str | None
    retry_allowed: bool
    meaning: str
    source: str

    def explain(self, will_resubmit: bool, why_not: str | None = None) -> str:
        """The sentence the error message carries: code, meaning, and what happens next."""
        label = self.code or "no failure code"
        if self.source == "failure text":
            label += " (read from the failure text)"
        if will_resubmit:
            outcome = "an Airflow retry of this task will submit a new Runway task"
        elif self.retry_allowed:
            outcome = f"Runway allows a retry, but it will not be resubmitted: {why_not or 'not allowed here'}"
        else:
            outcome = "it will not be resubmitted automatically"
        return f"{label}: {self.meaning}; {outcome}."


_CANCELLED = FailureVerdict(None, True, "the task was cancelled (by a user, or by a wait that gave up)", "none")


def _by_code(code: str, source: str) -> FailureVerdict | None:
    normalised = code.strip().upper()
    for rule in FAILURE_RULES:
        if rule.matches(normalised):
            return FailureVerdict(normalised, rule.retry_allowed, rule.meaning, source)
    return None


def classify_failure(code: str | None, text: str | None = None) -> FailureVerdict:
    """Classify a failure by its code, else by codes named in its text; unsure means never retry."""
    if code and code.strip():
        return _by_code(code, "failureCode") or FailureVerdict(
            code.strip(), False, f"a failure code not documented by Runway (see {DOCS_URL})", "failureCode"
        )
    found = [verdict for token in _CODE_IN_TEXT.findall(text or "") if (verdict := _by_code(token, "failure text"))]
    refused = [verdict for verdict in found if not verdict.retry_allowed]
    if refused or found:
        return (refused or found)[0]
    return FailureVerdict(
        None, False, "the API gave no failure code and its text names none, so the cause is unknown", "none"
    )


def classify_task(task: RunwayTask) -> FailureVerdict | None:
    """The verdict for a FAILED or CANCELLED task; None for any other status."""
    if task.status == FAILED:
        return classify_failure(task.failure_code, task.failure)
    if task.status == CANCELLED:
        return _CANCELLED
    return None
