"""接收 SO-1001 [数量] — confirm the pending handoff, or dispute it with the real quantity."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import close_handoff_cards, dispute_notices, require_person
from bot.neutral import Reply
from bot.text import parse_quantity
from bot.errors import BadSyntax
from storage.incidents import receive
from storage.orders import find_order


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) not in (1, 2):
        raise BadSyntax(command="接收", problem="receive")
    order = find_order(ctx.session, args[0])
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="接收", problem="no_workshop")
    received = parse_quantity(args[1], "接收", ctx.settings.app.max_report_quantity) if len(args) == 2 else None
    handoffs, incident = receive(ctx.session, ctx.now, order=order, workshop_id=workshop_id, person=person,
                                 received=received, source=ctx.message.source)
    if incident is not None:
        handoff = handoffs[0]
        close_handoff_cards(ctx, [handoff], "dispute")
        dispute_notices(ctx, handoff, incident)
        return Reply("receive_disputed", {"order_no": order.order_no, "sent": handoff.quantity,
                                          "received": received, "from_workshop": handoff.from_step.workshop.name})
    close_handoff_cards(ctx, handoffs, "confirm")
    step = handoffs[0].to_step
    return Reply("receive_ok", {"order_no": order.order_no, "workshop": step.workshop.name,
                                "quantity": sum(h.quantity for h in handoffs), "received_total": step.received_qty,
                                "from_workshop": handoffs[0].from_step.workshop.name})
