"""了结 SO-1022 [工序] — settle a quantity dispute (upstream lead or head, or a manager); the
dispute card's 处理 button does the same."""
from __future__ import annotations

from bot.cards import CardClick
from bot.errors import BadSyntax
from bot.handlers.base import ActionContext, ClickContext, Context, Note, decide
from bot.handlers.common import handoff_context, require_person
from bot.neutral import Reply
from storage.errors import NothingToSettle
from storage.incidents import settle_dispute
from storage.models import Card as CardRow
from storage.models import Incident, Step
from storage.orders import find_order


def settled_notices(ctx: ActionContext, handoff, incident) -> dict:
    """Both workshops and the managers hear that the dispute is closed; every card about it closes."""
    context = {**handoff_context(handoff), "received": handoff.received_qty, "person": ctx.person.name}
    key = f"incident:{incident.id}:settled"
    ctx.notify_workshop(handoff.from_step.workshop_id, "notices/dispute_settled", key=f"{key}:from", **context)
    ctx.notify_workshop(handoff.to_step.workshop_id, "notices/dispute_settled", key=f"{key}:to", **context)
    ctx.notify_role("managers", "notices/dispute_settled", key=f"{key}:managers", **context)
    ctx.close_cards("dispute", incident.id, "settle")
    return context


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) not in (1, 2):
        raise BadSyntax(command="了结", problem="settle")
    order = find_order(ctx.session, args[0])
    step_id = ctx.step_for(order, args[1]).id if len(args) == 2 else None
    handoff, incident = settle_dispute(ctx.session, ctx.now, order=order, person=person, step_id=step_id,
                                       source=ctx.message.source)
    return Reply("settle_ok", settled_notices(ctx, handoff, incident))


def settle_button(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    incident = ctx.session.get(Incident, row.subject_id)
    order = ctx.session.get(Step, incident.step_id).order
    if incident.closed_at is not None:
        raise NothingToSettle(order_no=order.order_no)
    handoff, incident = settle_dispute(ctx.session, ctx.now, order=order, person=ctx.person, step_id=None,
                                       incident_id=incident.id, source=click.source)
    decide(row, ctx.person, "settle", ctx.now)
    return "settle_ok", settled_notices(ctx, handoff, incident)
