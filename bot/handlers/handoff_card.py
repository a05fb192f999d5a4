"""The handoff card's 确认接收 button: the same confirmation as `接收 SO-1001`."""
from __future__ import annotations

from bot.cards import CardClick
from bot.handlers.base import Context, card_action, decide
from storage.models import Card as CardRow
from storage.errors import AskForQuantity, NotAllowed
from storage.models import Handoff
from storage.production import confirm_handoffs


@card_action("handoff", "confirm")
def confirm(ctx: Context, row: CardRow, click: CardClick) -> None:
    handoff = ctx.session.get(Handoff, row.subject_id)
    step = handoff.to_step
    confirm_handoffs(ctx.session, ctx.now, order=step.order, workshop_id=step.workshop_id, person=ctx.person,
                     source=f"{click.platform}:card:{click.track_id}", handoff_id=handoff.id)
    decide(row, ctx.person, "confirm", ctx.now)
    ctx.close_cards("handoff", handoff.id, "confirm")


@card_action("handoff", "dispute")
def dispute(ctx: Context, row: CardRow, click: CardClick) -> None:
    """A button cannot carry the real quantity: ask for it; the card stays open until then."""
    handoff = ctx.session.get(Handoff, row.subject_id)
    if not ctx.person.leads(handoff.to_step.workshop_id):
        raise NotAllowed(action="receive", workshop=handoff.to_step.workshop.name)
    raise AskForQuantity(order_no=handoff.to_step.order.order_no, quantity=handoff.quantity)
