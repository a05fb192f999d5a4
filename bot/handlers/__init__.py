"""Platform-neutral command handlers, one module per command. Importing this registers them."""
from bot.handlers import (approval_card, bind, handoff, handoff_card, help, incident, progress,  # noqa: F401
                          queue, receive, report, requests, undo, warning)
from bot.handlers.base import COMMANDS, Context, find_command  # noqa: F401
