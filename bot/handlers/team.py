"""班组 王五 赵六 孙七 — who works with the lead this shift: their reports are shared among them
(equally, unless a report names its workers). `班组` alone shows it; `班组 清空` ends it."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.handlers.reading import FILLERS, key_of
from bot.handlers.workers import ask_unknown, take_workers
from bot.errors import BadSyntax
from bot.neutral import Reply
from bot.text import Word
from storage.errors import NotAllowed
from storage.models import Person
from storage.workers import may_set_team, set_team, team_of, team_until

CLEAR = {"清空", "清除", "取消", "无", "没有", "解散", "clear", "none"}


_JOINED = re.compile(r"[和与跟及]")


def _is_name(ctx: Context, word: str) -> bool:
    return ctx.session.scalar(select(Person.id).where(Person.name == word)) is not None


def clear(ctx: Context, args: list[str]) -> Reply:
    """`清空班组`, `解散班组`: 班组 清除."""
    return handle(ctx, [Word("清除")])


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    words = [w if isinstance(w, Word) else Word(w) for w in args if key_of(w) not in FILLERS]
    if not may_set_team(person):
        raise NotAllowed(action="team", workshop="")
    if not words:
        return _shown(ctx, "team_shown")
    if len(words) == 1 and key_of(words[0]) in CLEAR:
        set_team(ctx.session, ctx.now, lead=person, members=[], hours=ctx.settings.app.team_hours,
                 source=ctx.message.source)
        return Reply("team_ok", {"members": [], "cleared": True})
    # `王五和赵六`: names joined by 和/与/跟 (a word that is itself somebody's name stays whole)
    words = [Word(part, w.glued) for w in words
             for part in (_JOINED.split(w) if _JOINED.search(w) and all(len(p) >= 2 for p in _JOINED.split(w))
                          and not _is_name(ctx, w) else [w])]
    named = take_workers(ctx, words, "班组")
    if named.rest or any(w.share is not None for w in named.workers) or not named.workers:
        wrong = named.rest[0] if named.rest else next((str(w.share) for w in named.workers if w.share is not None), "")
        raise BadSyntax(command="班组", problem="team", token=str(wrong))
    ask_unknown(ctx, named.workers, reading="设为本班班组", command="班组 {}")
    members = [w.person for w in named.workers if w.person is not None]
    set_team(ctx.session, ctx.now, lead=person, members=members, hours=ctx.settings.app.team_hours,
             source=ctx.message.source)
    return _shown(ctx, "team_ok")


def _shown(ctx: Context, template: str) -> Reply:
    assert ctx.person is not None
    members = team_of(ctx.session, ctx.person, ctx.now)
    return Reply(template, {"members": [p.name for p in members], "cleared": False,
                            "until": team_until(ctx.session, ctx.person, ctx.now)})
