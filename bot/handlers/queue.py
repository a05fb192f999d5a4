"""待办"""
from __future__ import annotations

from bot.handlers.base import Context
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.models import Workshop
from storage.views import workshop_queue


def handle(ctx: Context, args: list[str]) -> Reply:
    workshop_id = ctx.workshop_id()
    if args:
        from storage.directory import workshop_by_name
        workshop_id = workshop_by_name(ctx.session, args[0]).id
    if workshop_id is None:
        raise BadSyntax(command="待办", problem="no_workshop")
    workshop = ctx.session.get(Workshop, workshop_id)
    return Reply("queue", {"workshop": workshop.name, "items": workshop_queue(ctx.session, workshop_id, ctx.now)})
