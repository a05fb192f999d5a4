"""Working time: shifts of the day, weekends, Chinese public holidays and make-up working days."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, UTC

from bot.clock import Clock

log = logging.getLogger(__name__)


def _span(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


class WorkCalendar:
    def __init__(self, clock: Clock, working_hours: tuple[str, ...], chinese_holidays: bool = True,
                 quiet_hours: str = "21:00-07:00"):
        self.clock = clock
        self.shifts = sorted(_span(s) for s in working_hours)
        self.chinese_holidays = chinese_holidays
        self.quiet = _span(quiet_hours)

    def is_workday(self, day: date) -> bool:
        if self.chinese_holidays:
            import chinese_calendar
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:  # the package knows only the years the State Council published
                log.warning("no holiday data for %s: counting Monday to Friday", day.year)
        return day.weekday() < 5

    def _local(self, utc_naive: datetime) -> datetime:
        return self.clock.local(utc_naive)

    def _utc(self, local: datetime) -> datetime:
        return local.astimezone(UTC).replace(tzinfo=None)

    def add_working_hours(self, start_utc: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start_utc` (naive UTC in and out)."""
        remaining = timedelta(hours=max(hours, 0))
        local = self._local(start_utc)
        for _ in range(800):  # a bound: about two years of days
            if self.is_workday(local.date()):
                for begin, end in self.shifts:
                    lo = local.replace(hour=begin.hour, minute=begin.minute, second=0, microsecond=0)
                    hi = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
                    if local >= hi:
                        continue
                    cursor = max(local, lo)
                    if cursor + remaining <= hi:
                        return self._utc(cursor + remaining)
                    remaining -= hi - cursor
                    local = hi
            local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return self._utc(local + remaining)

    def working_hours_between(self, a_utc: datetime, b_utc: datetime) -> float:
        """Working hours from a to b (0 when b is not after a)."""
        if b_utc <= a_utc:
            return 0.0
        total = timedelta(0)
        local, end = self._local(a_utc), self._local(b_utc)
        while local < end:
            if self.is_workday(local.date()):
                for begin, finish in self.shifts:
                    lo = local.replace(hour=begin.hour, minute=begin.minute, second=0, microsecond=0)
                    hi = local.replace(hour=finish.hour, minute=finish.minute, second=0, microsecond=0)
                    overlap = min(hi, end) - max(lo, local)
                    if overlap > timedelta(0):
                        total += overlap
            local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return total.total_seconds() / 3600

    def quiet_until(self, now_utc: datetime) -> datetime | None:
        """If now is in quiet hours, when they end (naive UTC); else None."""
        local = self._local(now_utc)
        begin, end = self.quiet
        t = local.time()
        inside = (begin <= t or t < end) if begin > end else (begin <= t < end)
        if not inside:
            return None
        until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if until <= local:
            until += timedelta(days=1)
        return self._utc(until)
