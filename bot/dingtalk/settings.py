"""`[dingtalk]`: the internal app (key, secret, robot), its API hosts and the interactive card."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import ConfigError, Reader


@dataclass(frozen=True)
class DingTalkSettings:
    app_key: str
    app_secret: str
    robot_code: str
    api_base_url: str
    oapi_base_url: str
    card_template_id: str
    card_callback_route_key: str
    card_callback_secret: str
    event_token: str = ""       # event subscription (事件订阅, HTTP): contact changes; "" = not subscribed
    event_aes_key: str = ""
    card_callbacks: str = "http"   # how clicks on our cards come back: "http" (/dingtalk/card) or "stream"


def parse_settings(table: Any) -> DingTalkSettings:
    r = Reader(table, "dingtalk")
    app_key = r.text("app_key")
    secret = r.text("card_callback_secret")
    if len(secret) < 16:
        raise ConfigError("dingtalk.card_callback_secret must be at least 16 characters")
    return DingTalkSettings(
        app_key=app_key, app_secret=r.text("app_secret"), robot_code=r.get("robot_code", str, app_key) or app_key,
        api_base_url=r.text("api_base_url", "https://api.dingtalk.com").rstrip("/"),
        oapi_base_url=r.text("oapi_base_url", "https://oapi.dingtalk.com").rstrip("/"),
        card_template_id=r.text("card_template_id"),
        card_callback_route_key=r.text("card_callback_route_key", "linerelay"),
        card_callback_secret=secret, card_callbacks=_card_callbacks(r), **_events(r),
    )


def _card_callbacks(r: Reader) -> str:
    """A card's clicks come back the way it was created with (`callbackType`): over HTTP to the
    route registered by `linerelay dingtalk-register`, or over `linerelay stream`'s connection."""
    mode = r.get("card_callbacks", str, "http").strip().lower()
    if mode not in ("http", "stream"):
        raise ConfigError(f'dingtalk.card_callbacks must be "http" or "stream", got {mode!r}')
    return mode


def _events(r: Reader) -> dict:
    token, key = r.get("event_token", str, ""), r.get("event_aes_key", str, "")
    if key and len(key) != 43:
        raise ConfigError("dingtalk.event_aes_key must be 43 characters")
    if bool(token) != bool(key):
        raise ConfigError("dingtalk.event_token and dingtalk.event_aes_key go together")
    return {"event_token": token, "event_aes_key": key}
