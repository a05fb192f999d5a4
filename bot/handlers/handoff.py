"""交接 SO-1001 60 — hand a partial batch to the next workshop now."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import handoff_notice, require_person
from bot.neutral import Reply
from bot.text import parse_quantity
from bot.errors import BadSyntax
from storage.orders import find_order
from storage.production import hand_over


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) not in (2, 3):
        raise BadSyntax(command="交接", problem="handoff")
    order = find_order(ctx.session, args[0])
    step = ctx.step_for(order, args[1] if len(args) == 3 else None)
    quantity = parse_quantity(args[-1], "交接", ctx.settings.app.max_report_quantity)
    handoff = hand_over(ctx.session, ctx.now, step_id=step.id, person=person, quantity=quantity,
                        source=ctx.message.source)
    handoff_notice(ctx, handoff)
    return Reply("handoff_ok", {"order_no": order.order_no, "quantity": quantity,
                                "to": handoff.to_step.workshop.name, "handed_total": handoff.from_step.handed_qty,
                                "good_total": handoff.from_step.good_qty})
