"""`linerelay jobs`: APScheduler in a process of its own, never inside web workers.

Only the holder of the `scheduler` lease runs jobs; it renews the lease every 20 s (a third of a
shorter lease) for `schedule.scheduler_lease_seconds` (60). A second jobs process stands by and
takes over within that time of the first one dying.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta, UTC

from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs import run_job
from storage.leases import Lease

log = logging.getLogger(__name__)
LEASE = "scheduler"
TTL = timedelta(seconds=60)
RENEW_SECONDS = 20


def try_lease(relay, holder: str, ttl: timedelta = TTL) -> bool:
    """Take or renew the scheduler lease; True while this holder has it."""
    return Lease(relay.Session, relay.clock.now, LEASE, holder, ttl).take()


class JobsProcess:
    def __init__(self, relay, holder: str | None = None):
        self.relay = relay
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.leader = False
        self.ttl = timedelta(seconds=relay.settings.schedule.scheduler_lease_seconds)
        self.scheduler = BackgroundScheduler(timezone=relay.settings.app.timezone)
        self.stopped = threading.Event()

    def _renew(self) -> None:
        was = self.leader
        self.leader = try_lease(self.relay, self.holder, self.ttl)
        if self.leader != was:
            log.info("jobs: %s %s the lease", self.holder, "holds" if self.leader else "lost")

    def _job(self, name: str):
        def run():
            if not self.leader:
                return
            try:
                log.info("job %s: %s", name, run_job(self.relay, name))
            except Exception:
                log.exception("job %s failed", name)
        return run

    def _replan(self) -> None:
        """The whole plan again when commands re-timed orders or it has grown old (cheap check)."""
        if not self.leader:
            return
        try:
            from bot.jobs import replan
            result = replan.run(self.relay, force=False)
            if not result.get("skipped"):
                log.info("job replan: %s", result)
        except Exception:
            log.exception("job replan failed")

    def start(self) -> JobsProcess:
        sched = self.relay.settings.schedule
        self._renew()
        self.scheduler.add_job(self._renew, "interval", seconds=max(1, min(RENEW_SECONDS, self.ttl.seconds // 3)),
                               id="lease")
        self.scheduler.add_job(self._job("outbox"), "interval", seconds=5, id="outbox")
        self.scheduler.add_job(self._job("delay-scan"), "interval", minutes=sched.delay_scan_minutes, id="delay-scan")
        self.scheduler.add_job(self._job("daily-digest"), "interval", minutes=1, id="daily-digest")
        self.scheduler.add_job(self._job("reminders"), "interval", minutes=5, id="reminders")
        self.scheduler.add_job(self._replan, "interval", seconds=self.relay.settings.planning.replan_seconds,
                               id="replan")
        self.scheduler.add_job(self._job("calendar-check"), "interval", hours=1, id="calendar-check",
                               next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self._job("db-stats"), "interval", hours=6, id="db-stats",
                               next_run_time=datetime.now(UTC))
        directory = self.relay.settings.directory
        if directory is not None and directory.enabled and directory.daily_at:
            hour, minute = directory.daily_at.split(":")
            self.scheduler.add_job(self._job("directory-sync"), "cron", hour=int(hour), minute=int(minute),
                                   id="directory-sync")
        self.scheduler.start()
        return self

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.stopped.set()
