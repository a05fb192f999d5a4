"""WeCom (企业微信): the AI bot for commands, group robots for notices, the self-built app for cards."""
from __future__ import annotations

from typing import Any

from bot.platforms.spec import PlatformSpec
from bot.wecom.settings import WeComSettings, parse_settings


def create(settings: WeComSettings) -> Any:
    from bot.wecom.platform import WeComPlatform
    return WeComPlatform(settings)


def mount(app: Any, platform: Any) -> None:
    from bot.wecom.adapter import mount
    mount(app, platform)


def directory(platform: Any, tag_names: Any) -> Any:
    from bot.wecom.directory import source
    return source(platform, tag_names)


SPEC = PlatformSpec(name="wecom", title="企业微信", user_key="wecom_userid", parse_settings=parse_settings,
                    create=create, mount=mount, twin="bot.twins.wecom:sandbox_twin",
                    department_key="wecom_department_ids", directory=directory)
