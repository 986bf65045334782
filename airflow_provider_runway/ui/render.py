"""The Runway view's HTML: one server-rendered page (no JavaScript), autoescaped by Jinja2.

Everything shown comes from task records (prompts, messages, locations): autoescaping keeps a
prompt from ever becoming markup. Links point inside the mounted app (``mounted_at``, the ASGI
root path), so the page works under any ``[api] base_url`` path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_runway.media.sidecars import CREATED, FAILED, SKIPPED
from airflow_provider_runway.ui.routes import output_href, task_page_href
from airflow_provider_runway.ui.view_items import MADE_NOT_STORED, NOT_STARTED, ViewItem, totals_of

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).parent / "templates"
OUTCOME_CLASSES = {CREATED: "created", MADE_NOT_STORED: "made", SKIPPED: "skipped", FAILED: "failed"}
OUTCOME_WORDS = {NOT_STARTED: "not started"}


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    loader = jinja2.FileSystemLoader(TEMPLATES)
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def credits(value: float | None) -> str:
    """Credits as the API counts them: ``25``, ``12.5``; ``-`` when unknown."""
    return "-" if value is None else f"{value:.10g}"


def credit_text(item: ViewItem) -> str:
    """The item's credits in words: the API's exact charge first, an estimate labelled as one."""
    if item.outcome == SKIPPED:
        earlier = f" (charged {credits(item.credits_charged)} when it was made)" if item.credits_charged else ""
        return f"none in this run{earlier}"
    if item.credits_charged is not None:
        return f"{credits(item.credits_charged)} charged (the API's figure)"
    if item.credits_estimated is not None:
        source = f", {item.estimate_source}" if item.estimate_source else ""
        return f"about {credits(item.credits_estimated)} (estimate{source}; no final figure from the API)"
    return "unknown"


def outcome_class(item: ViewItem) -> str:
    return OUTCOME_CLASSES.get(item.outcome, "other")


def outcome_word(item: ViewItem) -> str:
    return OUTCOME_WORDS.get(item.outcome, item.outcome)


@dataclass(frozen=True)
class Page:
    """One page of a run's outputs (a batch run may have thousands; each card may load a video)."""

    items: Sequence[ViewItem]
    number: int  # from 1
    count: int
    first: int  # the first item's position, from 1

    @classmethod
    def of(cls, items: Sequence[ViewItem], number: int | None, size: int) -> Page:
        count = max(1, -(-len(items) // size))
        number = min(max(1, number or 1), count)
        start = (number - 1) * size
        return cls(items[start : start + size], number, count, start + 1)


def render_page(
    title: str,
    items: Sequence[ViewItem],
    page: Page,
    *,
    mounted_at: str,
    dag_id: str,
    run_id: str,
    map_index: int | None = None,
) -> str:
    """Totals of all ``items`` at the top, then one card per output of ``page`` (playable in place).

    ``map_index``: the task instance a task page shows, kept by the links to its other pages.
    """
    template = _environment().get_template("outputs.html")
    return template.render(
        title=title,
        items=page.items,
        page=page,
        total_items=len(items),
        totals=totals_of(items),
        credits=credits,
        credit_text=credit_text,
        outcome_class=outcome_class,
        outcome_word=outcome_word,
        page_href=lambda number: f"?page={number}" + (f"&map_index={map_index}" if map_index is not None else ""),
        output_href=lambda item: output_href(mounted_at, dag_id, run_id, item.task_id, item.map_index, item.item_index),
        task_href=lambda item: task_page_href(mounted_at, dag_id, run_id, item.task_id, item.map_index),
    )
