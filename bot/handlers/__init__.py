"""Platform-neutral command handlers, one module per command. Importing this registers them."""
from bot.handlers import (bind, handoff, handoff_card, help, incident, progress, queue, receive,  # noqa: F401
                          report, undo)
from bot.handlers.base import COMMANDS, Context, find_command  # noqa: F401
