"""帮助 · 帮助 报工"""
from __future__ import annotations

from bot.handlers.base import Context
from bot.neutral import Reply


def handle(ctx: Context, args: list[str]) -> Reply:
    if args:
        cmd = ctx.commands.find(args[0])
        if cmd is not None:
            return Reply("help_command", {"command": cmd.name})
    return Reply("help", {"known": ctx.person is not None})
