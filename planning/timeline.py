"""One workshop's working time as a line of Unix seconds: add, subtract and measure working time
in O(log n). The line is built from the calendar a few weeks at a time, in either direction, up
to three years; beyond that (an absurd quantity, a due date decades away) working time is counted
at the line's average rate, so that no question costs more than three years of days."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from collections.abc import Callable
from zoneinfo import ZoneInfo

CHUNK_DAYS = 42
REACH_DAYS = 3 * 366
BACK_DAYS = 400
FAR_PAST, FAR_FUTURE = -2208988800.0, 7258118400.0     # 1900 and 2200
MIN_RATE = 1 / 24          # working seconds per second assumed where a calendar has none at all


class Timeline:
    def __init__(self, day_intervals: Callable[[date], list[tuple[float, float]]], tz: ZoneInfo):
        self._day_intervals = day_intervals
        self._tz = tz
        self._first: date | None = None
        self._last: date | None = None
        self.starts: list[float] = []
        self.ends: list[float] = []
        self._cum: list[float] = []      # working seconds before interval i
        self._cum_end: list[float] = []  # working seconds up to the end of interval i
        self._lo, self._hi = 1.0, 0.0     # instants covered with two days to spare
        self._anchor: date | None = None  # the first day asked about: the window is built around it
        self._full = False                # built to the end of the window

    # -- building ---------------------------------------------------------------------------------
    def _day(self, t: float) -> date:
        return datetime.fromtimestamp(t, self._tz).date()

    def _midnight(self, day: date) -> float:
        return datetime.combine(day, datetime.min.time(), tzinfo=self._tz).timestamp()

    def _build(self, first: date, last: date) -> None:
        """Cover `first`..`last`: appended when only the end moves, rebuilt when the start does."""
        if self._first is not None and self._last is not None and first == self._first and last > self._last:
            self._append(self._last + timedelta(days=1), last)
        else:
            self.starts, self.ends, self._cum, self._cum_end = [], [], [], []
            self._first = first
            self._append(first, last)
        self._lo = self._midnight(self._first + timedelta(days=2))
        self._hi = self._midnight(last - timedelta(days=1)) - 1
        if self.ends:
            self._hi = min(self._hi, self.ends[-1])
        self._full = False

    def _append(self, first: date, last: date) -> None:
        intervals: list[tuple[float, float]] = []
        day = first
        while day <= last:
            intervals.extend(self._day_intervals(day))
            day += timedelta(days=1)
        intervals.sort()
        total = self._cum_end[-1] if self._cum_end else 0.0
        for a, b in intervals:
            self.starts.append(a)
            self.ends.append(b)
            self._cum.append(total)
            total += b - a
            self._cum_end.append(total)
        self._last = last

    def _cover(self, t: float) -> None:
        """Reach `t` (with a working interval after it, two days to spare), within the window of
        400 days before the first instant asked about and three years after it."""
        if self._lo <= t <= self._hi:
            return
        day = self._day(min(max(t, FAR_PAST), FAR_FUTURE))   # beyond these, the window is long reached
        if self._anchor is None:
            self._anchor = day
            self._build(day - timedelta(days=7), day + timedelta(days=CHUNK_DAYS))
        assert self._first is not None and self._last is not None
        lo_day, hi_day = self._anchor - timedelta(days=BACK_DAYS), self._anchor + timedelta(days=REACH_DAYS)
        first, last = self._first, self._last
        want_lo, want_hi = max(day - timedelta(days=2), lo_day), min(day + timedelta(days=2), hi_day)
        while first > want_lo:
            first = max(first - timedelta(days=max(CHUNK_DAYS, (last - first).days)), lo_day)
        if (first, last) != (self._first, self._last):
            self._build(first, last)
        while last < hi_day and (last < want_hi or not self.ends or self.ends[-1] <= t):
            last = min(last + timedelta(days=max(CHUNK_DAYS, (last - first).days // 2)), hi_day)
            self._build(first, last)
        if last >= hi_day:
            self._hi = float("inf")       # as far as the line goes: beyond, the average rate
            self._full = True
        if first <= lo_day:
            self._lo = float("-inf")

    def _outside(self, t: float) -> bool:
        return not self.starts or t < self.starts[0] or t >= self.ends[-1]

    def _rate(self) -> float:
        if not self.starts:
            return MIN_RATE
        return max(self._cum_end[-1] / max(self.ends[-1] - self.starts[0], 1.0), MIN_RATE)

    # -- arithmetic -------------------------------------------------------------------------------
    def snap(self, t: float) -> float:
        """The first working instant at or after `t` (the end of a shift is not one)."""
        self._cover(t)
        if self._outside(t):
            return t
        i = bisect_right(self.ends, t)
        return max(t, self.starts[i])

    def snap_back(self, t: float) -> float:
        """The last working instant at or before `t` (the end of a shift is one)."""
        self._cover(t)
        if not self.starts or t <= self.starts[0] or t > self.ends[-1] + 3 * 86400:
            return t
        i = bisect_left(self.starts, t) - 1
        return min(t, self.ends[i])

    def offset(self, t: float) -> float:
        """Working seconds from the line's origin to `t` (a position, only differences matter)."""
        self._cover(t)
        if not self.starts:
            return t * MIN_RATE
        if t < self.starts[0]:
            return (t - self.starts[0]) * self._rate()
        if t >= self.ends[-1]:
            return self._cum_end[-1] + (t - self.ends[-1]) * self._rate()
        i = bisect_right(self.ends, t)
        return self._cum[i] + (t - self.starts[i]) if t > self.starts[i] else self._cum[i]

    def _cover_offset(self, offset: float) -> None:
        while not self._full and self._cum_end and self._cum_end[-1] < offset and self._last is not None:
            self._cover(self._midnight(self._last + timedelta(days=1)))

    def at_end(self, offset: float) -> float:
        """The instant at working position `offset`; on a boundary, the end of the earlier shift."""
        self._cover_offset(offset)
        if offset < 0:
            return self.starts[0] + offset / self._rate()
        if offset > self._cum_end[-1]:
            return self.ends[-1] + (offset - self._cum_end[-1]) / self._rate()
        i = bisect_left(self._cum_end, offset)
        return self.starts[i] + (offset - self._cum[i])

    def at_start(self, offset: float) -> float:
        """The instant at working position `offset`; on a boundary, the start of the later shift."""
        self._cover_offset(offset + 1)
        if offset < 0:
            return self.starts[0] + offset / self._rate()
        if offset >= self._cum_end[-1]:
            return self.ends[-1] + (offset - self._cum_end[-1]) / self._rate()
        i = bisect_right(self._cum_end, offset)
        return self.starts[i] + (offset - self._cum[i])

    def add(self, t: float, seconds: float) -> float:
        """`seconds` of working time after `t`: when work started at `t` is done."""
        if seconds <= 0:
            return t
        return max(t, self.at_end(self.offset(t) + seconds))

    def add_and_snap(self, t: float, seconds: float) -> tuple[float, float]:
        """`add`, and the first working instant at or after its result (where the next work can
        start): one search instead of two, for the forecast's inner loop."""
        end = self.add(t, seconds)
        if self._lo <= end <= self._hi and self.ends and end < self.ends[-1]:
            i = bisect_right(self.ends, end)
            return end, (end if end > self.starts[i] else self.starts[i])
        return end, self.snap(end)

    def sub(self, t: float, seconds: float) -> float:
        """When work of `seconds` must start to be done at `t`."""
        if seconds <= 0:
            return t
        self._cover(t)
        target = self.offset(t) - seconds
        if target < 0 and self.starts:
            self._cover(self.starts[0] + target / self._rate())   # reach back for it (within the window)
            target = self.offset(t) - seconds
        return min(t, self.at_start(target))

    def between(self, a: float, b: float) -> float:
        """Working seconds from `a` to `b` (0 when `b` is not after `a`)."""
        if b <= a:
            return 0.0
        self._cover(a)
        self._cover(b)
        return max(self.offset(b) - self.offset(a), 0.0)
