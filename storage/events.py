"""The append-only event log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Event, Person


def record_event(session: Session, now: datetime, kind: str, *, order_id: int | None,
                 actor: Person | None, source: str = "", **data) -> Event:
    """Append one event. Events are never updated or deleted."""
    event = Event(order_id=order_id, kind=kind, actor_id=actor.id if actor else None,
                  actor=actor.name if actor else "system", source=source, data=data, created_at=now)
    session.add(event)
    return event
