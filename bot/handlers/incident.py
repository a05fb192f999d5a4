"""异常 SO-1001 设备 冲床液压故障 预计 4小时 · 恢复 SO-1001"""
from __future__ import annotations

from datetime import UTC

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.text import parse_recovery
from bot.errors import BadSyntax
from storage.incidents import CATEGORIES, close_incident, open_incident
from storage.orders import find_order

RECOVERY_WORDS = {"预计", "预计恢复", "eta"}


def parse_incident(args: list[str]) -> tuple[str, str | None, str, str, list[str]]:
    """(order, step name or None, category, description, recovery words)."""
    if len(args) < 2:
        raise BadSyntax(command="异常", problem="incident")
    order_text, rest = args[0], list(args[1:])
    step_name = None
    if rest[0] not in CATEGORIES and len(rest) > 1 and rest[1] in CATEGORIES:
        step_name = rest.pop(0)
    category = rest.pop(0)
    if category not in CATEGORIES:
        raise BadSyntax(command="异常", problem="category", token=category)
    recovery: list[str] = []
    for i, word in enumerate(rest):
        if word.lower() in RECOVERY_WORDS:
            rest, recovery = rest[:i], rest[i + 1:]
            break
    return order_text, step_name, category, " ".join(rest)[:200], recovery


def open_(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order_text, step_name, category, description, recovery_words = parse_incident(args)
    order = find_order(ctx.session, order_text)
    step = ctx.step_for(order, step_name)
    local_now = ctx.clock.local(ctx.now)
    recovery_local = parse_recovery(recovery_words, local_now)
    recovery = recovery_local.astimezone(UTC).replace(tzinfo=None) if recovery_local else None
    incident = open_incident(ctx.session, ctx.now, step_id=step.id, person=person, category=category,
                             description=description, expected_recovery=recovery, source=ctx.message.source)
    ctx.replan()
    context = {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
               "category": category, "description": description, "recovery": recovery, "impact": _impact(ctx, order, step),
               "reporter": person.name}
    key = f"incident:{incident.id}:opened"
    for later in (s for s in order.steps if s.seq > step.seq):
        ctx.notify_workshop(later.workshop_id, "notices/incident_opened", key=f"{key}:{later.workshop_id}", **context)
    ctx.notify_role("managers", "notices/incident_opened", key=f"{key}:managers", **context)
    return Reply("incident_ok", context)


def _impact(ctx: Context, order, step) -> dict:
    """The order's finish as the plan has it with the step stopped until its expected recovery
    (or for `planning.assumed_outage_minutes` when nobody knows)."""
    return {"new_end": order.forecast_end, "late": order.late_minutes > 0, "late_minutes": order.late_minutes,
            "assumed_minutes": ctx.settings.planning.assumed_outage_minutes,
            "downstream": [s.workshop.name for s in order.steps if s.seq > step.seq]}


def resume(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) not in (1, 2):
        raise BadSyntax(command="恢复", problem="resume")
    order = find_order(ctx.session, args[0])
    step = ctx.step_for(order, args[1] if len(args) == 2 else None)
    incident = close_incident(ctx.session, ctx.now, step_id=step.id, person=person, source=ctx.message.source)
    minutes = int((ctx.now - incident.opened_at).total_seconds() // 60)
    context = {"order_no": order.order_no, "workshop": step.workshop.name, "category": incident.category,
               "description": incident.description, "minutes": minutes, "person": person.name}
    key = f"incident:{incident.id}:closed"
    for later in (s for s in order.steps if s.seq > step.seq):
        ctx.notify_workshop(later.workshop_id, "notices/incident_closed", key=f"{key}:{later.workshop_id}", **context)
    ctx.notify_role("managers", "notices/incident_closed", key=f"{key}:managers", **context)
    return Reply("resume_ok", context)
