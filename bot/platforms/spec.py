"""What the registry knows about a platform before any of it runs: its name, how it is
configured, how it is built, where its callbacks and commands are mounted, and its twin."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable


@dataclass(frozen=True)
class PlatformSpec:
    name: str                                   # "wecom": `[wecom]`, `platform = "wecom"`, stored rows
    title: str                                  # what people call it: "企业微信"
    user_key: str                               # the `[[people]]` key with a person's user id here ("" with people_of)
    parse_settings: Callable[[Any], Any]        # the `[name]` table → its typed settings (ConfigError)
    create: Callable[[Any], Any] | None = None  # its settings → a bot.platforms.Platform
    mount: Callable[[Any, Any], None] | None = None   # (Flask app, platform): its callback endpoints
    add_commands: Callable[[Any], None] | None = None  # argparse subparsers: its own `linerelay` commands
    twin: str = ""                              # "module:function" that starts its twin (the sandbox)
    people_of: str = ""                         # a second channel of another platform: whose user ids it shares
    department_key: str = ""                    # the `[[workshops]]` key listing its directory departments
    directory: Callable[[Any, Any], Any] | None = None  # (its Platform, role names) → its DirectorySource
    section: str = ""                           # the configuration table it reads, when not `[name]` (a second
                                                # channel configured inside its platform's table); then
                                                # parse_settings may return None: the channel is not in use
