"""WeCom's AI bot on its WebSocket long connection: a second channel of WeCom (`people_of`).

Configured inside `[wecom.aibot]` with `mode = "long_connection"`, `bot_id` and `secret`; in
callback mode (the default) this channel is not in use. Its groups are `platform = "wecom-ws"`.
The connection is held by one process, `linerelay wecom-ws`.
"""
from __future__ import annotations

import sys
from typing import Any

from bot.platforms.spec import PlatformSpec
from bot.wecom.settings import AiBotSettings, parse_aibot

NAME = "wecom-ws"


def parse_settings(table: Any) -> AiBotSettings | None:
    """`[wecom]` → its AI bot's long-connection settings, or None in callback mode."""
    aibot = parse_aibot(table.get("aibot", {}) if isinstance(table, dict) else {})
    return aibot if aibot.long_connection else None


def create(settings: AiBotSettings) -> Any:
    from bot.wecom_ws.platform import WeComWsPlatform
    return WeComWsPlatform(settings)


def _run(args: Any) -> None:
    """`linerelay wecom-ws`: hold the connection; exit 3 when another instance takes it over."""
    import asyncio
    import signal

    from bot.app import build_relay
    from bot.cli import settings_of
    from bot.wecom_ws.runner import ConnectionProcess
    relay = build_relay(settings_of(args))
    if NAME not in relay.platforms:
        sys.exit('wecom.aibot.mode is not "long_connection": the AI bot answers HTTP callbacks (linerelay serve)')
    process = ConnectionProcess(relay)
    signal.signal(signal.SIGTERM, lambda *_: process.stop())
    try:
        code = asyncio.run(process.run())
    except KeyboardInterrupt:
        code = 0
    finally:
        relay.dispatcher.stop()
    sys.exit(code)


def add_commands(sub: Any) -> None:
    sub.add_parser("wecom-ws", help="hold the WeCom AI bot's long connection (wecom.aibot.mode = long_connection)"
                   ).set_defaults(fn=_run)


SPEC = PlatformSpec(name=NAME, title="企业微信", user_key="", people_of="wecom", section="wecom",
                    parse_settings=parse_settings, create=create, add_commands=add_commands,
                    twin="bot.twins.wecom_ws_sandbox:sandbox_twin")
