"""The plant's calendar in chat (admins and managers): 停产 2027-02-01 至 2027-02-21 春节 ·
停产 12-05 冲压 检修 · 加班 12-05 冲压 08:00-17:00 · 加班 2027-02-07 (a make-up working day) ·
取消停产 / 取消加班 12-05 [冲压] · 确认节假日 2027 · 日历 [车间]"""
from __future__ import annotations

import re
from datetime import timedelta

from bot.calendar_import import moved_notices
from bot.calendar_text import parse_calendar_words
from bot.errors import BadSyntax
from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.text import normalize, resolve_mentions
from planning.calendar import CLOSED, EXTRA, HOURS
from storage import planner
from storage.calendar import clear_days, confirm_year, entries, set_days
from storage.errors import NotAllowed

MAX_DAYS = 92


def _may_edit(ctx: Context):
    person = require_person(ctx)
    if not (person.has_role("admin") or person.has_role("manager")):
        raise NotAllowed(action="calendar", workshop="")
    return person


def _text_after_command(ctx: Context) -> str:
    """The words after the command, with voice-input commas read as spaces (hours keep theirs)."""
    text = re.sub(r"[，、；;]|,(?!\s*\d{1,2}\s*[:：])", " ", resolve_mentions(normalize(ctx.message.text)))
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _words(ctx: Context, word: str):
    parsed = parse_calendar_words(ctx.session, _text_after_command(ctx), ctx.clock.today(), word)
    if (parsed.range.last - parsed.range.first).days >= MAX_DAYS:
        raise BadSyntax(command=word, problem="calendar_range", token=parsed.range.text)
    return parsed


def _apply(ctx: Context, word: str, kind: str) -> Reply:
    person = _may_edit(ctx)
    parsed = _words(ctx, word)
    if kind == CLOSED and parsed.spans:
        raise BadSyntax(command=word, problem="calendar_hours_on_closure", token=parsed.spans)
    before = planner.forecast_ends(ctx.session)
    for workshop in parsed.workshops or (None,):   # `冲压和焊接`: each of them; none named: the plant
        set_days(ctx.session, ctx.now, first=parsed.range.first, last=parsed.range.last, workshop=workshop,
                 kind=kind, spans=parsed.spans, note=parsed.note, person=person, source=ctx.message.source)
    return _replanned(ctx, word, parsed, kind, before)


def _replanned(ctx: Context, word: str, parsed, kind: str, before: dict) -> Reply:
    """Re-plan now and tell every workshop whose forecasts moved (and the managers)."""
    ctx.replan()
    context = {"word": word, "kind": kind, "first": parsed.range.first, "last": parsed.range.last,
               "workshop": "、".join(w.name for w in parsed.workshops), "spans": parsed.spans, "note": parsed.note}
    moved = planner.moved_since(ctx.session, before)
    ctx.notices.extend(moved_notices(moved, context, key=f"calendar:{ctx.message.source}"))
    return Reply("calendar_ok", {**context, "moved": len(moved.orders())})


def shutdown(ctx: Context, args: list[str]) -> Reply:
    return _apply(ctx, "停产", CLOSED)


def overtime(ctx: Context, args: list[str]) -> Reply:
    """Extra hours on top of the day's (on a day off: the given hours, or a normal day)."""
    return _apply(ctx, "加班", EXTRA)


def hours(ctx: Context, args: list[str]) -> Reply:
    """These hours instead of the day's usual ones (`工作时间 12-03 焊接 08:00-12:00`)."""
    if not _words(ctx, "工作时间").spans:
        raise BadSyntax(command="工作时间", problem="calendar_hours", token="")
    return _apply(ctx, "工作时间", HOURS)


def clear(ctx: Context, args: list[str]) -> Reply:
    person = _may_edit(ctx)
    word = resolve_mentions(normalize(ctx.message.text)).split()[0]
    parsed = _words(ctx, word)
    before = planner.forecast_ends(ctx.session)
    for workshop in parsed.workshops or (None,):
        clear_days(ctx.session, ctx.now, first=parsed.range.first, last=parsed.range.last, workshop=workshop,
                   person=person, source=ctx.message.source)
    return _replanned(ctx, word, parsed, "cleared", before)


def confirm(ctx: Context, args: list[str]) -> Reply:
    person = _may_edit(ctx)
    if len(args) != 1 or not re.fullmatch(r"20\d\d年?", args[0]):
        raise BadSyntax(command="确认节假日", problem="calendar_year", token=" ".join(args))
    year = int(args[0][:4])
    cal = planner.calendar(ctx.session)
    if cal.year_known(year) and year not in cal.confirmed_years:
        return Reply("calendar_year_ok", {"year": year, "known": True, "new": False})
    new = confirm_year(ctx.session, ctx.now, year, person=person, note="", source=ctx.message.source)
    ctx.replan()
    return Reply("calendar_year_ok", {"year": year, "known": False, "new": new})


def show(ctx: Context, args: list[str]) -> Reply:
    """The next 30 days: the plant's own days, and years whose holidays are still unknown."""
    from storage.calendar import unknown_years
    from storage.directory import workshop_by_name
    workshop = workshop_by_name(ctx.session, args[0]) if args else None
    today = ctx.clock.today()
    cal = planner.calendar(ctx.session)
    days = [e for e in entries(ctx.session, today, today + timedelta(days=30))
            if workshop is None or e.workshop_id in (None, workshop.id)]
    return Reply("calendar_show", {"days": days, "workshop": workshop.name if workshop else "",
                                   "unknown": unknown_years(cal, today), "today": today,
                                   "closed_today": not cal.is_workday(today, workshop.id if workshop else None)})

