"""The append-only event log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage.db import writing_connection
from storage.models import Event, Person

_INSERT = insert(Event)   # built once: a plain statement, not a new object for the commit's flush


def record_event(session: Session, now: datetime, kind: str, *, order_id: int | None,
                 actor: Person | None, source: str = "", **data) -> None:
    """Append one event, written now. Events are never updated or deleted."""
    writing_connection(session).execute(_INSERT, {
        "order_id": order_id, "kind": kind, "actor_id": actor.id if actor else None,
        "actor": actor.name if actor else "system", "source": source, "data": data, "created_at": now})
