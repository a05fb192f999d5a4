"""Platform-neutral command handlers, one module per command. Importing this registers them."""
from bot.handlers import bind, handoff_card, help, progress, queue, receive, report, undo  # noqa: F401
from bot.handlers.base import COMMANDS, Context, find_command  # noqa: F401
