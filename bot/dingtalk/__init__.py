"""DingTalk (钉钉): the robot for commands and notices, interactive cards with buttons in groups."""
from __future__ import annotations

import logging
import sys
from typing import Any

from bot.dingtalk.settings import DingTalkSettings, parse_settings
from bot.platforms.spec import PlatformSpec

log = logging.getLogger(__name__)


def create(settings: DingTalkSettings) -> Any:
    from bot.dingtalk.platform import DingTalkPlatform
    return DingTalkPlatform(settings)


def mount(app: Any, platform: Any) -> None:
    from bot.dingtalk import adapter, events
    adapter.mount(app, platform)
    events.mount(app, platform)


def directory(platform: Any, role_names: Any) -> Any:
    from bot.dingtalk.directory import source
    return source(platform, role_names)


def _register(args: Any) -> None:
    """`linerelay dingtalk-register`: tell DingTalk where card clicks go (HTTP mode)."""
    from bot.app import build_relay
    from bot.cli import settings_of
    from bot.dingtalk.platform import DingTalkPlatform
    relay = build_relay(settings_of(args))
    platform = relay.platforms.get("dingtalk")
    if not isinstance(platform, DingTalkPlatform):
        sys.exit("no [dingtalk] section in the configuration")
    if platform.settings.card_callbacks == "stream":
        sys.exit('dingtalk.card_callbacks is "stream": card clicks come over `linerelay stream`, nothing to register')
    url = platform.register_card_callback(args.public_url)
    print(f"card clicks for route key {platform.settings.card_callback_route_key!r} now go to {url.split('?')[0]}")


def _stream(args: Any) -> None:
    """`linerelay stream`: commands and card clicks over an outbound connection (no public URL)."""
    from bot.app import build_relay
    from bot.cli import settings_of
    relay = build_relay(settings_of(args))
    if "dingtalk" not in relay.platforms:
        sys.exit("no [dingtalk] section in the configuration")
    try:
        from bot.dingtalk.stream import make_client
    except ImportError:
        sys.exit('Stream mode needs the dingtalk-stream package: pip install "linerelay[stream]"')
    if relay.settings.platform("dingtalk").card_callbacks != "stream":
        log.warning('dingtalk.card_callbacks is "http": clicks on cards go to /dingtalk/card, not over this '
                    'connection; set it to "stream" when DingTalk cannot reach this host')
    make_client(relay).start_forever()


def add_commands(sub: Any) -> None:
    p = sub.add_parser("dingtalk-register", help="register the DingTalk card callback URL (HTTP mode)")
    p.add_argument("--public-url", required=True, help="https://YOUR-HOST where /dingtalk/card is reachable")
    p.set_defaults(fn=_register)
    sub.add_parser("stream", help="DingTalk Stream mode (no public URL needed)").set_defaults(fn=_stream)


SPEC = PlatformSpec(name="dingtalk", title="钉钉", user_key="dingtalk_userid", parse_settings=parse_settings,
                    create=create, mount=mount, add_commands=add_commands, twin="bot.twins.dingtalk:sandbox_twin",
                    department_key="dingtalk_dept_ids", directory=directory)
