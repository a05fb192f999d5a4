"""撤销 · 撤销 R-123 (also 撤回, `撤销R123`, `撤销 123`)"""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.handlers.base import Context
from bot.handlers.common import close_handoff_cards, handoff_context, require_person
from bot.handlers.reading import FILLERS, is_order_text, key_of, take_order
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.errors import NothingToUndo
from storage.models import Handoff, Report, Step
from storage.production import undo_report

_REPORT_ID = re.compile(r"[Rr]-?(\d{1,12})|(\d{1,12})")
# what is said around it (`撤销 SO-1013 的报工`, `撤销 R-6 数量报错了`): never another report
SAID_WITH_IT = {"上一条", "刚才的", "刚才", "的", "报工", "那条", "这条", "的报工", "报错", "报错了", "错了", "搞错了",
                "打错了", "报多了", "报少了", "数量", "数量报错了", "数量错了", "一下"}


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    words = [w for w in args if key_of(w) not in FILLERS and w not in SAID_WITH_IT]
    report_id = None
    if words and is_order_text(words[0]) and not _REPORT_ID.fullmatch("".join(words[:2]) if words[0] in ("R", "r")
                                                                     else words[0]):
        order, rest = take_order(ctx, words, digits_may_be_quantity=False)   # `撤销 SO-1016`: my last report on it
        if order is not None and not rest:
            report_id = ctx.session.scalar(select(Report.id).join(Step).where(
                Step.order_id == order.id, Report.person_id == person.id, Report.undone_at.is_(None))
                .order_by(Report.id.desc()).limit(1))
            if report_id is None:
                raise NothingToUndo(reason="none_on_order", order_no=order.order_no, report_id=None)
            words = []
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
