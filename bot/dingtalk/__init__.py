"""DingTalk (钉钉): the robot for commands and notices, interactive cards with buttons in groups."""
from bot.dingtalk.settings import parse_settings
from bot.platforms.spec import PlatformSpec

SPEC = PlatformSpec(name="dingtalk", title="钉钉", user_key="dingtalk_userid", parse_settings=parse_settings)
