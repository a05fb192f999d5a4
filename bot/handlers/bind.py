"""绑定 焊接 — admins bind the group the message came from to a workshop."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from storage.directory import bind_group, workshop_by_name
from bot.errors import BadSyntax


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    if len(args) != 1:
        raise BadSyntax(command="绑定", problem="workshop")
    if ctx.message.chat_type != "group" or not ctx.message.chat_id:
        raise BadSyntax(command="绑定", problem="not_group")
    workshop = workshop_by_name(ctx.session, args[0])
    group = bind_group(ctx.session, ctx.now, platform=ctx.message.platform, chat_id=ctx.message.chat_id,
                       chat_name=ctx.message.chat_name, workshop=workshop, person=person,
                       source=ctx.message.source)
    return Reply("bind_ok", {"workshop": workshop.name, "has_webhook": bool(group.webhook_key)})
