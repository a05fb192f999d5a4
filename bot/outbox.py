"""Delivering the outbox: claim due rows, send through the platform, retry with backoff."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol
from datetime import datetime, timedelta, UTC

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from storage import outbox as store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class SendError(Exception):
    """A send that failed; `retryable` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after  # the platform told us when (rate limits)


Sender = Callable[[OutboxMessage], object]   # what it returns is not used


class Limiter(Protocol):
    """Paces sends: `acquire(key)` is 0 when a send to `key` may go now (and counts it), else the
    seconds to wait."""

    def acquire(self, key: str) -> float: ...


class RateLimiter:
    """At most `limit` sends per `window` seconds per key, within this process (a platform
    client used without a database; the app's platforms use `SharedRateLimiter`)."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._sent: dict[str, deque] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """0 if a send may go now (and counts it), else the seconds to wait."""
        with self._lock:
            now = self.clock()
            sent = self._sent.setdefault(key, deque())
            while sent and now - sent[0] >= self.window:
                sent.popleft()
            if len(sent) >= self.limit:
                return self.window - (now - sent[0])
            sent.append(now)
            return 0.0


class SharedRateLimiter:
    """At most `limit` sends per `window` seconds per key, counted in the database: every process
    that sends shares the count. Wall-clock time (a platform counts real minutes, even when the
    sandbox's clock is moved on)."""

    def __init__(self, session_factory: sessionmaker[Session], limit: int = 20, window: float = 60.0,
                 clock=time.time, prefix: str = ""):
        self.Session, self.limit, self.window, self.clock = session_factory, limit, window, clock
        self.prefix = prefix  # the platform's name: keys of two platforms never meet

    def acquire(self, key: str) -> float:
        """0 if a send may go now (and counts it), else the seconds to wait."""
        from storage.db import retrying
        from storage.ratelimits import take_slot

        def work() -> float:
            now = datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)
            with self.Session.begin() as session:
                return take_slot(session, self.prefix + key, now, self.limit, timedelta(seconds=self.window))
        return retrying(work)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** (attempts - 1), 3600))


class Dispatcher:
    """Sends due outbox rows. Safe to run in several processes at once: rows are claimed."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, senders: dict[tuple[str, str], Sender],
                 lease: timedelta = store.LEASE):
        self.Session, self.clock, self.senders, self.lease = session_factory, clock, senders, lease
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def run_once(self, limit: int = 100) -> int:
        """Try every due message of the platforms this dispatcher can send for, once; returns how
        many were sent. (A platform whose sends need a connection only one process holds, such
        as a long-lived WebSocket, is sent for by that process's own dispatcher.)"""
        platforms = {platform for platform, _channel in self.senders}
        with self.Session.begin() as session:
            ids = store.due_ids(session, self.clock.now(), limit, platforms)
        sent = 0
        for message_id in ids:
            sent += self._deliver(message_id)
        return sent

    def _deliver(self, message_id: int) -> int:
        with self.Session.begin() as session:
            if not store.claim(session, self.clock.now(), message_id, self.lease):
                return 0
            message = session.get(OutboxMessage, message_id)
            if message is None:   # claimed a moment ago, so never; but then there is nothing to send
                return 0
            session.expunge(message)
        sender = self.senders.get((message.platform, message.channel))
        try:
            if sender is None:
                raise SendError(f"no sender for {message.platform}/{message.channel}", retryable=False)
            sender(message)
        except SendError as exc:
            retry_at = None
            if exc.retry_after is not None:
                # A rate limit is not a failure of the message: it does not use up a try.
                retry_at = self.clock.now() + timedelta(seconds=exc.retry_after)
                self._refund_attempt(message_id)
            elif exc.retryable and message.attempts < MAX_ATTEMPTS:
                retry_at = self.clock.now() + backoff(message.attempts)
            log.warning("outbox %s: %s (attempt %s)", message_id, exc, message.attempts)
            with self.Session.begin() as session:
                store.mark_failed(session, self.clock.now(), message_id, str(exc), retry_at=retry_at)
            return 0
        with self.Session.begin() as session:
            store.mark_sent(session, self.clock.now(), message_id)
        return 1

    def _refund_attempt(self, message_id: int) -> None:
        with self.Session.begin() as session:
            store.refund_attempt(session, message_id)

    def kick(self) -> None:
        """Wake the background sender (started on first use; never at import time)."""
        with self._lock:
            if self._stopping:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the background sender (tests, sandbox shutdown); rows left are sent later."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(timeout=5)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self.run_once()
            except Exception:  # keep the sender alive; the rows stay due and are retried
                log.exception("outbox dispatch failed")
