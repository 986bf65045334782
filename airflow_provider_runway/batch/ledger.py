"""What one batch task has paid for, picture by picture: the record that survives retries and restarts.

Pure and plain JSON. The batch task saves it (task state store, else a Variable) right after
each create, before anything else, so a retry, a killed worker or a restarted triggerer finds
every Runway task already created and reconnects instead of paying again. Each item moves
PENDING -> SUBMITTED -> one of CREATED, SKIPPED, FAILED, NOT_STARTED (the budget ran out first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_runway.media.sidecars import CREATED, FAILED, SKIPPED

PENDING, SUBMITTED, NOT_STARTED = "pending", "submitted", "not_started"
FINISHED = frozenset({CREATED, SKIPPED, FAILED, NOT_STARTED})
LEDGER_VERSION = 1


@dataclass
class ItemEntry:
    """One picture of the batch: where it is in the chunk, what it is, and what became of it."""

    index: int
    picture: str
    status: str = PENDING
    runway_task_id: str | None = None
    request: dict[str, Any] = field(default_factory=dict)  # what its sidecar needs (no payloads)
    submitted_at: float | None = None
    record: dict[str, Any] | None = None  # its outcome, as summaries read it

    def to_json(self) -> dict[str, Any]:
        return {
            "picture": self.picture,
            "status": self.status,
            "runway_task_id": self.runway_task_id,
            "request": self.request,
            "submitted_at": self.submitted_at,
            "record": self.record,
        }


@dataclass
class BatchLedger:
    """Every picture of one batch task and the credits its creates were estimated at so far."""

    entries: list[ItemEntry]
    spent: float = 0.0  # running total of the creates' estimates (the API's, else the catalog's)

    @classmethod
    def start(cls, pictures: Sequence[str]) -> BatchLedger:
        return cls([ItemEntry(index, picture) for index, picture in enumerate(pictures)])

    @classmethod
    def resume(cls, stored: Any, pictures: Sequence[str]) -> BatchLedger:
        """The stored ledger when it describes these pictures, else a fresh one.

        A stored ledger for other pictures (the plan changed under a cleared task) would pair
        Runway tasks with the wrong inputs: it is not used, and nothing of it is reconnected.
        """
        if not isinstance(stored, Mapping) or stored.get("version") != LEDGER_VERSION:
            return cls.start(pictures)
        raw = stored.get("items")
        if not isinstance(raw, list) or [str(e.get("picture")) for e in raw if isinstance(e, Mapping)] != list(
            pictures
        ):
            return cls.start(pictures)
        entries = [
            ItemEntry(
                index,
                str(entry["picture"]),
                str(entry.get("status") or PENDING),
                entry.get("runway_task_id"),
                dict(entry.get("request") or {}),
                entry.get("submitted_at"),
                entry.get("record"),
            )
            for index, entry in enumerate(raw)
        ]
        return cls(entries, float(stored.get("spent") or 0.0))

    def to_json(self) -> dict[str, Any]:
        return {"version": LEDGER_VERSION, "spent": self.spent, "items": [e.to_json() for e in self.entries]}

    def with_status(self, *statuses: str) -> list[ItemEntry]:
        return [entry for entry in self.entries if entry.status in statuses]

    def in_flight(self) -> list[ItemEntry]:
        return self.with_status(SUBMITTED)

    def by_task_id(self, runway_task_id: str) -> ItemEntry | None:
        return next((e for e in self.entries if e.runway_task_id == runway_task_id and e.status == SUBMITTED), None)

    def submitted(
        self, entry: ItemEntry, runway_task_id: str, request: Mapping[str, Any], at: float, estimate: float | None
    ) -> None:
        entry.status, entry.runway_task_id, entry.request, entry.submitted_at = (
            SUBMITTED,
            runway_task_id,
            dict(request),
            at,
        )
        self.spent += estimate or 0.0

    def finished(self, entry: ItemEntry, outcome: str, record: Mapping[str, Any]) -> None:
        entry.status, entry.record = outcome, {**record, "item": entry.index, "picture": entry.picture}

    def stop_pending(self, message: str) -> None:
        """The budget is spent: every picture not yet started stays unmade, and says why."""
        for entry in self.with_status(PENDING):
            self.finished(entry, NOT_STARTED, {"outcome": NOT_STARTED, "image": entry.picture, "message": message})

    def outcomes(self) -> list[dict[str, Any]]:
        """Each finished picture's outcome record, in the chunk's order."""
        return [dict(e.record) for e in self.entries if e.status in FINISHED and e.record is not None]

    @property
    def done(self) -> bool:
        return all(entry.status in FINISHED for entry in self.entries)


def refill_count(in_flight: int, pending: int, max_in_flight: int) -> int:
    """How many pictures to submit now: up to ``max_in_flight`` running at once."""
    return max(0, min(pending, max_in_flight - in_flight))


def resume_when(in_flight: int, pending: int, max_in_flight: int) -> int:
    """How many running tasks must finish before the batch task resumes to store them and submit more.

    Half the in-flight bound while pictures wait (each resume costs a worker start, so one resume
    should refill many slots); all of them once nothing waits (nothing to refill).
    """
    if in_flight <= 0:
        return 0
    if pending <= 0:
        return in_flight
    return min(in_flight, max(1, max_in_flight // 2))
