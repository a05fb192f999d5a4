"""What the tests share besides fixtures: settings for a test database, the twins, the live
app's handle, and ways to wait for and compare what happened."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import Settings, load_settings
from bot.relay import Relay
from bot.twins.dingtalk import DingTalkTwin
from bot.twins.wecom import WeComTwin
from storage.orders import OrderData, upsert_order

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config.example.toml"
PG_URL = os.environ.get("LINERELAY_TEST_DATABASE_URL")


def make_settings(database_url: str, api_base_url: str = "http://127.0.0.1:9",
                  dingtalk_base_url: str = "http://127.0.0.1:9", **overrides) -> Settings:
    values = {"app.database_url": database_url, "wecom.api_base_url": api_base_url,
              "dingtalk.api_base_url": dingtalk_base_url, "dingtalk.oapi_base_url": dingtalk_base_url}
    values.update(overrides)
    return load_settings(EXAMPLE_CONFIG, env={}, overrides=values)


def make_dingtalk_twin(settings: Settings) -> DingTalkTwin:
    d = settings.dingtalk
    robots = {g.webhook_key: g.webhook_secret for g in settings.groups if g.platform == "dingtalk" and g.webhook_key}
    return DingTalkTwin(app_key=d.app_key, app_secret=d.app_secret, robot_code=d.robot_code, custom_robots=robots,
                        event_token=d.event_token, event_aes_key=d.event_aes_key)


def make_twin(settings: Settings) -> WeComTwin:
    w = settings.wecom
    return WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key)


@dataclass
class Live:
    """The app on a real port, both platform twins pointed at it, and the database behind it.

    `say` speaks as a person in a group on `platform`. People and groups are named by their
    WeCom ids; on DingTalk the demo plant's ids are `dt-<userid>` and `cid-<workshop>`.
    """
    relay: Relay
    twin: WeComTwin
    dingtalk: DingTalkTwin
    url: str
    platform: str = "wecom"

    def session(self):
        return self.relay.Session()

    def add_order(self, order_no="SO-1001", product="车门总成", quantity=200, days=5, priority=3):
        clock = self.relay.clock
        with self.relay.Session.begin() as s:
            order, _ = upsert_order(s, clock.now(), OrderData(order_no, product, quantity,
                                                              clock.today() + timedelta(days=days),
                                                              "测试客户", priority),
                                    actor=None, source="test")
            return order.id

    def say(self, user: str, text: str, chat: str | None = "wr-stamping", platform: str | None = None, **kwargs):
        """`user` @-mentions the bot in group `chat` (or 1:1 when chat is None); returns the reply text."""
        if (platform or self.platform) == "dingtalk":
            if "msgid" in kwargs:
                kwargs["msg_id"] = kwargs.pop("msgid")
            resp, session = self.dingtalk.robot_text(dingtalk_user(user), text, conversation_id=dingtalk_chat(chat),
                                                     **kwargs)
            assert resp.status_code == 200, resp.text
            return self.dingtalk.wait_for(lambda s: s.api == "session" and s.target == session).text
        result = self.twin.aibot_text(user, text, chatid=chat, **kwargs)
        assert result.status == 200, result.raw
        return result.reply["stream"]["content"]


def settle(live, timeout: float = 10.0) -> None:
    """Wait until the outbox has nothing left to send right now (background delivery done).
    `live` is anything with a `relay`: the `live` fixture or a sandbox."""
    from sqlalchemy import func, select
    from storage.models import OutboxMessage

    def idle():
        with live.relay.Session() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(
                (OutboxMessage.status == "sending") | ((OutboxMessage.status == "pending")
                                                       & (OutboxMessage.next_attempt_at <= live.relay.clock.now())))) == 0
    wait_until(idle, timeout)


def dingtalk_user(wecom_user: str) -> str:
    return f"dt-{wecom_user}"


def dingtalk_chat(wecom_chat: str | None) -> str | None:
    return None if wecom_chat is None else wecom_chat.replace("wr-", "cid-", 1)


# Counting sends against the platforms' rate limits is bookkeeping of delivery, not data.
SEND_BOOKKEEPING = ("rate_keys", "rate_sends")


def snapshot(relay: Relay) -> dict[str, list[tuple]]:
    """Every row of every table (but the send counters), for 'nothing changed' assertions."""
    from storage.models import Base
    result = {}
    with relay.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in SEND_BOOKKEEPING:
                continue
            rows = conn.execute(table.select()).all()
            result[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return result


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy (background sends finish a bit later)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        time.sleep(interval)
