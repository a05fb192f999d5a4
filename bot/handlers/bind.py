"""绑定 焊接 — admins bind the group the message came from to a workshop."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from storage.directory import bind_group, workshop_by_name
from bot.errors import BadSyntax
from bot.text import join_words


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    name = join_words(args)   # `喷漆2` is cut into two glued words; a name is what was typed
    if not name or " " in name:
        raise BadSyntax(command="绑定", problem="workshop")
    if ctx.message.chat_type != "group" or not ctx.message.chat_id:
        raise BadSyntax(command="绑定", problem="not_group")
    workshop = workshop_by_name(ctx.session, name)
    group = bind_group(ctx.session, ctx.now, platform=ctx.message.platform, chat_id=ctx.message.chat_id,
                       chat_name=ctx.message.chat_name, workshop=workshop, person=person,
                       source=ctx.message.source)
    return Reply("bind_ok", {"workshop": workshop.name, "has_webhook": bool(group.webhook_key)})
