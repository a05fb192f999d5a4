"""Send limits counted in the database, so that every process (web workers, the jobs process,
`linerelay run-job outbox`) draws on one count per target: a robot's 20 a minute hold however
many processes send."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import RateKey, RateSend


def _lock_key(session: Session, key: str) -> None:
    """Lock the target's row (creating it the first time): sends to one target queue here."""
    stmt = select(RateKey).where(RateKey.key == key).with_for_update(of=RateKey)
    if session.scalars(stmt).first() is None:
        try:
            with session.begin_nested():
                session.add(RateKey(key=key))
                session.flush()
        except IntegrityError:  # another process created it meanwhile
            pass
        session.scalars(stmt).one()


def take_slot(session: Session, key: str, now: datetime, limit: int, window: timedelta) -> float:
    """Count one send to `key` and return 0, or return the seconds until a slot frees (and
    count nothing) when `limit` sends happened within the last `window`. A sliding window:
    never more than `limit` in any `window`."""
    _lock_key(session, key)
    since = now - window
    session.execute(delete(RateSend).where(RateSend.key == key, RateSend.sent_at <= since))
    recent = session.scalars(select(RateSend.sent_at).where(RateSend.key == key, RateSend.sent_at > since)
                             .order_by(RateSend.sent_at)).all()
    if len(recent) >= limit:
        return max((recent[-limit] + window - now).total_seconds(), 0.01)
    session.add(RateSend(key=key, sent_at=now))
    return 0.0
