"""What a new task is estimated to cost: the price table applied to what the emulator will make.

The quantities are the emulator's own: the seconds it will render (``rendering.output_seconds``:
the body's duration, the documented default, else the input the output follows), the number
of outputs, the characters of ``promptText``. A Model Router task is priced as the model the
router chose (``routing.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runway_emulator import rendering
from runway_emulator.bodyview import view
from runway_emulator.prices import Quantities
from runway_emulator.routing import route

if TYPE_CHECKING:
    from runway_emulator.prices import PriceTable
    from runway_emulator.state import TaskInputs
    from runway_emulator.task_endpoints import TaskEndpoint


def billed_model(endpoint: str, body: Mapping[str, Any]) -> str:
    """The model a task is priced and reported as: the body's, the router's choice, else the endpoint."""
    chosen = route(endpoint, body)
    return str(body.get("model") or (chosen.model if chosen else endpoint))


@dataclass(frozen=True)
class Estimate:
    """The create's ``estimatedCost`` and what the task will finally cost (lower for ``"auto"``)."""

    credits: float
    final: float


async def estimate(
    prices: PriceTable, endpoint: TaskEndpoint, flavor: str, body: Mapping[str, Any], inputs: TaskInputs
) -> Estimate:
    """The credits the API answers as ``estimatedCost`` for a new task, and its final cost.

    A ``duration`` of ``"auto"`` "is billed at the variant maximum up front; unused credits are
    refunded after the generation finishes" (runwayml 5.24.0 docstrings): the estimate is the
    longest duration (the docstring's range, else the price's ``auto_seconds``), the final cost
    what the emulator renders.
    """
    seen = view(endpoint.name, flavor, body)
    chosen = route(endpoint.name, body)
    priced_endpoint = chosen.endpoint if chosen else endpoint.name
    model = str(chosen.model if chosen else body.get("model") or "") or None
    loop = asyncio.get_running_loop()
    # Measuring an input may run ffmpeg: never on the event loop.
    seconds = await loop.run_in_executor(None, rendering.output_seconds, endpoint.name, flavor, dict(body), inputs)
    text = seen.value("promptText")
    made = Quantities(seconds=seconds, images=seen.output_count(), characters=len(text) if isinstance(text, str) else 0)
    final = prices.estimate(priced_endpoint, model, endpoint.medium, made, seen.value)
    if seen.value("duration") != "auto":
        return Estimate(final, final)
    longest = seen.bounds("duration")[1] or prices.price_for(priced_endpoint, model, endpoint.medium).auto_seconds
    up_front = dataclasses.replace(made, seconds=max(longest or 0.0, seconds))
    return Estimate(prices.estimate(priced_endpoint, model, endpoint.medium, up_front, seen.value), final)
