"""交接 SO-1001 [工序] 60 — hand a partial batch to the next workshop now (`交接SO-1001 六十件` too)."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import handoff_notice, require_person
from bot.handlers.reading import one_quantity, step_word, take_order
from bot.neutral import Reply
from bot.text import looks_like_number
from bot.errors import BadSyntax
from storage.production import hand_over


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)
    if order is None:
        raise BadSyntax(command="交接", problem="handoff")
    step_name, rest = step_word(ctx, rest)
    if step_name is None and len(rest) == 2 and not looks_like_number(rest[0]) and looks_like_number(rest[1]):
        step_name, rest = str(rest[0]), rest[1:]   # a step name we do not know: the order says so below
    quantity = one_quantity(rest, "交接", ctx.settings.app.max_report_quantity)
    if quantity is None:
        raise BadSyntax(command="交接", problem="missing_quantity")
    step = ctx.step_for(order, step_name)
    ctx.read_as(f"{order.order_no} {order.product} {step.workshop.name} {quantity} 件交给下道",
                f"交接 {order.order_no} {step.workshop.name} {quantity}")
    handoff = hand_over(ctx.session, ctx.now, step_id=step.id, person=person, quantity=quantity,
                        source=ctx.message.source)
    handoff_notice(ctx, handoff)
    return Reply("handoff_ok", {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
                                "quantity": quantity, "to": handoff.to_step.workshop.name,
                                "handed_total": handoff.from_step.handed_qty, "good_total": handoff.from_step.good_qty})
