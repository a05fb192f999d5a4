"""Quiet hours: notices due while the plant sleeps are held until the quiet hours end. (Working
time itself, for plans and forecasts, is `planning.calendar`.)"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.clock import Clock


def _span(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


class QuietHours:
    def __init__(self, clock: Clock, quiet_hours: str = "21:00-07:00"):
        self.clock = clock
        self.begin, self.end = _span(quiet_hours)

    def quiet_until(self, now_utc: datetime) -> datetime | None:
        """If `now_utc` is in quiet hours, when they end (naive UTC); else None."""
        local = self.clock.local(now_utc)
        t = local.time()
        inside = (self.begin <= t or t < self.end) if self.begin > self.end else (self.begin <= t < self.end)
        if not inside:
            return None
        until = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if until <= local:
            until += timedelta(days=1)
        return until.astimezone(UTC).replace(tzinfo=None)
