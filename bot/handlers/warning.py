"""已知悉: a lead acknowledges a delay warning (button or `知悉 SO-1001`), which stops its escalation."""
from __future__ import annotations

from sqlalchemy import select

from bot.cards import CardClick
from bot.handlers.base import ActionContext, ClickContext, Context, Note, decide
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.errors import BadSyntax, NothingToAck
from bot.handlers.reading import skip_fillers, step_word, take_order
from storage.errors import NotAllowed
from storage.events import record_event
from storage.models import Card as CardRow
from storage.models import DelayWarning, Step


def acknowledge(ctx: ActionContext, warning: DelayWarning, step: Step, source: str) -> None:
    if not (ctx.person.leads(step.workshop_id) or ctx.person.heads(step.workshop_id) or ctx.person.has_role("manager")):
        raise NotAllowed(action="ack", workshop=step.workshop.name)
    warning.acknowledged_by, warning.acknowledged_at = ctx.person.id, ctx.now
    record_event(ctx.session, ctx.now, "warning_acknowledged", order_id=step.order_id, actor=ctx.person,
                 source=source, step=step.workshop.name, level=warning.level)
    ctx.close_cards("warning", warning.id, "ack")


def ack_button(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    warning = ctx.session.get(DelayWarning, row.subject_id)
    acknowledge(ctx, warning, ctx.session.get(Step, warning.step_id), click.source)
    decide(row, ctx.person, "ack", ctx.now)


# what is said with an acknowledgement (`收到，马上安排`, `收到收到`): it is still one
ACK_SAID = {"马上安排", "马上处理", "在处理", "正在处理", "已安排", "安排了", "这就安排", "马上办", "收到", "知道了",
            "明白", "明白了", "好的", "谢谢"}


def ack_command(ctx: Context, args: list[str]) -> Reply:
    """`知悉 SO-1001 [工序]`; alone (`知悉`, `收到`, `好的 知道了`) every open warning of this workshop."""
    require_person(ctx)
    order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)
    step_name, rest = step_word(ctx, rest)
    rest = [w for w in skip_fillers(rest) if w not in ACK_SAID]
    if rest:
        raise BadSyntax(command="知悉", problem="unexpected", token=rest[0])
    if order is None:
        return _ack_workshop(ctx)
    step = ctx.step_for(order, step_name)
    warnings = open_warnings(ctx, step=step)
    ctx.read_as(f"{order.order_no} {order.product} {step.workshop.name} 的延期预警",
                f"知悉 {order.order_no} {step.workshop.name}")
    for warning in warnings:
        acknowledge(ctx, warning, step, ctx.message.source)
    return Reply("ack_ok", {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
                            "count": len(warnings)})


def _ack_workshop(ctx: Context) -> Reply:
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="知悉", problem="ack")
    warnings = open_warnings(ctx, workshop_id=workshop_id)
    if not warnings:
        raise NothingToAck()
    steps = {w.step_id: ctx.session.get(Step, w.step_id) for w in warnings}
    ctx.read_as(f"本车间 {len(warnings)} 条延期预警", "知悉")
    for warning in warnings:
        acknowledge(ctx, warning, steps[warning.step_id], ctx.message.source)
    return Reply("ack_ok", {"count": len(warnings), "steps": [
        {"order_no": s.order.order_no, "product": s.order.product, "workshop": s.workshop.name} for s in steps.values()]})


def open_warnings(ctx: Context, *, step: Step | None = None, order=None, workshop_id: int | None = None) -> list[DelayWarning]:
    """Warnings nobody has acknowledged yet: of a step, of an order's step at this workshop, or
    of every step at a workshop."""
    stmt = select(DelayWarning).join(Step, Step.id == DelayWarning.step_id).where(DelayWarning.acknowledged_at.is_(None))
    if step is not None:
        stmt = stmt.where(DelayWarning.step_id == step.id)
    if order is not None:
        stmt = stmt.where(Step.order_id == order.id, Step.workshop_id == ctx.workshop_id())
    if workshop_id is not None:
        stmt = stmt.where(Step.workshop_id == workshop_id)
    return list(ctx.session.scalars(stmt.order_by(DelayWarning.id)))
