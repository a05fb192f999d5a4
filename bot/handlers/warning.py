"""已知悉: a lead acknowledges a delay warning (button or `知悉 SO-1001`), which stops its escalation."""
from __future__ import annotations

from sqlalchemy import select

from bot.cards import CardClick
from bot.handlers.base import ActionContext, ClickContext, Context, Note, decide
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.errors import NotAllowed
from storage.events import record_event
from storage.models import Card as CardRow
from storage.models import DelayWarning, Step
from storage.orders import find_order


def acknowledge(ctx: ActionContext, warning: DelayWarning, step: Step, source: str) -> None:
    if not (ctx.person.leads(step.workshop_id) or ctx.person.has_role("manager")):
        raise NotAllowed(action="ack", workshop=step.workshop.name)
    warning.acknowledged_by, warning.acknowledged_at = ctx.person.id, ctx.now
    record_event(ctx.session, ctx.now, "warning_acknowledged", order_id=step.order_id, actor=ctx.person,
                 source=source, step=step.workshop.name, level=warning.level)
    ctx.close_cards("warning", warning.id, "ack")


def ack_button(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    warning = ctx.session.get(DelayWarning, row.subject_id)
    acknowledge(ctx, warning, ctx.session.get(Step, warning.step_id), click.source)
    decide(row, ctx.person, "ack", ctx.now)


def ack_command(ctx: Context, args: list[str]) -> Reply:
    require_person(ctx)
    if len(args) not in (1, 2):
        raise BadSyntax(command="知悉", problem="ack")
    order = find_order(ctx.session, args[0])
    step = ctx.step_for(order, args[1] if len(args) == 2 else None)
    warnings = ctx.session.scalars(select(DelayWarning).where(DelayWarning.step_id == step.id,
                                                              DelayWarning.acknowledged_at.is_(None))).all()
    for warning in warnings:
        acknowledge(ctx, warning, step, ctx.message.source)
    return Reply("ack_ok", {"order_no": order.order_no, "workshop": step.workshop.name, "count": len(warnings)})
