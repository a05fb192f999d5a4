"""`[wecom]`: the self-built app (corp id, agent, secret, callback token and key) and `[wecom.aibot]`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import ConfigError, Reader

CALLBACK, LONG_CONNECTION = "callback", "long_connection"
DEFAULT_WS_URL = "wss://openws.work.weixin.qq.com"


@dataclass(frozen=True)
class AiBotSettings:
    """The AI bot (智能机器人) in one of its two API modes: HTTP callbacks to `/wecom/aibot`
    (token, encoding_aes_key) or the WebSocket long connection (bot_id, secret)."""
    token: str
    encoding_aes_key: str
    mode: str = CALLBACK
    bot_id: str = ""
    secret: str = ""
    ws_url: str = DEFAULT_WS_URL
    ping_seconds: float = 30.0
    standby_lease_seconds: float = 60.0   # a standby `linerelay wecom-ws` takes over this long after the holder dies

    @property
    def long_connection(self) -> bool:
        return self.mode == LONG_CONNECTION


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    api_base_url: str
    aibot: AiBotSettings


def _aes_key(reader: Reader, key: str) -> str:
    value = reader.text(key)
    if len(value) != 43:
        raise ConfigError(f"{reader.name(key)} must be 43 characters (WeCom EncodingAESKey)")
    return value


def parse_aibot(table: Any) -> AiBotSettings:
    """`[wecom.aibot]`: callback mode needs the token and key, the long connection its BotID and Secret."""
    ai = Reader(table, "wecom.aibot")
    mode = ai.get("mode", str, CALLBACK)
    if mode not in (CALLBACK, LONG_CONNECTION):
        raise ConfigError(f"wecom.aibot.mode must be {CALLBACK!r} or {LONG_CONNECTION!r}")
    if mode == CALLBACK:
        return AiBotSettings(token=ai.text("token"), encoding_aes_key=_aes_key(ai, "encoding_aes_key"))
    ping = ai.get("ping_seconds", float, 30.0)
    if not 1 <= ping <= 120:
        raise ConfigError("wecom.aibot.ping_seconds must be between 1 and 120")
    lease = ai.get("standby_lease_seconds", float, 60.0)
    if not 3 <= lease <= 600:
        raise ConfigError("wecom.aibot.standby_lease_seconds must be between 3 and 600")
    url = ai.text("ws_url", DEFAULT_WS_URL)
    if not url.startswith(("wss://", "ws://")):
        raise ConfigError("wecom.aibot.ws_url must start with wss:// (or ws:// for a local twin)")
    return AiBotSettings(token=ai.get("token", str, ""), encoding_aes_key=ai.get("encoding_aes_key", str, ""),
                         mode=mode, bot_id=ai.text("bot_id"), secret=ai.text("secret"), ws_url=url,
                         ping_seconds=ping, standby_lease_seconds=lease)


def parse_settings(table: Any) -> WeComSettings:
    r = Reader(table, "wecom")
    return WeComSettings(
        corp_id=r.text("corp_id"), agent_id=r.get("agent_id", int), secret=r.text("secret"),
        token=r.text("token"), encoding_aes_key=_aes_key(r, "encoding_aes_key"),
        api_base_url=r.text("api_base_url", "https://qyapi.weixin.qq.com").rstrip("/"),
        aibot=parse_aibot(r.get("aibot", dict)),
    )
