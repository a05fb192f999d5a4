"""Scheduled jobs: plain functions of the relay (session factory, clock, outbox), so a test can
run one at a chosen time and `linerelay run-job NAME` can run one from cron."""
from __future__ import annotations

from bot.worktime import QuietHours


def quiet_hours(relay) -> QuietHours:
    return QuietHours(relay.clock, relay.settings.schedule.quiet_hours)


def run_job(relay, name: str) -> dict:
    """Run one job now; returns what it did (for the CLI and tests)."""
    from bot.directory.sync import job as directory_sync
    from bot.jobs import calendar_check, delay_scan, digest, replan, reminders
    from storage.db import refresh_statistics
    jobs = {"delay-scan": delay_scan.run, "daily-digest": digest.run, "reminders": reminders.run,
            "replan": replan.run, "calendar-check": calendar_check.run, "directory-sync": directory_sync,
            "outbox": lambda r: {"sent": r.dispatcher.run_once(limit=500)},
            "db-stats": lambda r: {"analyzed": refresh_statistics(r.engine)}}
    if name not in jobs:
        raise KeyError(name)
    return jobs[name](relay)  # what it queued is delivered by the outbox job (every 5 s) or run-job


JOB_NAMES = ("delay-scan", "daily-digest", "reminders", "replan", "calendar-check", "directory-sync", "outbox",
             "db-stats")
