"""WeCom (企业微信): the AI bot for commands, group robots for notices, the self-built app for cards."""
from bot.platforms.spec import PlatformSpec
from bot.wecom.settings import parse_settings

SPEC = PlatformSpec(name="wecom", title="企业微信", user_key="wecom_userid", parse_settings=parse_settings)
