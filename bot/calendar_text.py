"""Reading calendar entries as people write them: `2027-02-01 至 2027-02-21`, `12-05`, `2月7日`,
a workshop's name, `08:00-17:00` (also `8:00~12:00，13:00-17:30`), and a note."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from planning.calendar import CalendarError, format_spans, parse_spans
from bot.errors import BadSyntax
from bot.text import number_value
from bot.timewords import PM, RELATIVE_DAY, relative_day
from storage.errors import UnknownWorkshop
from storage.models import Workshop

_DATE = r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
# the range's end may leave out its year and month (`12月20日到22日`), not be a time (`到 8:00`)
_END = r"(?:(\d{4})\s*[-/.年]\s*)?(?:(\d{1,2})\s*[-/.月]\s*)?(\d{1,2})(?!\s*[\d:：点])\s*[日号]?"
# `-` too (`12月5日-7日`, `12/5-12/7`, `12-05-12-07`): a single dash after a whole date starts its end
_RANGE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—|--|-)\s*{_END})?")
# another date after the first (`12-05 12-06`, `12月5日、6日`): one entry is one date or one range
_ANOTHER_DATE = re.compile(r"^(?:\d{4}\s*[-/.年]\s*)?\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*[日号]?|[日号])$")
_PERIOD = r"(上午|早上|中午|下午|晚上|傍晚|凌晨|晚|早)"
_SPAN = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}\s*[-~～至到—]\s*\d{1,2}\s*[:：]\s*\d{2}")
# clock hours after a period (`晚上6:00-10:00`): the period makes them afternoon or evening hours
_PERIOD_SPAN = re.compile(rf"{_PERIOD}\s*(\d{{1,2}})\s*[:：]\s*(\d{{2}})\s*[-~～至到—]\s*{_PERIOD}?\s*"
                          r"(\d{1,2})\s*[:：]\s*(\d{2})")
# hours in words: `8点到17点`, `晚上6点到10点`, `晚6点到10点`, `下午1点半到5点`, `18-22点`
_WORD_TIME = rf"{_PERIOD}?\s*(\d{{1,2}})\s*点\s*(半)?"
_WORD_SPAN = re.compile(rf"{_WORD_TIME}\s*[-~～至到—]\s*{_WORD_TIME}")
_BARE_SPAN = re.compile(rf"{_PERIOD}?\s*(\d{{1,2}})\s*[-~～至到—]\s*(\d{{1,2}})\s*点")
_CN_HOUR = re.compile(r"([零〇一二两三四五六七八九十]+)\s*点(?=\s*(?:半|[-~～至到—]|$|\s|[零〇一二两三四五六七八九十\d]))")
# what still speaks of hours once the hours were read (`4小时`, `下午`, `半天`): never a note
_TIME_TALK = re.compile(r"\d\s*(?:点|小时|个小时|钟头|h)|小时|钟头|^(?:上午|早上|中午|下午|晚上|傍晚|凌晨|晚|早|白班|夜班|"
                        r"半天|上半天|下半天|一上午|一下午|一晚上)$|\d{1,2}\s*[:：]\s*\d{2}")
PLANT_WORDS = {"全厂", "全工厂", "整厂", "全公司", "所有车间", "全部车间"}
_JOINERS = re.compile(r"和|与|跟|及|以及|\+|/")
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
    workshops: tuple[Workshop, ...]   # empty: the whole plant
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
    """The date or range at the start of `text`, and what follows it. A day may be named as
    people say it (`明天`, `本周五`, `下周一至下周三`)."""
    text = _NAMED_DAY.sub(lambda m: _named_day(m, today), text.strip())
    match = _RANGE.match(text.strip())
    if not match:
        raise BadSyntax(command=word, problem="calendar_date", token=text.split()[0] if text.split() else "")
    first = _day(match.groups()[:3], today, word, match.group(0))
    last = first
    if match.group(6):
        year, month, day = match.groups()[3:]
        if month is None:   # `12月20日到22日`: the end in the start's month (`30日到2日`: the next one)
            month = first.month if int(day) >= first.day else first.month % 12 + 1
            year = year or str(first.year + (1 if int(month) < first.month else 0))
        last = _day((year, month, day), today, word, match.group(0))
    if last < first:
        raise BadSyntax(command=word, problem="calendar_range", token=match.group(0))
    return DateRange(first, last, match.group(0).strip()), text.strip()[match.end():].strip()


_NAMED_DAY = re.compile(rf"(?:^|(?<=至)|(?<=到)|(?<=~)|(?<=～)|(?<=-))\s*(?:{RELATIVE_DAY.pattern})")


def _named_day(match: re.Match, today: date) -> str:
    day = relative_day(match, today)
    return f"{day.year}-{day.month:02d}-{day.day:02d}"


def parse_calendar_words(session: Session, text: str, today: date, word: str) -> CalendarWords:
    """Dates first; then, in any order, a workshop, working hours, and a note."""
    dates, rest = parse_range(text, today, word)
    if rest.split() and _ANOTHER_DATE.match(rest.split()[0]):
        raise BadSyntax(command=word, problem="calendar_dates", token=f"{dates.text} {rest.split()[0]}")
    rest = _CN_HOUR.sub(_cn_hour, rest)   # `八点到十七点`
    rest = _PERIOD_SPAN.sub(_period_span, rest)
    rest = _WORD_SPAN.sub(_word_span, rest)
    rest = _BARE_SPAN.sub(_bare_span, rest)
    spans = _SPAN.findall(rest)
    for span in spans:
        rest = rest.replace(span, " ")
    try:
        hours = format_spans(parse_spans([re.sub(r"\s+", "", s).replace("：", ":") for s in spans])) if spans else ""
    except CalendarError:
        raise BadSyntax(command=word, problem="calendar_hours", token=" ".join(spans)) from None
    workshops: list[Workshop] = []
    note_words: list[str] = []
    for token in rest.split():
        found = _workshops(session, token)
        if token in PLANT_WORDS:   # the whole plant, as no workshop named says anyway
            continue
        if found:
            workshops.extend(w for w in found if w not in workshops)
        elif _TIME_TALK.search(token):   # hours not read as hours would book a whole day: refused
            raise BadSyntax(command=word, problem="calendar_half_day" if word == "停产" else "calendar_hours",
                            token=token)
        else:
            note_words.append(token)
    return CalendarWords(dates, tuple(workshops), hours, " ".join(note_words)[:100])


def _word_span(match: re.Match) -> str:
    """`晚上6点到10点` as ` 18:00-22:00 `: an end without its own period takes the start's."""
    p1, h1, half1, p2, h2, half2 = match.groups()
    return _forward(p1, p2, _clock(p1, h1, half1), _clock(p2 or p1, h2, half2, end=True))


def _forward(p1: str | None, p2: str | None, start: str, end: str) -> str:
    """Hours said without 上午/下午 read as a working day does: forward from their start
    (`8点到5点` is 08:00-17:00, `9点到6点` 09:00-18:00), and a start of 1 to 5 is the
    afternoon's (`8点到12点 1点到5点`: 13:00-17:00), never the small hours."""
    a, b = int(start[:2]), int(end[:2])
    if p1 is None and p2 is None and 1 <= a <= 5 and b <= 12:   # `1点到5点`, `1点半到4点`: after lunch
        a, b = a + 12, b + 12
    elif p2 is None and 0 < b < a and b + 12 > a and b + 12 <= 24:   # `8点到5点`, `中午12点到1点`: later that day
        b += 12
    return f" {a:02d}{start[2:]}-{b % 24:02d}{end[2:]} "


def _period_span(match: re.Match) -> str:
    """`晚上6:00-10:00` as ` 18:00-22:00 `."""
    p1, h1, m1, p2, h2, m2 = match.groups()
    return f" {_clock(p1, h1, None)[:3]}{m1}-{_clock(p2 or p1, h2, None)[:3]}{m2} "


def _bare_span(match: re.Match) -> str:
    """`18-22点`, `晚6-10点` as ` 18:00-22:00 `."""
    period, h1, h2 = match.groups()
    return _forward(period, None, _clock(period, h1, None), _clock(period, h2, None, end=True))


def _clock(period: str | None, hour: str, half: str | None, end: bool = False) -> str:
    """`end`: `晚上12点` ends the day (00:00, midnight)."""
    value = int(hour)
    if period in PM and value < 12:
        value += 12
    elif period in PM and value == 12 and end:
        value = 0
    return f"{value:02d}:{'30' if half else '00'}"


def _cn_hour(match: re.Match) -> str:
    value = number_value(match.group(1))
    return f"{value}点" if value is not None else match.group(0)


def _workshops(session: Session, token: str) -> list[Workshop]:
    """The workshop a word names, or the workshops of `冲压和焊接`; none when any part is not one."""
    whole = _workshop(session, token)
    if whole is not None:
        return [whole]
    parts = [p for p in _JOINERS.split(token) if p]
    found = [_workshop(session, p) for p in parts] if len(parts) > 1 else []
    return [w for w in found if w is not None] if found and all(found) else []


def _workshop(session: Session, token: str) -> Workshop | None:
    from storage.directory import workshop_by_name
    try:
        return workshop_by_name(session, token)
    except UnknownWorkshop:
        return None
