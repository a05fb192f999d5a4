"""接收 SO-1001 — confirm the pending handoff into this workshop's step."""
from __future__ import annotations

from bot.handlers.base import Context, command
from bot.handlers.common import require_person
from bot.neutral import Reply
from storage.errors import BadSyntax
from storage.orders import find_order
from storage.production import confirm_handoffs


@command("接收", "receive")
def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) != 1:
        raise BadSyntax(command="接收", problem="receive")
    order = find_order(ctx.session, args[0])
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="接收", problem="no_workshop")
    handoffs = confirm_handoffs(ctx.session, ctx.now, order=order, workshop_id=workshop_id, person=person,
                                source=ctx.message.source)
    step = handoffs[0].to_step
    return Reply("receive_ok", {"order_no": order.order_no, "workshop": step.workshop.name,
                                "quantity": sum(h.quantity for h in handoffs), "received_total": step.received_qty,
                                "from_workshop": handoffs[0].from_step.workshop.name})
