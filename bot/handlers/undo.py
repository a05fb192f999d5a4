"""撤销 · 撤销 R-123"""
from __future__ import annotations

import re

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.production import undo_report


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    report_id = None
    if args:
        match = re.fullmatch(r"[Rr]-?(\d{1,12})|(\d{1,12})", args[0])
        if not match or len(args) > 1:
            raise BadSyntax(command="撤销", problem="report_id", token=args[0])
        report_id = int(match.group(1) or match.group(2))
    report = undo_report(ctx.session, ctx.now, person=person, report_id=report_id,
                         source=ctx.message.source, limits=ctx.limits)
    step = report.step
    return Reply("undo_ok", {"report_id": report.id, "order_no": step.order.order_no,
                             "workshop": step.workshop.name, "good": report.good, "scrap": report.scrap,
                             "good_total": step.good_qty, "planned": step.planned_qty})
