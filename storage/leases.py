"""Named leases (table `job_leases`): one holder at a time, a standby takes over once it expires.

The jobs process holds `scheduler`; each WeCom AI bot's long connection holds `wecom-ws:<bot_id>`.
A holder renews its lease well before it expires (a third of its time); one that dies stops
renewing, and a standby's next attempt after the expiry takes it. A holder that stops cleanly
releases it, so its standby takes over at once.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import JobLease


class Lease:
    """One named lease as seen by one holder."""

    def __init__(self, session_factory: sessionmaker[Session], now: Callable[[], datetime], name: str, holder: str,
                 ttl: timedelta):
        self.Session, self.now, self.name, self.holder, self.ttl = session_factory, now, name, holder, ttl

    @property
    def renew_seconds(self) -> float:
        """How often a holder renews, and a standby tries: a third of the lease, at least a second."""
        return max(1.0, self.ttl.total_seconds() / 3)

    def take(self) -> bool:
        """Take or renew the lease; True while this holder has it."""
        now = self.now()
        try:
            with self.Session.begin() as session:
                taken = cast(CursorResult, session.execute(update(JobLease).where(
                    JobLease.name == self.name, (JobLease.holder == self.holder) | (JobLease.expires_at < now))
                    .values(holder=self.holder, expires_at=now + self.ttl))).rowcount
                if taken:
                    return True
                if session.scalar(select(JobLease.name).where(JobLease.name == self.name)) is None:
                    session.add(JobLease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
                    return True
                return False
        except IntegrityError:   # another process inserted it first
            return False

    def holder_now(self) -> str | None:
        """Who holds the lease now (None when nobody does)."""
        with self.Session() as session:
            row = session.get(JobLease, self.name)
            return row.holder if row is not None and row.expires_at >= self.now() else None

    def release(self) -> None:
        """Give the lease up (if this holder has it), so a standby takes over at once."""
        with self.Session.begin() as session:
            session.execute(update(JobLease).where(JobLease.name == self.name, JobLease.holder == self.holder)
                            .values(expires_at=self.now() - timedelta(seconds=1)))
