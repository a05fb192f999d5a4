"""The handoff card's 确认接收 button: the same confirmation as `接收 SO-1001`."""
from __future__ import annotations

from bot.cards import CardClick
from bot.handlers.base import ClickContext, Note, decide
from storage.models import Card as CardRow
from bot.errors import AskForQuantity
from storage.errors import NotAllowed
from storage.models import Handoff
from storage.production import confirm_handoffs


def confirm(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    handoff = ctx.session.get(Handoff, row.subject_id)
    step = handoff.to_step
    confirm_handoffs(ctx.session, ctx.now, order=step.order, workshop_id=step.workshop_id, person=ctx.person,
                     source=click.source, handoff_id=handoff.id)
    decide(row, ctx.person, "confirm", ctx.now)
    ctx.close_cards("handoff", handoff.id, "confirm")


def dispute(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    """A button cannot carry the real quantity: ask for it; the card stays open until then."""
    handoff = ctx.session.get(Handoff, row.subject_id)
    if not ctx.person.leads(handoff.to_step.workshop_id):
        raise NotAllowed(action="receive", workshop=handoff.to_step.workshop.name)
    raise AskForQuantity(order_no=handoff.to_step.order.order_no, quantity=handoff.quantity, handoff_id=handoff.id)
