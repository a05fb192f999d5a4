"""进度 SO-1001 · 进度"""
from __future__ import annotations

from bot.handlers.base import Context
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.incidents import open_incidents
from storage.models import Workshop
from storage.orders import find_order
from storage.views import active_steps, order_view


def handle(ctx: Context, args: list[str]) -> Reply:
    if len(args) > 1:
        raise BadSyntax(command="进度", problem="too_many", token=args[1])
    if args:
        order = find_order(ctx.session, args[0])
        found = open_incidents(ctx.session, [s.id for s in order.steps])
        texts = {i: [f"{x.category} · {x.description}" for x in found.get(s.id, [])] for i, s in enumerate(order.steps)}
        return Reply("cards/progress", {"order": order_view(order, ctx.now), "open_incidents": texts})
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="进度", problem="no_workshop")
    workshop = ctx.session.get(Workshop, workshop_id)
    return Reply("progress_workshop", {"workshop": workshop.name,
                                       "items": active_steps(ctx.session, workshop_id, ctx.now)})
