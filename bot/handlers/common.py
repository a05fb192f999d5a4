"""Small pieces several handlers share."""
from __future__ import annotations

from bot.handlers.base import Context
from storage.errors import UnknownPerson
from storage.models import Handoff, Person


def require_person(ctx: Context) -> Person:
    if ctx.person is None:
        raise UnknownPerson(sender=ctx.message.sender_id)
    return ctx.person


def handoff_notice(ctx: Context, handoff: Handoff) -> None:
    """Tell the downstream workshop's groups that material is on its way."""
    ctx.notify_workshop(handoff.to_step.workshop_id, "notices/handoff", key=f"handoff:{handoff.id}:notice",
                        order_no=handoff.from_step.order.order_no, product=handoff.from_step.order.product,
                        from_workshop=handoff.from_step.workshop.name, to_workshop=handoff.to_step.workshop.name,
                        quantity=handoff.quantity)
