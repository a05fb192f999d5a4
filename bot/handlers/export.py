"""导出 11月 计件 — managers: a link to the month's piece-rate export (an Excel file), valid for a
day (no platform twin here carries files, so the file is a download)."""
from __future__ import annotations

from datetime import timedelta

from bot.errors import BadSyntax
from bot.exports import LINK_HOURS, export_token, parse_month
from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.handlers.reading import FILLERS, key_of
from bot.neutral import Reply
from storage.errors import NotAllowed

KINDS = {"计件", "计件工资", "报工", "工资", "产量", "报表"}


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if not (person.has_role("manager") or person.has_role("admin")):
        raise NotAllowed(action="export", workshop="")
    said = "".join(w for w in args if key_of(w) not in FILLERS)
    for kind in sorted(KINDS, key=len, reverse=True):   # `计件` is cut at its unit word 件: read the text
        said = said.replace(kind, "")
    said = said or f"{ctx.clock.today().month}月"
    month = parse_month(said, ctx.clock.today())
    if month is None:
        raise BadSyntax(command="导出", problem="month", token=said[:20])
    token = export_token(ctx.settings.api.board_tokens, month, ctx.now)
    url = f"{ctx.public_url.rstrip('/')}/exports/{token}" if token and ctx.public_url else None
    return Reply("export_ok", {"month": month, "url": url, "until": ctx.now + timedelta(hours=LINK_HOURS)})
