"""Read-only access to a running stack's metadata DB, SQLite or PostgreSQL.

Queries are written once with ``?`` placeholders; PostgreSQL gets them as ``%s``. Every read
opens its own short connection so that a test never holds a lock the scheduler waits for.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import psycopg2

# Errors a poll of the DB may hit while the stack is busy (locked, restarting): try again.
TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg2.OperationalError)


@dataclass(frozen=True)
class MetadataDB:
    """``url`` is the SQLAlchemy URL the stack runs on; ``fernet_key`` decrypts encrypted columns."""

    url: str
    fernet_key: str
    has_task_state_store: bool

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.is_postgres:
            # libpq reads the SQLAlchemy URL once the driver name is dropped.
            dsn = self.url.replace("postgresql+psycopg2://", "postgresql://", 1)
            with closing(psycopg2.connect(dsn)) as db, db.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return list(cursor.fetchall())
        path = self.url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
            return db.execute(sql, params).fetchall()

    def task_instances(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?"
            + (" AND task_id = ?" if task_id else "")
            + " ORDER BY task_id, map_index"
        )
        params = (dag_id, run_id, task_id) if task_id else (dag_id, run_id)
        keys = ("id", "task_id", "map_index", "state", "try_number")
        return [dict(zip(keys, row, strict=True)) for row in self.query(sql, *params)]

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id)
        return rows[0][0] if rows else None

    def has_dag(self, dag_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM serialized_dag WHERE dag_id = ?", dag_id))

    def running_jobs(self, job_type: str) -> list[int]:
        """Ids of the jobs of this type that have not ended (a SIGKILLed one stays 'running')."""
        rows = self.query("SELECT id FROM job WHERE job_type = ? AND state = 'running' ORDER BY id", job_type)
        return [int(row[0]) for row in rows]

    def trigger_rows(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT id, classpath, kwargs, triggerer_id FROM trigger ORDER BY id")
        return [{"id": r[0], "classpath": r[1], "kwargs": r[2], "triggerer_id": r[3]} for r in rows]

    def xcom_values(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> dict[int, Any]:
        """map_index -> decoded value (SQLite keeps JSON text; PostgreSQL's JSON column decodes itself)."""
        rows = self.query(
            "SELECT map_index, value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = ?",
            dag_id,
            run_id,
            task_id,
            key,
        )
        return {int(index): json.loads(value) if isinstance(value, str) else value for index, value in rows}

    def decrypt(self, value: str) -> str:
        """A Fernet-encrypted column value in clear (trigger kwargs may also be stored as plain JSON)."""
        from cryptography.fernet import Fernet

        if value.startswith("{"):
            return value
        return Fernet(self.fernet_key.encode()).decrypt(value.encode()).decode()

    def task_record(self, dag_id: str, run_id: str, task_id: str, map_index: int, name: str) -> Any:
        """A record the provider keeps across tries: task_state_store (>= 3.3) or its Variable (3.1/3.2)."""
        from airflow_provider_runway.execution.checkpoint import variable_key

        if self.has_task_state_store:
            rows = self.query(
                "SELECT value FROM task_state_store WHERE dag_id = ? AND run_id = ? AND task_id = ? "
                "AND map_index = ? AND key = ?",
                dag_id,
                run_id,
                task_id,
                map_index,
                name,
            )
            return rows[0][0] if rows else None
        rows = self.query(
            "SELECT val, is_encrypted FROM variable WHERE key = ?",
            variable_key(dag_id, run_id, task_id, map_index, name),
        )
        return (self.decrypt(rows[0][0]) if rows[0][1] else rows[0][0]) if rows else None

    def stored_runway_task_id(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
        """The Runway task id the provider stored for a retry of a single create."""
        from airflow_provider_runway.execution.checkpoint import TASK_ID_RECORD
        from airflow_provider_runway.execution.submitted_tasks import SubmittedTask

        value = self.task_record(dag_id, run_id, task_id, map_index, TASK_ID_RECORD)
        record = SubmittedTask.from_stored(value)  # the id with the try lineage that submitted it
        return record.runway_task_id if record else None
