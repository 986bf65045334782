"""The "Runway video" button for every task that makes Runway outputs (create operators, the sensor, batches)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink


class RunwayVideoLinkMixin:
    """Adds the "Runway video" extra link: the task instance's Runway tab in the Airflow UI (``links``)."""

    if TYPE_CHECKING:
        operator_extra_links: Collection[BaseOperatorLink]
    else:

        @property
        def operator_extra_links(self):
            """A property, so that parsing a DAG does not import the link machinery."""
            from airflow_provider_runway.links import RunwayVideoLink

            return (RunwayVideoLink(),)
