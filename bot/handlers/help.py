"""帮助 · 帮助 报工"""
from __future__ import annotations

from bot.handlers.base import Context, command, find_command
from bot.neutral import Reply


@command("帮助", "help", "?", needs_person=False)
def handle(ctx: Context, args: list[str]) -> Reply:
    if args:
        cmd = find_command(args[0])
        if cmd is not None:
            return Reply("help_command", {"command": cmd.name})
    return Reply("help", {"known": ctx.person is not None})
