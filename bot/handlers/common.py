"""Small pieces several handlers share."""
from __future__ import annotations

from bot.cards import Button, Card
from bot.handlers.base import ActionContext, Context
from bot.errors import UnknownPerson
from storage.models import Handoff, Person


def require_person(ctx: Context) -> Person:
    if ctx.person is None:
        raise UnknownPerson(sender=ctx.message.sender_id)
    return ctx.person


def handoff_context(handoff: Handoff) -> dict:
    return {"order_no": handoff.from_step.order.order_no, "product": handoff.from_step.order.product,
            "from_workshop": handoff.from_step.workshop.name, "to_workshop": handoff.to_step.workshop.name,
            "quantity": handoff.quantity, "note": handoff.note}


def handoff_card(handoff: Handoff) -> Card:
    return Card(kind="handoff", subject_id=handoff.id, title="交接确认", context=handoff_context(handoff),
                buttons=(Button("confirm", "确认接收", command=f"接收 {handoff.from_step.order.order_no}"),
                         Button("dispute", "数量不符", "danger",
                                command=f"接收 {handoff.from_step.order.order_no} 实收数量")),
                actors=f"leads:{handoff.to_step.workshop_id}")


def handoff_notice(ctx: ActionContext, handoff: Handoff) -> None:
    """Tell the downstream workshop's groups that material is on its way (a card where possible)."""
    ctx.notify_workshop(handoff.to_step.workshop_id, "notices/handoff", key=f"handoff:{handoff.id}:notice",
                        card=handoff_card(handoff), **handoff_context(handoff))


def close_handoff_cards(ctx: ActionContext, handoffs, decision: str) -> None:
    for handoff in handoffs:
        ctx.close_cards("handoff", handoff.id, decision)


def dispute_card(handoff: Handoff, incident, context: dict) -> Card:
    """The upstream workshop's card for a dispute: 处理 settles it (its leads, heads, managers)."""
    order_no = handoff.from_step.order.order_no
    return Card(kind="dispute", subject_id=incident.id, title="交接数量不符", context=context,
                buttons=(Button("settle", "处理", command=f"了结 {order_no}"),),
                actors=f"leads:{handoff.from_step.workshop_id}")


def dispute_notices(ctx: ActionContext, handoff: Handoff, incident) -> None:
    """Both workshops and the managers hear of a quantity dispute; the upstream workshop gets
    it as a card whose 处理 button settles it (or `了结 SO-1001`)."""
    context = {**handoff_context(handoff), "received": handoff.received_qty, "person": ctx.person.name}
    key = f"handoff:{handoff.id}:dispute"
    ctx.notify_workshop(handoff.from_step.workshop_id, "notices/handoff_disputed", key=f"{key}:from",
                        card=dispute_card(handoff, incident, context), **context)
    ctx.notify_workshop(handoff.to_step.workshop_id, "notices/handoff_disputed", key=f"{key}:to", **context)
    ctx.notify_role("managers", "notices/handoff_disputed", key=f"{key}:managers", **context)
