"""The outbox table: every outgoing message is a row, written in the transaction that caused it."""
from __future__ import annotations

from datetime import datetime, timedelta
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import CursorResult, event, insert, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage

LEASE = timedelta(seconds=60)
PENDING = "outbox_rows"     # rows enqueued in this transaction, not yet written
KEYS = "outbox_keys"        # their keys (and keys found to exist), so that each is queued once


def enqueue(session: Session, now: datetime, *, key: str, platform: str, channel: str, target: str,
            payload: dict, status: str = "pending", error: str = "", fresh: bool = False,
            not_before: datetime | None = None) -> None:
    """Add a message unless one with the same idempotency key exists.
    `fresh`: the caller knows the key is new (it contains a message id just claimed).

    The rows are written together, with one multi-row INSERT, at the transaction's next flush or
    at its commit (a scan that raises a thousand warnings writes thousands of rows: one by one
    through the unit of work they cost more than everything else it does)."""
    queued = session.info.setdefault(KEYS, set())
    if key in queued:
        return
    if not fresh:
        with session.no_autoflush:  # a flush per message made a scan with many warnings slow
            existing = session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
        if existing is not None:
            queued.add(key)
            return
    row = {"idempotency_key": key, "platform": platform, "channel": channel, "target": target, "payload": payload,
           "status": status, "attempts": 0, "next_attempt_at": max(now, not_before or now), "last_error": error,
           "created_at": now, "sent_at": now if status == "sent" else None}
    if session.in_nested_transaction():   # a savepoint may be rolled back: let the ORM track the row
        session.add(OutboxMessage(**row))
    else:
        session.info.setdefault(PENDING, []).append(row)
    queued.add(key)


@event.listens_for(Session, "before_flush")
def _write_pending(session: Session, *_args) -> None:
    if session.in_nested_transaction():   # written at the outer level, never inside a savepoint
        return
    rows = session.info.pop(PENDING, None)
    if rows:
        session.connection().execute(insert(OutboxMessage), rows)


@event.listens_for(Session, "before_commit")
def _write_pending_at_commit(session: Session) -> None:
    _write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _write_pending_before_query(state) -> None:
    if state.session.autoflush and state.session.info.get(PENDING):   # as an autoflush would
        _write_pending(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:   # committed (written) or rolled back (dropped) with it
        session.info.pop(PENDING, None)
        session.info.pop(KEYS, None)


def due_ids(session: Session, now: datetime, limit: int, platforms: Collection[str] | None = None) -> list[int]:
    """Messages ready for a try: pending, or 'sending' whose sender's lease ran out (it died);
    only those of `platforms` when given (a process sends only what it has a way to send)."""
    stmt = select(OutboxMessage.id).where(OutboxMessage.status.in_(("pending", "sending")),
                                          OutboxMessage.next_attempt_at <= now)
    if platforms is not None:
        stmt = stmt.where(OutboxMessage.platform.in_(list(platforms)))
    return list(session.scalars(stmt.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def claim(session: Session, now: datetime, message_id: int, lease: timedelta = LEASE) -> bool:
    """Take one message for sending; False if another dispatcher took it first."""
    result = cast(CursorResult, session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id,
                                    OutboxMessage.status.in_(("pending", "sending")),
                                    OutboxMessage.next_attempt_at <= now)
        .values(status="sending", next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)))
    return result.rowcount == 1


def mark_sent(session: Session, now: datetime, message_id: int) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="sent", sent_at=now, last_error=""))


def mark_failed(session: Session, now: datetime, message_id: int, error: str, *, retry_at: datetime | None) -> None:
    """Schedule another try at `retry_at`, or move the message to the dead letters."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    values.update({"status": "pending", "next_attempt_at": retry_at} if retry_at else {"status": "dead"})
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def refund_attempt(session: Session, message_id: int) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(attempts=OutboxMessage.attempts - 1))


def failed(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead")
                                .order_by(OutboxMessage.id)))


def retry_dead(session: Session, now: datetime, ids: list[int] | None = None) -> int:
    stmt = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids:
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    return cast(CursorResult, session.execute(stmt.values(status="pending", next_attempt_at=now, attempts=0))).rowcount


