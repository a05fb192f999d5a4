"""Reading calendar entries as people write them: `2027-02-01 至 2027-02-21`, `12-05`, `2月7日`,
a workshop's name, `08:00-17:00` (also `8:00~12:00，13:00-17:30`), and a note."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from planning.calendar import CalendarError, format_spans, parse_spans
from bot.errors import BadSyntax
from storage.errors import UnknownWorkshop
from storage.models import Workshop

_DATE = r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_RANGE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—|--)\s*{_DATE})?")
_SPAN = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}\s*[-~～至到—]\s*\d{1,2}\s*[:：]\s*\d{2}")
LOOKBACK_DAYS = 7          # a date without a year this many days past means this year; earlier, next year
HORIZON_DAYS = 2 * 366


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date
    text: str


@dataclass(frozen=True)
class CalendarWords:
    range: DateRange
    workshop: Workshop | None
    spans: str          # "08:00-17:00,..." or ""
    note: str


def _day(groups: tuple, today: date, word: str, text: str) -> date:
    year, month, day = groups
    try:
        value = date(int(year) if year else today.year, int(month), int(day))
    except ValueError:
        raise BadSyntax(command=word, problem="calendar_date", token=text) from None
    if not year and (today - value).days > LOOKBACK_DAYS:
        value = value.replace(year=value.year + 1)
    if (value - today).days > HORIZON_DAYS or (today - value).days > 366:
        raise BadSyntax(command=word, problem="calendar_date", token=text)
    return value


def parse_range(text: str, today: date, word: str) -> tuple[DateRange, str]:
    """The date or range at the start of `text`, and what follows it."""
    match = _RANGE.match(text.strip())
    if not match:
        raise BadSyntax(command=word, problem="calendar_date", token=text.split()[0] if text.split() else "")
    first = _day(match.groups()[:3], today, word, match.group(0))
    last = _day(match.groups()[3:], today, word, match.group(0)) if match.group(5) else first
    if last < first:
        raise BadSyntax(command=word, problem="calendar_range", token=match.group(0))
    return DateRange(first, last, match.group(0).strip()), text.strip()[match.end():].strip()


def parse_calendar_words(session: Session, text: str, today: date, word: str) -> CalendarWords:
    """Dates first; then, in any order, a workshop, working hours, and a note."""
    dates, rest = parse_range(text, today, word)
    spans = _SPAN.findall(rest)
    for span in spans:
        rest = rest.replace(span, " ")
    try:
        hours = format_spans(parse_spans([re.sub(r"\s+", "", s).replace("：", ":") for s in spans])) if spans else ""
    except CalendarError:
        raise BadSyntax(command=word, problem="calendar_hours", token=" ".join(spans)) from None
    workshop, note_words = None, []
    for token in rest.split():
        found = _workshop(session, token) if workshop is None else None
        if found is not None:
            workshop = found
        else:
            note_words.append(token)
    return CalendarWords(dates, workshop, hours, " ".join(note_words)[:100])


def _workshop(session: Session, token: str) -> Workshop | None:
    from storage.directory import workshop_by_name
    try:
        return workshop_by_name(session, token)
    except UnknownWorkshop:
        return None
