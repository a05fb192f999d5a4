"""报工 SO-1001 [焊接] 118 [不良 2] [备注 焊点虚焊]"""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import handoff_notice, require_person
from bot.neutral import Reply
from bot.text import looks_like_number, parse_quantity, simplify
from bot.errors import BadSyntax
from storage.orders import find_order
from storage.production import report_output

SCRAP_WORDS = {"不良", "报废", "废品", "scrap"}
NOTE_WORDS = {"备注", "note"}
GOOD_WORDS = {"良品", "合格", "good"}


def parse_report(args: list[str], max_quantity: int) -> tuple[str, str | None, int | None, int | None, str]:
    """(order text, step name or None, good, scrap, note) from the words after 报工.

    Good and scrap are both None when no quantity was given; the handler then decides, with
    the order in hand, whether a lone word was a step name or a mistyped quantity.
    """
    if not args:
        raise BadSyntax(command="报工", problem="missing_order")
    order_text, rest = args[0], list(args[1:])
    step_name = None
    if rest and not looks_like_number(rest[0]) and simplify(rest[0]).lower() not in GOOD_WORDS | SCRAP_WORDS | NOTE_WORDS:
        step_name = rest.pop(0)
    good = scrap = None
    note = ""
    while rest:
        word = rest.pop(0)
        key = simplify(word).lower()
        if key in NOTE_WORDS:
            note = " ".join(rest)[:200]
            break
        if key in SCRAP_WORDS | GOOD_WORDS:
            if not rest:
                raise BadSyntax(command="报工", problem="missing_quantity")
            value = parse_quantity(rest.pop(0), "报工", max_quantity)
            if key in SCRAP_WORDS:
                scrap = value
            else:
                good = value
        elif looks_like_number(word) and good is None:
            good = parse_quantity(word, "报工", max_quantity)
        else:
            raise BadSyntax(command="报工", problem="unexpected", token=word)
    if good is None and scrap is None:
        return order_text, step_name, None, None, note
    return order_text, step_name, good or 0, scrap or 0, note


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order_text, step_name, good, scrap, note = parse_report(args, ctx.settings.app.max_report_quantity)
    order = find_order(ctx.session, order_text)
    if good is None:
        if step_name and not ctx.is_step_name(order, step_name):
            raise BadSyntax(command="报工", problem="unexpected", token=step_name)
        raise BadSyntax(command="报工", problem="missing_quantity")
    step = ctx.step_for(order, step_name)
    outcome = report_output(ctx.session, ctx.now, step_id=step.id, person=person, good=good, scrap=scrap,
                            note=note, source=ctx.message.source, limits=ctx.limits)
    if outcome.handoff is not None:
        handoff_notice(ctx, outcome.handoff)
    ctx.replan()
    step = outcome.step
    return Reply("report_ok", {
        "order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
        "report_id": outcome.report.id, "good": good, "scrap": scrap, "good_total": step.good_qty,
        "scrap_total": step.scrap_qty, "planned": step.planned_qty,
        "percent": min(100, step.good_qty * 100 // max(step.planned_qty, 1)),
        "done": step.status == "done", "projected": step.forecast_end, "planned_end": step.planned_end,
        "late_minutes": step.late_minutes, "provisional": step.provisional,
        "handoff": None if outcome.handoff is None else {
            "quantity": outcome.handoff.quantity, "to": outcome.handoff.to_step.workshop.name},
        "undo_minutes": ctx.settings.app.undo_window_minutes,
    })
