"""了结 SO-1022 [工序] — settle a quantity dispute (upstream lead or head, or a manager); the
dispute card's 处理 button does the same."""
from __future__ import annotations

from bot.cards import CardClick
from bot.errors import BadSyntax
from bot.handlers.base import ActionContext, ClickContext, Context, Note, decide
from bot.handlers.common import handoff_context, require_person
from bot.handlers.reading import skip_fillers, step_word, take_order
from bot.neutral import Reply
from storage.errors import NothingToSettle
from storage.incidents import settle_dispute
from storage.models import Card as CardRow
from storage.models import Incident, Step


def settled_notices(ctx: ActionContext, handoff, incident) -> dict:
    """Both workshops and the managers hear that the dispute is closed; every card about it closes."""
    context = {**handoff_context(handoff), "received": handoff.received_qty, "person": ctx.person.name}
    key = f"incident:{incident.id}:settled"
    ctx.notify_workshop(handoff.from_step.workshop_id, "notices/dispute_settled", key=f"{key}:from", **context)
    ctx.notify_workshop(handoff.to_step.workshop_id, "notices/dispute_settled", key=f"{key}:to", **context)
    ctx.notify_role("managers", "notices/dispute_settled", key=f"{key}:managers", **context)
    ctx.close_cards("dispute", incident.id, "settle")
    return context


SAID_WITH_IT = {"的", "争议", "的争议", "数量争议", "交接争议", "数量不符", "这个", "这单"}


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)   # `so1015` as 报工 reads it
    step_name, rest = step_word(ctx, rest)
    rest = [w for w in skip_fillers(rest) if w not in SAID_WITH_IT]   # `了结 SO-1015 的争议`
    if step_name is None and len(rest) == 1:   # a step we do not know: the order says so below
        step_name, rest = str(rest[0]), []
    if order is None or rest:
        raise BadSyntax(command="了结", problem="settle", token=rest[0] if rest and order is not None else "")
    step_id = ctx.step_for(order, step_name).id if step_name else None
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
