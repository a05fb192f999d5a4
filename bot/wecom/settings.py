"""`[wecom]`: the self-built app (corp id, agent, secret, callback token and key) and `[wecom.aibot]`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import ConfigError, Reader


@dataclass(frozen=True)
class AiBotSettings:
    token: str
    encoding_aes_key: str


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


def parse_settings(table: Any) -> WeComSettings:
    r = Reader(table, "wecom")
    ai = Reader(r.get("aibot", dict), "wecom.aibot")
    return WeComSettings(
        corp_id=r.text("corp_id"), agent_id=r.get("agent_id", int), secret=r.text("secret"),
        token=r.text("token"), encoding_aes_key=_aes_key(r, "encoding_aes_key"),
        api_base_url=r.text("api_base_url", "https://qyapi.weixin.qq.com").rstrip("/"),
        aibot=AiBotSettings(token=ai.text("token"), encoding_aes_key=_aes_key(ai, "encoding_aes_key")),
    )
