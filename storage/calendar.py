"""The plant's calendar in the database: its own days (closures, hours, overtime) and the years
whose public holidays it confirmed; and the working-time calendar made from them."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from planning.calendar import (CLOSED, EXTRA, HOURS, DayRule, WorkCalendar, chinese_public_day, format_spans,
                               parse_spans, weekdays_only)
from storage.events import record_event
from storage.models import CalendarDay, CalendarYear, Person, Workshop

HISTORY_DAYS = 120     # older days no longer move any plan (rates are measured over days, not months)
RECHECK_SECONDS = 5.0  # how soon a change made by another process (the API, an import) is seen
_local = threading.local()
_generation = 0


@dataclass(frozen=True)
class CalendarConfig:
    """What the configuration says about working time (the rest is in the database)."""
    timezone: str
    working_hours: tuple[str, ...]
    chinese_holidays: bool = True


def scope_of(workshop_id: int | None) -> str:
    return "plant" if workshop_id is None else f"ws:{workshop_id}"


def changed(session: Session | None = None) -> None:
    """This process changed the calendar: every thread reads it again at its next command (and
    once more after the change commits, so that nobody keeps what it read before the commit)."""
    global _generation
    _generation += 1
    if session is not None:
        session.info["calendar_changed"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("calendar_changed", False):
        changed()


def load_calendar(session: Session, config: CalendarConfig, today: date) -> WorkCalendar:
    """The calendar as the database has it. Kept per thread: read again when this process
    changed it, else at most every RECHECK_SECONDS (another process may have), and rebuilt only
    when the rows it is made of differ, so that its working-time lines serve many commands."""
    held = getattr(_local, "held", None)
    bind = session.get_bind()
    key = (_generation, config, str(bind.engine.url), today)
    if held is not None and held[0] == key and time.monotonic() - held[1] < RECHECK_SECONDS:
        return held[2]
    cal = read_calendar(session, config, today)
    _local.held = (key, time.monotonic(), cal)
    return cal


def read_calendar(session: Session, config: CalendarConfig, today: date) -> WorkCalendar:
    """The calendar as `session` reads it now (no reuse across transactions: what a result kept
    beside the database's state must be computed from; `load_calendar` for everything else)."""
    since = today - timedelta(days=HISTORY_DAYS)
    days = session.execute(select(CalendarDay.day, CalendarDay.workshop_id, CalendarDay.kind, CalendarDay.spans,
                                  CalendarDay.note).where(CalendarDay.day >= since)
                           .order_by(CalendarDay.day, CalendarDay.scope)).all()
    years = tuple(session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))
    shops = tuple(session.execute(select(Workshop.id, Workshop.working_hours).order_by(Workshop.id)))
    key = (config, tuple(tuple(d) for d in days), years, tuple(tuple(s) for s in shops))
    cache = getattr(_local, "calendars", None)
    if cache is None:
        cache = _local.calendars = {}
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = WorkCalendar(
            config.timezone, parse_spans(config.working_hours),
            workshop_shifts={ws_id: parse_spans([hours]) for ws_id, hours in shops if hours},
            public=chinese_public_day if config.chinese_holidays else weekdays_only,
            rules=[DayRule(d.day, d.workshop_id, d.kind, parse_spans([d.spans]) if d.spans else (), d.note)
                   for d in days],
            confirmed_years=years)
    return cache[key]


def set_days(session: Session, now: datetime, *, first: date, last: date, workshop: Workshop | None, kind: str,
             spans: str, note: str, person: Person | None, source: str) -> list[date]:
    """Make `first`..`last` closed, worked these hours, or worked these extra hours, for the plant
    or one workshop; a later entry for the same day and scope replaces the earlier one."""
    if kind not in (CLOSED, HOURS, EXTRA):
        raise ValueError(f"unknown calendar kind {kind!r}")
    spans = format_spans(parse_spans([spans])) if spans else ""
    workshop_id = workshop.id if workshop is not None else None
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    _delete(session, scope_of(workshop_id), days)
    for day in days:
        session.add(CalendarDay(day=day, scope=scope_of(workshop_id), workshop_id=workshop_id, kind=kind, spans=spans,
                                note=note, source=source, created_by=person.id if person else None, created_at=now))
    changed(session)
    record_event(session, now, "calendar_changed", order_id=None, actor=person, source=source, day_kind=kind,
                 first=first.isoformat(), last=last.isoformat(), workshop=workshop.name if workshop else "",
                 spans=spans, note=note)
    session.flush()
    return days


def clear_days(session: Session, now: datetime, *, first: date, last: date, workshop: Workshop | None,
               person: Person | None, source: str) -> int:
    """Back to the normal calendar for these days (the plant's or one workshop's entries)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    count = _delete(session, scope_of(workshop.id if workshop else None), days)
    changed(session)
    record_event(session, now, "calendar_cleared", order_id=None, actor=person, source=source,
                 first=first.isoformat(), last=last.isoformat(), workshop=workshop.name if workshop else "")
    return count


def _delete(session: Session, scope: str, days: list[date]) -> int:
    """Through the session (not a bulk DELETE), so that the plan sees the change."""
    rows = session.scalars(select(CalendarDay).where(CalendarDay.scope == scope, CalendarDay.day.in_(days))).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def confirm_year(session: Session, now: datetime, year: int, *, person: Person | None, note: str,
                 source: str) -> bool:
    """The plant has entered `year`'s public holidays (as its own days): its dates stop being
    provisional. False when it was confirmed already."""
    if session.get(CalendarYear, year) is not None:
        return False
    session.add(CalendarYear(year=year, confirmed_by=person.id if person else None, confirmed_at=now, note=note))
    changed(session)
    record_event(session, now, "calendar_year_confirmed", order_id=None, actor=person, source=source, year=year)
    session.flush()
    return True


def unknown_years(cal: WorkCalendar, today: date, ahead_days: int = 400) -> list[int]:
    """Years from this one to `ahead_days` ahead whose public holidays nobody knows yet."""
    years = range(today.year, (today + timedelta(days=ahead_days)).year + 1)
    return [y for y in years if not cal.year_known(y)]


def entries(session: Session, first: date, last: date) -> list[CalendarDay]:
    return list(session.scalars(select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last)
                                .order_by(CalendarDay.day, CalendarDay.scope)))
