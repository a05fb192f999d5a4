"""When a lead says a stopped line will run again: `4小时`, `预计 2 小时`, `下午3点`, `明天上午`,
`14:00`, `11-25 14:00` → a time in the factory's timezone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import cn2an

from planning.calendar import WorkCalendar

from bot.errors import BadSyntax

NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+)"   # a number in digits or words
_NUM = NUM
_FILLER = re.compile(r"恢复|能好|修好|好了|可以|能修复|修复|能到|到货|左右|大概|大约|需要|要|在|以后|之后|后(?!天)|以内|内"
                     r"|之前|前|才能|才|能|差不多|估计|预估|\s")
_ARRIVES = re.compile(r"(?<=.)[到好]$")   # `明天到`, `3点好`: when, then that it arrives (a lone 到 is no time)
_DURATION = re.compile(rf"^(?:({_NUM})个?(半)?|(半))(小时|钟头|钟|h|H|分钟|分|min|天|d)$")
_HOURS_MINUTES = re.compile(rf"^({_NUM})个?(?:小时|钟头|钟)({_NUM})(?:分钟|分)$")   # `1小时30分钟`
_DAY = re.compile(r"^(今天|今日|明天|明日|后天|今晚|明早|(\d{1,2})-(\d{1,2})|(\d{1,2})月(\d{1,2})[日号]?)")
_PERIOD = re.compile(r"^(上午|中午|下午|晚上|早上|凌晨|傍晚|下班|晚|早)")
_CLOCK = re.compile(rf"^(?:(\d{{1,2}}):(\d{{2}})|({_NUM})点(?:(半)|({_NUM})分?)?)$")
# A period named without an hour means its end (the latest it could be: planning stays safe).
PERIOD_END = {"凌晨": 6, "早上": 9, "早": 9, "上午": 12, "中午": 12, "下午": 17, "下班": 17, "傍晚": 18,
              "晚上": 21, "晚": 21}
PM = {"下午", "晚上", "傍晚", "晚"}
DAY_END_HOUR = 17   # a day named alone (`明天`) means the end of its day shift (the workshop's, when known)
SHIFT_END = {None, "下班", "下午"}   # said of a day, these mean the end of its working time


def _number(text: str) -> float:
    return float(text) if text[0].isdigit() else float(cn2an.cn2an(text, "smart"))


@dataclass(frozen=True)
class WorkingTime:
    """A workshop's working time: `4小时` is four of its working hours, `1天` one of its working days."""
    cal: WorkCalendar
    workshop_id: int | None

    def add(self, local: datetime, hours: float, days: float) -> datetime:
        seconds = hours * 3600 + days * self.cal.day_hours(self.workshop_id) * 3600
        return self.cal.add_working(self.workshop_id, local, seconds)

    def day_end(self, day: datetime) -> datetime | None:
        """When the workshop's working time on `day` ends (its 下班), None on a day off."""
        intervals = self.cal.day_intervals(day.date(), self.workshop_id)
        return datetime.fromtimestamp(intervals[-1][1], day.tzinfo) if intervals else None


def parse_recovery(text: str, now_local: datetime, working: WorkingTime | None = None) -> datetime | None:
    """The expected recovery written after 预计, as an aware local datetime after `now_local`
    (None when nothing is written). A duration counts the workshop's working time when
    `working` is given (wall-clock time otherwise). Refuses what it cannot read, naming it."""
    compact = _ARRIVES.sub("", _FILLER.sub("", text or ""))
    if not compact:
        return None
    try:
        result = _duration(compact, now_local, working) or _moment(compact, now_local, working)
    except (ValueError, KeyError, IndexError, OverflowError):
        result = None
    if result is None or result <= now_local or result - now_local > timedelta(days=60):
        raise BadSyntax(command="异常", problem="recovery", token=text.strip()[:30])
    return result


def _duration(text: str, now: datetime, working: WorkingTime | None) -> datetime | None:
    if both := _HOURS_MINUTES.match(text):
        hours = _number(both.group(1)) + _number(both.group(2)) / 60
        return working.add(now, hours, 0.0) if working is not None else now + timedelta(hours=hours)
    match = _DURATION.match(text)
    if not match:
        return None
    value = 0.5 if match.group(3) else _number(match.group(1)) + (0.5 if match.group(2) else 0)
    unit = match.group(4)
    days = value if unit in ("天", "d") else 0.0
    hours = 0.0 if days else value / 60 if unit in ("分钟", "分", "min") else value
    if days + hours <= 0:
        return None
    if working is not None:
        return working.add(now, hours, days)
    return now + timedelta(hours=hours + 24 * days)


def _moment(text: str, now: datetime, working: WorkingTime | None = None) -> datetime | None:
    day, explicit_day, rest = _day(text, now)
    period = None
    match = _PERIOD.match(rest)
    if match:
        period, rest = match.group(1), rest[match.end():]
    if not rest:
        if period is None and not explicit_day:
            return None
        end = working.day_end(day) if working is not None and period in SHIFT_END else None
        if end is not None and (period != "下午" or 12 <= end.hour < 19):   # `明天`, `下班前`: when its work ends
            return end
        hour = PERIOD_END[period] if period else DAY_END_HOUR
        return day.replace(hour=hour, minute=0, second=0, microsecond=0)
    clock = _CLOCK.match(rest)
    if not clock:
        return None
    if clock.group(1):
        hour, minute = int(clock.group(1)), int(clock.group(2))
    else:
        hour = int(_number(clock.group(3)))
        minute = 30 if clock.group(4) else int(_number(clock.group(5))) if clock.group(5) else 0
    if period in PM and hour < 12:
        hour += 12
    elif period in ("晚上", "晚") and hour == 12:   # `晚上12点`: midnight, the start of the next day
        hour, day = 0, day + timedelta(days=1)
    if hour > 23 or minute > 59:
        return None
    result = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if result <= now and not explicit_day:
        if period is None and clock.group(3) and hour < 12 and result + timedelta(hours=12) > now:
            return result + timedelta(hours=12)   # `3点` at nine in the morning: 15:00
        return result + timedelta(days=1)
    return result


def _day(text: str, now: datetime) -> tuple[datetime, bool, str]:
    named = RELATIVE_DAY.match(text)
    if named is not None and named.group(3):   # `周五`, `下周一`: that day (a past one is next week's)
        day = relative_day(named, now.date())
        day = day if day >= now.date() else day + timedelta(days=7)
        return now + timedelta(days=(day - now.date()).days), True, text[named.end():]
    match = _DAY.match(text)
    if not match:
        return now, False, text
    word, rest = match.group(1), text[match.end():]
    if word == "今晚":
        return now, True, "晚上" + rest
    if word == "明早":
        return now + timedelta(days=1), True, "早上" + rest
    offsets = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
    if word in offsets:
        return now + timedelta(days=offsets[word]), True, rest
    month, dom = (match.group(2), match.group(3)) if match.group(2) else (match.group(4), match.group(5))
    day = now.replace(month=int(month), day=int(dom))
    if day.date() < now.date():
        day = day.replace(year=day.year + 1)
    return day, True, rest


RELATIVE_DAY = re.compile(r"(今天|今日|明天|明日|后天)|(下下|下|本|这)?(?:周|星期|礼拜)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"


def relative_day(match: re.Match, today: date) -> date:
    """The day a RELATIVE_DAY match names: 明天; 周五 (the coming one, today included); 下周五
    (next week's, weeks starting on Monday); 本周五/这周五 (this week's, maybe past)."""
    if match.group(1):
        return today + timedelta(days={"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}[match.group(1)])
    weekday = _WEEKDAYS.index(match.group(3).replace("天", "日"))
    weeks = {"下下": 2, "下": 1, "本": 0, "这": 0}.get(match.group(2) or "")
    if weeks is None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks + weekday)
