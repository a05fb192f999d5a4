"""Working time, layered: each workshop's shifts, the public holidays and make-up days, then the
plant's own days (closures, extra or overtime hours), then a workshop's own days."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, UTC
from collections.abc import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from planning.timeline import Timeline

log = logging.getLogger(__name__)

Span = tuple[time, time]          # factory time; an end not after the start is on the next day
SPAN_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)\s*[-~－～至到]\s*([01]?\d|2[0-4]):([0-5]\d)$")
CLOSED, HOURS, EXTRA = "closed", "hours", "extra"
KINDS = (CLOSED, HOURS, EXTRA)


class CalendarError(ValueError):
    """A span or a rule that cannot be read."""


def parse_span(text: str) -> Span:
    """`08:00-12:00` (also `22:00-06:00` across midnight, `16:00-24:00`) → (start, end)."""
    match = SPAN_RE.match(text.strip())
    if not match:
        raise CalendarError(f"{text!r} must look like 08:00-12:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h2 == 24 and m2) or h1 == 24 or (h2 != 24 and (h1, m1) == (h2, m2)):
        raise CalendarError(f"{text!r} is not a span of working time")
    return time(h1, m1), time(h2 % 24, m2)


def parse_spans(texts: Iterable[str]) -> tuple[Span, ...]:
    """Several spans (a list, or one string separated by commas)."""
    parts = [p for t in texts for p in re.split(r"[,，、;；\s]+", t) if p]
    return tuple(sorted(parse_span(p) for p in parts))


def format_spans(spans: Iterable[Span]) -> str:
    return ",".join(f"{a:%H:%M}-{'24:00' if b == time(0) else f'{b:%H:%M}'}" for a, b in spans)


def span_hours(spans: Iterable[Span]) -> float:
    total = 0.0
    for a, b in spans:
        minutes = (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)
        total += (minutes if minutes > 0 else minutes + 24 * 60) / 60
    return total


@dataclass(frozen=True)
class DayRule:
    """One of the plant's own days: closed, these hours instead, or these hours in addition."""
    day: date
    workshop_id: int | None     # None: the whole plant
    kind: str                   # closed / hours / extra
    spans: tuple[Span, ...] = ()
    note: str = ""


def chinese_public_day(day: date) -> bool | None:
    """True on a working day, False on a public holiday or weekend, None for a year the
    chinese-calendar package has no data for (it knows only what the State Council published)."""
    import chinese_calendar
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def weekdays_only(day: date) -> bool | None:
    return day.weekday() < 5


class WorkCalendar:
    """When each workshop works. `public(day)` gives the public calendar (None: unknown year,
    which counts Monday to Friday and makes the day provisional until the year is confirmed)."""

    def __init__(self, tz: str | ZoneInfo, default_shifts: tuple[Span, ...],
                 workshop_shifts: dict[int, tuple[Span, ...]] | None = None,
                 public: Callable[[date], bool | None] = chinese_public_day,
                 rules: Iterable[DayRule] = (), confirmed_years: Iterable[int] = ()):
        if not default_shifts:
            raise CalendarError("a calendar needs at least one shift")
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.default_shifts = tuple(sorted(default_shifts))
        self.workshop_shifts = {k: tuple(sorted(v)) for k, v in (workshop_shifts or {}).items() if v}
        self.public = public
        self.rules: dict[tuple[date, int | None], DayRule] = {(r.day, r.workshop_id): r for r in rules}
        self.confirmed_years = set(confirmed_years)
        self._timelines: dict[tuple, Timeline] = {}
        self._public_cache: dict[date, bool | None] = {}
        self._known_years: dict[int, bool] = {}
        self._year_spans: list[tuple[float, float, int]] = []
        self._due: dict[tuple[date, int | None], float] = {}
        self._due_plans: dict[int, tuple[int, Sequence[float]]] = {}   # planning.plan.due_plan's, per order

    # -- days -----------------------------------------------------------------------------------
    def public_day(self, day: date) -> bool | None:
        if day not in self._public_cache:
            self._public_cache[day] = self.public(day)
        return self._public_cache[day]

    def year_known(self, year: int) -> bool:
        """The public holidays of `year` are known (the package has them) or the plant confirmed them."""
        return year in self.confirmed_years or self.public_day(date(year, 7, 1)) is not None

    def provisional_ts(self, ts: float) -> bool:
        """`provisional` for Unix seconds, fast: the plan asks it for every date it makes."""
        year = self._year_of(ts)
        known = self._known_years.get(year)
        if known is None:
            known = self._known_years[year] = self.year_known(year)
        return not known

    def _year_of(self, ts: float) -> int:
        for start, end, year in self._year_spans:
            if start <= ts < end:
                return year
        year = datetime.fromtimestamp(ts, self.tz).year
        self._year_spans.append((datetime(year, 1, 1, tzinfo=self.tz).timestamp(),
                                 datetime(year + 1, 1, 1, tzinfo=self.tz).timestamp(), year))
        return year

    def provisional(self, when: datetime | date | None) -> bool:
        """A date in a year whose public holidays nobody has confirmed yet."""
        if when is None:
            return False
        day = when if not isinstance(when, datetime) else self.local(when).date()
        return not self.year_known(day.year)

    def base_shifts(self, workshop_id: int | None) -> tuple[Span, ...]:
        return self.workshop_shifts.get(workshop_id, self.default_shifts) if workshop_id is not None \
            else self.default_shifts

    def day_hours(self, workshop_id: int | None = None) -> float:
        """A normal working day's length in hours: how "1 天" of lateness is counted."""
        return span_hours(self.base_shifts(workshop_id))

    def spans(self, day: date, workshop_id: int | None = None) -> tuple[Span, ...]:
        """The working spans of `day` for a workshop (or the plant), factory time."""
        public = self.public_day(day)
        works = public if public is not None else day.weekday() < 5
        spans = self.base_shifts(workshop_id) if works else ()
        for key in ((day, None), (day, workshop_id)) if workshop_id is not None else ((day, None),):
            rule = self.rules.get(key)
            if rule is not None:
                spans = _apply(rule, spans, self.base_shifts(workshop_id))
        return _union(spans) if len(spans) > 1 else spans

    def is_workday(self, day: date, workshop_id: int | None = None) -> bool:
        return bool(self.spans(day, workshop_id))

    # -- instants -------------------------------------------------------------------------------
    def local(self, utc_naive: datetime) -> datetime:
        return utc_naive.replace(tzinfo=UTC).astimezone(self.tz)

    def day_intervals(self, day: date, workshop_id: int | None) -> list[tuple[float, float]]:
        """The working intervals that start on `day`, as Unix seconds. (Spans are minutes after the
        day's local midnight: exact in zones without daylight saving, such as China's.)"""
        spans = self.spans(day, workshop_id)
        if not spans:
            return []
        midnight = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
        out = []
        for a, b in spans:
            start, end = a.hour * 60 + a.minute, b.hour * 60 + b.minute
            if end <= start:
                end += 1440
            out.append((midnight + start * 60, midnight + end * 60))
        return out

    def timeline(self, workshop_id: int | None = None, near: float | None = None) -> Timeline:
        """Fast working-time arithmetic for one workshop (built lazily, kept for this calendar).
        `near`: for instants far from now (a due date years away), a line of their own, so that
        no line has to span the years between."""
        key = (workshop_id, None if near is None else int(near // (183 * 86400)))
        if key not in self._timelines:
            self._timelines[key] = Timeline(lambda d: self.day_intervals(d, workshop_id), self.tz)
        return self._timelines[key]

    def working_minutes(self, workshop_id: int | None, start: datetime, end: datetime) -> int:
        """Working minutes of the workshop between two naive-UTC moments (as stored), to the
        nearest: how long a line has stood, a warning has waited."""
        return round(self.working_between(workshop_id, start.replace(tzinfo=UTC).timestamp(),
                                          end.replace(tzinfo=UTC).timestamp()) / 60)

    def add_working(self, workshop_id: int | None, local: datetime, seconds: float) -> datetime:
        """The moment `seconds` of the workshop's working time after `local` (aware), factory time."""
        ts = self.timeline(workshop_id).add(local.timestamp(), seconds)
        return datetime.fromtimestamp(ts, self.tz)

    def working_between(self, workshop_id: int | None, a: float, b: float) -> float:
        """Working seconds from `a` to `b`, counted over at most 400 days before `b` (lateness
        of an order due decades ago is large, and that is all anyone needs to read)."""
        if b <= a:
            return 0.0
        return self.timeline(workshop_id, near=b).between(max(a, b - 400 * 86400), b)


def _apply(rule: DayRule, spans: tuple[Span, ...], base: tuple[Span, ...]) -> tuple[Span, ...]:
    if rule.kind == CLOSED:
        return ()
    if rule.kind == HOURS:
        return rule.spans or base
    return _union(spans + (rule.spans or base))     # extra hours; none given: a normal working day


def _union(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    """Merge overlapping same-day spans (overtime added to a normal day)."""
    def minutes(t: time) -> int:
        return t.hour * 60 + t.minute
    items = sorted((minutes(a), minutes(b) if b > a else minutes(b) + 1440) for a, b in spans)
    merged: list[list[int]] = []
    for a, b in items:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((time(a // 60, a % 60), time((b // 60) % 24, b % 60)) for a, b in merged)
