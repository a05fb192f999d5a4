"""A third platform, written here and nowhere else: registered, configured, and driven through
报工 and a card click over real HTTP, without a line changed outside this file.

"FakeChat" is what a new channel (WeCom's AI-bot long connection, Feishu) has to write: a spec
for the registry, a `Platform` saying how each kind of message travels, senders, and an adapter
that turns its callbacks into neutral messages and clicks and answers them in its own terms.
"""
from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import select

from bot.app import build_relay, create_app
from bot.config import parse_settings
from bot.neutral import CardClick, ChatMessage
from bot.platforms import registry
from bot.platforms.contract import Capabilities, CardView, ClickResult, Delivery, Platform
from bot.platforms.fallbacks import shown
from bot.platforms.spec import PlatformSpec
from bot.twins.server import ThreadedServer
from storage.migrate import init_db
from storage.models import Card, Handoff, Order, Step, Workshop
from storage.orders import OrderData, upsert_order
from tests.helpers import EXAMPLE_CONFIG, wait_until

NAME = "fakechat"


class FakeChat(Platform):
    """Shows what it was asked to send in `seen`, as a person on FakeChat would see it."""
    name = NAME

    def __init__(self, settings: dict[str, Any], capabilities: Capabilities):
        self.settings = settings
        self.capabilities = capabilities
        self.seen: list[tuple[str, str, dict]] = []   # (channel, target, payload)

    def reply(self, message: ChatMessage, text: str) -> Delivery:
        return Delivery("reply", message.chat_id or message.sender_id, {"text": text}, status="sent")

    def group_text(self, group, text: str) -> Delivery:
        return Delivery("say", group.chat_id, {"text": text})

    def person_text(self, user_id: str, text: str) -> Delivery:
        return Delivery("say", f"@{user_id}", {"text": text})

    def group_card(self, group, card: CardView) -> Delivery:
        return Delivery("card", group.chat_id, {"id": card.track_id, "text": card.body,
                                                "buttons": [[action, label] for action, label, _ in card.buttons]})

    def card_update(self, card: CardView) -> Delivery:
        return Delivery("card_update", card.track_id, {"buttons": [b[1] for b in card.buttons], "outcome": card.outcome})

    def senders(self):
        return {channel: (lambda m, channel=channel: self.seen.append((channel, m.target, m.payload)))
                for channel in ("say", "card", "card_update")}


# -- its adapter: translate in, translate out --------------------------------------------------
bp = Blueprint(NAME, __name__)
STATUS = {ClickResult.UNKNOWN_CARD: 404, ClickResult.UNKNOWN_ACTION: 400, ClickResult.REFUSED: 403}


@bp.post("/<channel>/message")
def message(channel: str):
    body = request.get_json()
    relay = current_app.extensions["linerelay"]
    reply = relay.handle_message(ChatMessage(
        platform=channel, message_id=body["id"], sender_id=body["user"], chat_type="group" if body["chat"] else "single",
        chat_id=body["chat"], text=body["text"]))
    return jsonify(text=shown(relay.platforms[channel].capabilities, reply.markdown))


@bp.post("/fakechat/click")
def click():
    body = request.get_json()
    outcome = current_app.extensions["linerelay"].handle_click(
        CardClick(platform=NAME, track_id=body["card"], user_id=body["user"], action=body["action"], params={}))
    return jsonify(message=outcome.message, decided=outcome.card is not None and not outcome.card.buttons), \
        STATUS.get(outcome.result, 200)


def mount(app: Flask, platform: Platform) -> None:
    if NAME not in app.blueprints:
        app.register_blueprint(bp)


# -- a plant on FakeChat only --------------------------------------------------------------------
def fake_config(database_url: str) -> dict:
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["app"]["database_url"] = database_url
    for other in registry.INSTALLED:
        data.pop(other.rpartition(".")[2], None)
    data[NAME] = {"token": "not used"}
    data["groups"] = [{"platform": NAME, "chat_id": f"fc-{code}", "name": f"{code} 群", "workshop": code}
                      for code in ("stamping", "welding")]
    for person in data["people"]:
        person[f"{NAME}_userid"] = f"fc-{person['wecom_userid']}"
    return data


@pytest.fixture
def start_fakechat(database_url):
    """Start the app with FakeChat (of the given capabilities) as its only platform."""
    started = []

    def start(capabilities: Capabilities, more: dict | None = None):
        registry.register(PlatformSpec(name=NAME, title="假聊", user_key=f"{NAME}_userid", parse_settings=dict,
                                       create=lambda settings: FakeChat(settings, capabilities), mount=mount))
        data = fake_config(database_url)
        for key, value in (more or {}).items():   # more configuration: a table, or more groups
            data[key] = data[key] + value if isinstance(value, list) else value
        settings = parse_settings(data)
        init_db(database_url, settings)
        relay = build_relay(settings)
        server = ThreadedServer(create_app(relay=relay)).start()
        started.append((relay, server))
        with relay.Session.begin() as session:
            upsert_order(session, relay.clock.now(), OrderData("SO-1001", "车门总成", 200, relay.clock.today()
                                                               + timedelta(days=5), "测试客户", 3),
                         actor=None, source="test")
        return relay, relay.platforms[NAME], server.url

    yield start
    registry.unregister(NAME)
    registry.unregister(LIVE)
    for relay, server in started:
        server.stop()
        relay.dispatcher.stop()
        relay.engine.dispose()


def say(url: str, user: str, text: str, chat: str | None, msg_id: str, channel: str = NAME) -> requests.Response:
    return requests.post(f"{url}/{channel}/message", json={"id": msg_id, "user": user, "chat": chat, "text": text},
                         timeout=30)


def handoff_status(relay) -> str:
    with relay.Session() as s:
        return s.scalars(select(Handoff.status)).one()


def test_report_and_a_card_click_through_a_third_platform(start_fakechat):
    relay, platform, url = start_fakechat(Capabilities(group_cards=True, markdown=False))
    resp = say(url, "fc-zhangwei", "报工 SO-1001 200", "fc-stamping", "m1")
    assert resp.status_code == 200 and "已报工" in resp.json()["text"]
    assert "**" not in resp.json()["text"]    # it shows no markdown: it got plain text
    with relay.Session() as s:
        step = s.scalars(select(Step).join(Order).join(Workshop).where(Workshop.code == "stamping")).one()
        assert step.good_qty == 200 and step.status == "done"
    # the handoff card reaches the welding group on FakeChat, with its buttons
    card = wait_until(lambda: [p for channel, target, p in platform.seen if channel == "card" and target == "fc-welding"])[0]
    assert [label for _, label in card["buttons"]] == ["确认接收", "数量不符"] and "SO-1001" in card["text"]
    # the stamping lead may not confirm for welding: refused, nothing changes
    refused = requests.post(f"{url}/fakechat/click", json={"card": card["id"], "user": "fc-zhangwei",
                                                           "action": "confirm"}, timeout=30)
    assert refused.status_code == 403 and handoff_status(relay) == "pending"
    # the welding lead confirms: the handoff is received and the card shows its outcome
    confirmed = requests.post(f"{url}/fakechat/click", json={"card": card["id"], "user": "fc-lina",
                                                             "action": "confirm"}, timeout=30)
    assert confirmed.status_code == 200 and confirmed.json()["decided"] is True
    assert handoff_status(relay) == "confirmed"
    with relay.Session() as s:
        assert s.scalars(select(Card.status).where(Card.track_id == card["id"])).one() == "decided"
    # a card we never sent is not ours
    assert requests.post(f"{url}/fakechat/click", json={"card": "lr_forged", "user": "fc-lina", "action": "confirm"},
                         timeout=30).status_code == 404


def test_where_buttons_cannot_go_the_group_gets_the_commands(start_fakechat):
    relay, platform, url = start_fakechat(Capabilities())
    assert say(url, "fc-zhangwei", "报工 SO-1001 200", "fc-stamping", "m1").status_code == 200
    notice = wait_until(lambda: [p["text"] for channel, target, p in platform.seen
                                 if channel == "say" and target == "fc-welding"])[0]
    assert "SO-1001" in notice and "回复「接收 SO-1001」确认接收" in notice
    with relay.Session() as s:
        assert s.scalars(select(Card)).all() == []    # nothing clickable was sent
    # typing the command does what the button would have done
    resp = say(url, "fc-lina", "接收 SO-1001", "fc-welding", "m2")
    assert resp.status_code == 200 and handoff_status(relay) == "confirmed"


LIVE = "fakechat_live"


class FakeChatLive(FakeChat):
    """A second channel of FakeChat (as WeCom's AI-bot long connection is to WeCom): its own
    endpoints and deliveries, FakeChat's people."""
    name = LIVE
    people_of = NAME


def test_a_second_channel_of_a_platform_shares_its_people(start_fakechat):
    registry.register(PlatformSpec(name=LIVE, title="假聊长连接", user_key="", people_of=NAME, parse_settings=dict,
                                   create=lambda settings: FakeChatLive(settings, Capabilities()), mount=mount))
    relay, _platform, url = start_fakechat(Capabilities(), more={
        LIVE: {}, "groups": [{"platform": LIVE, "chat_id": "fl-stamping", "name": "冲压 长连接", "workshop": "stamping"}]})
    resp = say(url, "fc-zhangwei", "报工 SO-1001 20", "fl-stamping", "live-1", channel=LIVE)
    assert resp.status_code == 200 and "已报工" in resp.json()["text"]   # known as FakeChat's 张伟
    with relay.Session() as s:
        step = s.scalars(select(Step).join(Order).join(Workshop).where(Workshop.code == "stamping")).one()
        assert step.good_qty == 20
