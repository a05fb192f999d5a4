"""撤销 · 撤销 R-123 (also 撤回, `撤销R123`, `撤销 123`)"""
from __future__ import annotations

import re

from bot.handlers.base import Context
from bot.handlers.common import close_handoff_cards, handoff_context, require_person
from bot.handlers.reading import FILLERS, key_of
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.models import Handoff
from storage.production import undo_report

_REPORT_ID = re.compile(r"[Rr]-?(\d{1,12})|(\d{1,12})")


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    words = [w for w in args if key_of(w) not in FILLERS and w not in ("上一条", "刚才的", "刚才", "的", "报工", "那条")]
    report_id = None
    if words:
        text = "".join(words) if len(words) == 2 and words[0] in ("R", "r") else words[0]
        match = _REPORT_ID.fullmatch(text)
        if not match or (len(words) > 1 and text == words[0]):
            raise BadSyntax(command="撤销", problem="report_id", token=words[0])
        report_id = int(match.group(1) or match.group(2))
    report = undo_report(ctx.session, ctx.now, person=person, report_id=report_id,
                         source=ctx.message.source, limits=ctx.limits)
    step = report.step
    withdrawn = ctx.session.get(Handoff, report.handoff_id) if report.handoff_id else None
    if withdrawn is not None and withdrawn.status == "withdrawn":   # the batch it handed over goes with it
        close_handoff_cards(ctx, [withdrawn], "withdrawn")
        ctx.notify_workshop(withdrawn.to_step.workshop_id, "notices/handoff_withdrawn",
                            key=f"handoff:{withdrawn.id}:withdrawn", person=person.name, **handoff_context(withdrawn))
    ctx.read_as(f"报工 R-{report.id}（{step.order.order_no} {step.order.product} {step.workshop.name} 良品 {report.good}"
                + (f" 不良 {report.scrap}" if report.scrap else "") + "）", f"撤销 R-{report.id}")
    return Reply("undo_ok", {"report_id": report.id, "order_no": step.order.order_no, "product": step.order.product,
                             "workshop": step.workshop.name, "good": report.good, "scrap": report.scrap,
                             "good_total": step.good_qty, "planned": step.planned_qty})
