"""WeCom's AI bot on the long connection, end to end: the connection process (bot/wecom_ws)
against the twin's WebSocket gateway (bot/twins/wecom_ws.py), with a real database.

The plant's WeCom groups are bound to the channel (`platform = "wecom-ws"`); the HTTP WeCom twin
stands by for what falls back to the group robot webhook and the self-built app."""
from __future__ import annotations

import asyncio
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import build_relay
from bot.config import parse_settings
from bot.relay import Relay
from bot.twins.wecom import WeComTwin
from bot.twins.wecom_ws import AiBotGateway
from bot.wecom_ws.runner import EXIT_KICKED, ConnectionProcess
from storage.migrate import init_db
from storage.models import Card, Handoff, InboundMessage, Order, OutboxMessage, Step, Workshop
from storage.orders import OrderData, upsert_order
from tests.helpers import EXAMPLE_CONFIG, make_twin, settle, wait_until

BOT_ID, SECRET = "twin-aibot-id", "twin-aibot-secret"


def ws_settings(database_url: str, wecom_url: str, ws_url: str, photo_dir: str = "photos"):
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["app"]["database_url"] = database_url
    data["app"]["photo_dir"] = photo_dir
    data["wecom"]["api_base_url"] = wecom_url
    data["wecom"]["aibot"] = {"mode": "long_connection", "bot_id": BOT_ID, "secret": SECRET, "ws_url": ws_url,
                              "standby_lease_seconds": 3}
    data.pop("dingtalk")
    data["groups"] = [g for g in data["groups"] if g["platform"] == "wecom"]
    for group in data["groups"]:
        group["platform"] = "wecom-ws"
    return parse_settings(data)


class Holder:
    """`linerelay wecom-ws` in a thread: its exit status once it ends."""

    def __init__(self, relay: Relay, holder: str | None = None):
        self.process = ConnectionProcess(relay, backoff=(0.05, 0.5), holder=holder)
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.code = asyncio.run(self.process.run())

    def start(self) -> Holder:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop it and wait until it has ended (its lease released). Under load a lease write can
        wait on SQLite's lock for up to its busy timeout (30 s), after the websocket's closing
        handshake (up to 10 s): a shorter wait let tests go on while the stopped holder still held
        the lease (and 45 s was once not enough on a loaded CI machine)."""
        self.process.stop()
        self.thread.join(90)
        assert not self.thread.is_alive(), "the holder did not stop"


@dataclass
class WsPlant:
    relay: Relay
    gateway: AiBotGateway
    twin: WeComTwin
    holder: Holder

    def step(self, workshop: str = "stamping", order_no: str = "SO-1001") -> Step:
        with self.relay.Session() as s:
            return s.scalars(select(Step).join(Order).join(Workshop)
                             .where(Workshop.code == workshop, Order.order_no == order_no)).one()

    def handoff_status(self) -> str:
        with self.relay.Session() as s:
            return s.scalars(select(Handoff.status)).one()


@pytest.fixture
def plant(database_url, tmp_path):
    gateway = AiBotGateway(BOT_ID, SECRET).start()
    probe = ws_settings(database_url, "http://127.0.0.1:9", gateway.url)
    twin = make_twin(probe).start()
    twin.robots.update({g.webhook_key: g.chat_id for g in probe.groups if g.webhook_key})
    settings = ws_settings(database_url, twin.base_url, gateway.url, str(tmp_path / "photos"))
    init_db(settings.app.database_url, settings)
    relay = build_relay(settings)
    relay.on_public_url("http://linerelay.test")
    with relay.Session.begin() as s:
        for no, qty in (("SO-1001", 200), ("SO-1002", 100)):
            upsert_order(s, relay.clock.now(), OrderData(no, "车门总成", qty, relay.clock.today() + timedelta(days=5),
                                                         "测试客户", 3), actor=None, source="test")
    # someone has written to the bot in each workshop's group before: pushes there are accepted
    gateway.known_chats.update(g.chat_id for g in settings.groups)
    holder = Holder(relay).start()
    gateway.wait_subscribed()
    yield WsPlant(relay, gateway, twin, holder)
    holder.stop()
    relay.dispatcher.stop()
    gateway.stop()
    twin.stop()
    relay.engine.dispose()


def test_report_in_a_group_is_answered_on_the_connection_and_applied_once(plant):
    reply = plant.gateway.say("zhangwei", "报工 SO-1001 40", chatid="wr-stamping", msgid="ws-1")
    assert "已报工" in reply and "40/200" in reply
    assert plant.step().good_qty == 40
    # WeCom delivers the same message again (a retry, a reconnect): answered from the record, counted once
    again = plant.gateway.say("zhangwei", "报工 SO-1001 40", chatid="wr-stamping", msgid="ws-1")
    assert again == reply and plant.step().good_qty == 40
    with plant.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)
                        .where(InboundMessage.platform == "wecom-ws")) == 1
    # bad input: a clear Chinese answer on the connection, nothing changes
    assert "SO-9999" in plant.gateway.say("zhangwei", "报工 SO-9999 5", chatid="wr-stamping")
    assert plant.step().good_qty == 40


def test_handoff_card_in_the_next_group_confirmed_by_a_click_once(plant):
    gw = plant.gateway
    gw.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")
    push = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding"
                       and s.payload.get("msgtype") == "template_card")
    card = push.payload["template_card"]
    assert card["card_type"] == "button_interaction" and "SO-1001" in card["sub_title_text"]
    assert [b["text"] for b in card["button_list"]] == ["确认接收", "数量不符"]
    # the stamping lead may not confirm for welding: refused, the card stays, he is told in the group
    refused = gw.click("zhangwei", "wr-welding", card["task_id"], "confirm")
    told = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding" and s.payload["msgtype"] == "markdown"
                       and "zhangwei" in s.payload["markdown"]["content"])
    assert "焊接" in told.payload["markdown"]["content"] or "不" in told.payload["markdown"]["content"]
    assert plant.handoff_status() == "pending"
    assert not [s for s in gw.sent if s.api == "update" and s.target == card["task_id"]]
    assert refused not in [a["req_id"] for a in gw.acks if a["cmd"] == "aibot_respond_update_msg"]
    # the welding lead confirms; WeCom delivers that click twice: applied once, the card updated
    gw.click("lina", "wr-welding", card["task_id"], "confirm", msgid="click-1")
    first = gw.wait_for(lambda s: s.api == "update" and s.target == card["task_id"])
    gw.click("lina", "wr-welding", card["task_id"], "confirm", msgid="click-1")
    assert plant.handoff_status() == "confirmed"
    assert "李娜" in first.payload["template_card"]["sub_title_text"]
    assert first.payload["template_card"]["task_id"] == card["task_id"]
    with plant.relay.Session() as s:
        assert s.scalars(select(Card.status).where(Card.track_id == card["task_id"])).one() == "decided"
        assert s.scalar(select(func.count()).select_from(Handoff)) == 1
    assert plant.step("welding").status == "ready"


def test_a_second_connection_kicks_the_first_which_exits(plant):
    plant.gateway.kick()
    wait_until(lambda: plant.holder.code is not None)
    assert plant.holder.code == EXIT_KICKED
    assert plant.gateway.subscriptions == 1     # it did not subscribe again (no mutual kicking)


def test_a_standby_connects_only_when_the_holder_stops(plant):
    """Two `linerelay wecom-ws` for one bot: the second stands by (no subscription, no kicking)
    and takes over when the first stops; the plant is answered all along."""
    gw = plant.gateway
    standby = Holder(build_relay(plant.relay.settings), holder="host-b").start()
    try:
        wait_until(lambda: standby.process.standing_by)
        assert "已报工" in gw.say("zhangwei", "报工 SO-1001 10", chatid="wr-stamping")
        assert gw.subscriptions == 1 and plant.holder.code is None
        plant.holder.stop()                       # a clean stop gives the lease up at once
        assert plant.holder.code == 0
        wait_until(lambda: gw.subscriptions == 2, timeout=20)
        assert standby.process.lease.holder_now() == "host-b" and not standby.process.standing_by
        assert "已报工" in gw.say("zhangwei", "报工 SO-1001 11", chatid="wr-stamping")
        assert plant.step().good_qty == 21
    finally:
        standby.stop()
        standby.process.relay.dispatcher.stop()
        standby.process.relay.engine.dispose()


def test_a_holder_that_stalled_past_its_lease_and_was_kicked_stands_by(plant):
    """The holder's lease renewals stall longer than the lease (3 s here); the standby takes the
    lease and subscribes, which kicks the old connection. The old holder sees that the lease is
    the standby's and stands by (it used to exit 3, which systemd does not restart: no spare
    left); when the new holder stops, the old one takes over again."""
    gw, old = plant.gateway, plant.holder
    gate = threading.Event()
    real_take = old.process.lease.take

    def stalled_take():
        gate.wait(8)            # a stall (a GC pause, a slow disk) longer than the lease
        return real_take()
    old.process.lease.take = stalled_take
    standby = Holder(build_relay(plant.relay.settings), holder="host-b").start()
    try:
        wait_until(lambda: gw.subscriptions >= 2, timeout=20)
        gate.set()
        old.process.lease.take = real_take
        wait_until(lambda: old.process.standing_by, timeout=20)
        assert old.code is None and old.thread.is_alive()
        assert "已报工" in gw.say("zhangwei", "报工 SO-1001 10", chatid="wr-stamping")
        subscribed = gw.subscriptions
        standby.stop()                                # the new holder goes: the old one is the spare
        wait_until(lambda: gw.subscriptions == subscribed + 1, timeout=20)
        assert "已报工" in gw.say("zhangwei", "报工 SO-1001 11", chatid="wr-stamping")
        assert plant.step().good_qty == 21
    finally:
        gate.set()
        standby.stop()
        standby.process.relay.dispatcher.stop()
        standby.process.relay.engine.dispose()


def test_a_standby_takes_over_a_dead_holders_lease_after_it_expires(plant):
    """A holder that died (its lease still runs) keeps the standby waiting until the lease expires."""
    from storage.leases import Lease
    from bot.wecom_ws.runner import lease_name
    plant.holder.stop()
    relay = plant.relay
    dead = Lease(relay.Session, relay.clock.now, lease_name(BOT_ID), "crashed-host:1", timedelta(seconds=3))
    assert dead.take()
    subscribed = plant.gateway.subscriptions
    standby = Holder(relay, holder="host-c").start()
    try:
        wait_until(lambda: standby.process.standing_by)
        assert plant.gateway.subscriptions == subscribed
        wait_until(lambda: plant.gateway.subscriptions == subscribed + 1, timeout=20)
        wait_until(lambda: dead.holder_now() == "host-c")
        assert "已报工" in plant.gateway.say("zhangwei", "报工 SO-1001 12", chatid="wr-stamping")
    finally:
        standby.stop()


def test_a_cancel_that_comes_with_the_ack_is_not_lost():
    """A stop (SIGTERM) whose cancel arrives in the turn the awaited ack does must end the request
    cancelled. With Python 3.11's wait_for the ack won and the cancel was swallowed: a holder
    stopped just as WeCom acknowledged its subscription kept serving (seen in CI)."""
    from bot.wecom_ws.client import AiBotConnection
    gateway = AiBotGateway(BOT_ID, SECRET).start()

    async def one_try(conn: AiBotConnection, n: int) -> str:
        task = asyncio.create_task(conn.request("ping", req_id=f"race-{n}"))
        while f"race-{n}" not in conn._pending:
            await asyncio.sleep(0)
        future = conn._pending[f"race-{n}"][0]
        while not future.done() and not future._callbacks:   # type: ignore[attr-defined]  # until it waits on it
            await asyncio.sleep(0)
        if future.done():   # the gateway's ack came first: no race this time
            await task
            return "answered"
        future.set_result({"headers": {"req_id": f"race-{n}"}, "errcode": 0})   # the ack and the cancel,
        task.cancel()                                                            # in one turn
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "cancel lost"

    async def scenario() -> list[str]:
        conn = AiBotConnection(gateway.url, BOT_ID, SECRET)
        await conn.open()
        try:
            return [await one_try(conn, n) for n in range(20)]
        finally:
            await conn.close()
    try:
        outcomes = asyncio.run(scenario())
    finally:
        gateway.stop()
    assert "cancel lost" not in outcomes
    assert "cancelled" in outcomes


def test_a_holder_stopped_while_taking_the_lease_leaves_it_free(plant):
    """A stop that comes while a take of the lease is in flight (a worker thread, which a cancel
    does not stop: here a slow database) must not leave the lease held by the stopped process;
    before the fix, the late take won over the release and the standby waited a whole lease."""
    import time
    from storage.leases import Lease
    from bot.wecom_ws.runner import lease_name
    plant.holder.stop()
    for attempt in range(2):   # stopped while first taking it, then while renewing it
        holder = Holder(plant.relay, holder=f"host-{attempt}")
        lease = holder.process.lease
        real, in_flight = lease.take, threading.Event()

        def slow_take(real=real, in_flight=in_flight):
            in_flight.set()
            time.sleep(0.3)
            return real()
        if attempt:   # let it hold the connection first: the next take is the keeper's renewal
            holder.start()
            wait_until(lambda lease=lease: lease.holder_now() == "host-1")
            lease.take = slow_take  # type: ignore[method-assign]
        else:
            lease.take = slow_take  # type: ignore[method-assign]
            holder.start()
        assert in_flight.wait(10)
        holder.stop()
        other = Lease(plant.relay.Session, plant.relay.clock.now, lease_name(BOT_ID), "host-z", timedelta(seconds=3))
        assert other.take(), lease.holder_now()
        other.release()


@pytest.mark.parametrize("errcode", [93006, 846609])
def test_a_refused_push_falls_back_to_the_webhook_and_app_cards(plant, errcode):
    plant.gateway.refuse["wr-welding"] = errcode
    plant.gateway.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")
    notice = plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-welding")
    assert "SO-1001" in notice.text and "李娜" in notice.text
    app_card = plant.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card")
    assert set(app_card.target.split("|")) == {"lina", "wangqiang"}
    settle(plant)
    with plant.relay.Session() as s:
        refused = s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "wecom-ws",
                                                        OutboxMessage.target == "wr-welding")).one()
        assert refused.status == "dead" and str(errcode) in refused.last_error and "webhook" in refused.last_error


def test_pushes_to_a_conversation_wait_for_wecoms_30_a_minute(plant):
    """A group that has had its 30 messages this minute gets the next push later, not never."""
    minute = plant.holder.process.limiters[0]
    for _ in range(30):
        assert minute.acquire("wr-welding") == 0
    plant.gateway.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")

    def held():
        with plant.relay.Session() as s:
            return s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "wecom-ws",
                                                         OutboxMessage.target == "wr-welding",
                                                         OutboxMessage.status == "pending",
                                                         OutboxMessage.last_error != "")).first()
    row = wait_until(held)
    # tried again when the minute allows, without using up one of its tries
    assert "30/min" in row.last_error and row.next_attempt_at > plant.relay.clock.now() and row.attempts == 0
    assert not plant.gateway.pushes("wr-welding")


def test_no_app_cards_beside_the_group_card(plant):
    """On the long connection the card sits in the group; the app's 1:1 cards are only a fallback."""
    plant.gateway.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")
    plant.gateway.wait_for(lambda s: s.api == "push" and s.target == "wr-welding")
    settle(plant)
    assert not [m for m in plant.twin.sent if m.api == "message" and m.payload.get("msgtype") == "template_card"]


def test_approval_card_decided_in_the_managers_group(plant):
    gw = plant.gateway
    due = (plant.relay.clock.today() + timedelta(days=4)).strftime("%m-%d")
    reply = gw.say("chenjing", f"插单 SO-2001 车门总成 500 交期 {due} 原因 主机厂急单")   # 1:1 with the bot
    assert "已提交申请 **REQ-1**" in reply
    card = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-managers"
                       and s.payload["msgtype"] == "template_card").payload["template_card"]
    assert [b["key"] for b in card["button_list"]] == ["approve", "reject"] and "SO-2001" in card["sub_title_text"]
    # a lead in the managers' group may not approve: refused
    gw.click("zhangwei", "wr-managers", card["task_id"], "approve")
    gw.wait_for(lambda s: s.api == "push" and s.target == "wr-managers" and "zhangwei" in s.text)
    gw.click("zhouzong", "wr-managers", card["task_id"], "approve")
    update = gw.wait_for(lambda s: s.api == "update" and s.target == card["task_id"])
    assert "周总" in update.payload["template_card"]["sub_title_text"]
    with plant.relay.Session() as s:
        from storage.models import ChangeRequest
        assert s.scalars(select(ChangeRequest.status)).one() == "approved"
        assert s.scalar(select(func.count()).select_from(Order).where(Order.order_no == "SO-2001")) == 1
    # the requester is told on the platform she used (a push to her, on the connection)
    told = gw.wait_for(lambda s: s.api == "push" and s.target == "chenjing")
    assert "周总" in told.text


def test_a_decision_made_by_text_is_pushed_as_a_follow_up(plant):
    gw = plant.gateway
    gw.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")
    card = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding"
                       and s.payload["msgtype"] == "template_card").payload["template_card"]
    assert "已确认" in gw.say("lina", "接收 SO-1001", chatid="wr-welding") or plant.handoff_status() == "confirmed"
    follow = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding" and s.payload["msgtype"] == "markdown"
                         and card["main_title"]["title"] in s.text)
    assert "李娜" in follow.text
    # a later click on the old card changes nothing and is answered with the outcome
    gw.click("wangqiang", "wr-welding", card["task_id"], "confirm")
    update = gw.wait_for(lambda s: s.api == "update" and s.target == card["task_id"])
    assert "李娜" in update.payload["template_card"]["sub_title_text"]
    with plant.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(Handoff)) == 1


def test_connection_dropped_mid_burst_loses_and_doubles_nothing(plant):
    gw = plant.gateway
    cuts = {"respond": 0, "send": 0}

    def cut(frame: dict) -> bool:   # the 4th reply and the first push are lost with the connection
        cmd = frame.get("cmd")
        if cmd == "aibot_respond_msg":
            cuts["respond"] += 1
            return cuts["respond"] == 4
        if cmd == "aibot_send_msg" and not cuts["send"]:
            cuts["send"] = 1
            return True
        return False
    gw.drop_on = cut
    quantities = (15, 16, 17, 18, 19, 21, 22, 23, 24, 25)   # 200 in all; no two alike (a repeat is questioned)
    req_ids = [gw.text("zhangwei", f"报工 SO-1001 {q}", chatid="wr-stamping", msgid=f"burst-{i}")
               for i, q in enumerate(quantities)]
    answers = [gw.answer(r)["stream"]["content"] for r in req_ids]   # every message answered, after the reconnects
    assert all("已报工" in a for a in answers), answers
    assert gw.subscriptions >= 2 and cuts["respond"] >= 4   # the connection was cut and opened again
    assert plant.step().good_qty == 200           # ten reports, none twice
    wait_until(lambda: gw.pushes("wr-welding"), timeout=20)
    settle(plant, timeout=20)
    assert cuts["send"] == 1 and gw.subscriptions >= 3   # the push was cut too, and sent again after
    assert len([s for s in gw.pushes("wr-welding") if s.payload["msgtype"] == "template_card"]) == 1
    assert len([s for s in gw.sent if s.api == "respond"]) == 10
    with plant.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)
                        .where(InboundMessage.platform == "wecom-ws")) == 10


def test_delay_warning_card_in_the_group_acknowledged_by_its_lead(plant):
    """The delay scan's warning is a card in the late workshop's group; its lead's click stops the
    escalation and the card shows who acknowledged it; a welding lead may not acknowledge for stamping."""
    from datetime import date, datetime

    from bot.jobs import run_job
    from storage.models import DelayWarning
    gw, relay = plant.gateway, plant.relay
    wednesday = date(2026, 11, 25)
    relay.clock.set_local(datetime(2026, 11, 25, 9))
    with relay.Session.begin() as s:
        upsert_order(s, relay.clock.now(), OrderData("SO-3001", "车门总成", 200, wednesday, "测试客户", 3),
                     actor=None, source="test")
    relay.clock.set_local(datetime(2026, 11, 25, 17))
    assert run_job(relay, "delay-scan")["warnings"] >= 1
    push = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-stamping"
                       and s.payload.get("msgtype") == "template_card" and "SO-3001" in s.text)
    card = push.payload["template_card"]
    assert card["card_type"] == "button_interaction"
    assert [b["text"] for b in card["button_list"]] == ["已知悉"]
    assert not [s for s in gw.pushes("wr-welding") if s.payload.get("msgtype") == "template_card"
                and "SO-3001" in s.text]      # downstream workshops get a line, not a card to press
    gw.click("lina", "wr-stamping", card["task_id"], "ack")
    gw.wait_for(lambda s: s.api == "push" and s.target == "wr-stamping" and "lina" in s.text
                and s.payload["msgtype"] == "markdown")
    with relay.Session() as s:
        assert s.scalars(select(DelayWarning.acknowledged_at).join(Order, DelayWarning.order_id == Order.id)
                         .where(Order.order_no == "SO-3001")).all() == [None]
    gw.click("zhangwei", "wr-stamping", card["task_id"], "ack", msgid="ack-1")
    update = gw.wait_for(lambda s: s.api == "update" and s.target == card["task_id"])
    gw.click("zhangwei", "wr-stamping", card["task_id"], "ack", msgid="ack-1")   # delivered twice
    assert "张伟" in update.payload["template_card"]["sub_title_text"]
    with relay.Session() as s:
        [acked] = s.scalars(select(DelayWarning.acknowledged_at).join(Order, DelayWarning.order_id == Order.id)
                            .where(Order.order_no == "SO-3001"))
        assert acked is not None
    relay.clock.set_local(datetime(2026, 11, 25, 19))
    assert run_job(relay, "delay-scan")["escalations"] == 0     # acknowledged: nobody escalates it
    # the repeated delivery is answered with the same decided card, not a second decision
    updates = [s.payload for s in gw.sent if s.api == "update" and s.target == card["task_id"]]
    assert updates and all(u == updates[0] for u in updates)


def test_voice_is_read_like_text_and_confirmed_first(plant):
    gw = plant.gateway
    asked = gw.answer(gw.message("zhangwei", "voice", {"content": "报工SO-1001，三十件。"}))["stream"]["content"]
    assert "语音" in asked and "是" in asked
    assert plant.step().good_qty == 0               # nothing applied before the confirmation
    assert "已报工" in gw.say("zhangwei", "是")
    assert plant.step().good_qty == 30


@pytest.mark.parametrize("aibot, error", [
    ({"mode": "stream"}, "wecom.aibot.mode"),
    ({"mode": "long_connection", "secret": "s"}, "wecom.aibot.bot_id"),
    ({"mode": "long_connection", "bot_id": "b", "secret": "s", "ws_url": "https://x"}, "wecom.aibot.ws_url"),
    ({"mode": "callback", "token": "t"}, "wecom.aibot.encoding_aes_key"),
])
def test_the_ai_bot_mode_is_checked(aibot, error, tmp_path):
    from bot.config import ConfigError
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["wecom"]["aibot"] = aibot
    with pytest.raises(ConfigError, match=error.replace(".", r"\.")):
        parse_settings(data)


def test_callback_mode_has_no_connection_channel_and_the_long_connection_no_aibot_callback(database_url):
    from bot.app import create_app
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    assert "wecom-ws" not in parse_settings(data).platforms          # the default: HTTP callbacks
    settings = ws_settings(database_url, "http://127.0.0.1:9", "ws://127.0.0.1:9")
    assert settings.platforms["wecom-ws"].bot_id == BOT_ID
    init_db(settings.app.database_url, settings)
    relay = build_relay(settings)
    client = create_app(relay=relay).test_client()
    now = relay.clock.epoch()
    resp = client.post(f"/wecom/aibot?msg_signature=a&timestamp={now}&nonce=n", json={"encrypt": "x"})
    assert resp.status_code == 404 and "long connection" in resp.get_json()["error"]
    # a web process queues rows for the connection but never claims them: only the holder sends them
    assert ("wecom-ws", "send") not in relay.dispatcher.senders
    relay.engine.dispose()


def test_the_wecom_ws_command_exits_non_zero_when_another_instance_takes_over(database_url):
    """`linerelay wecom-ws` as a process of its own: subscribed, kicked, gone with status 3."""
    import os
    import subprocess
    import sys
    gateway = AiBotGateway(BOT_ID, SECRET).start()
    env = {**os.environ, "LINERELAY__APP__DATABASE_URL": database_url, "LINERELAY__WECOM__AIBOT__MODE": "long_connection",
           "LINERELAY__WECOM__AIBOT__BOT_ID": BOT_ID, "LINERELAY__WECOM__AIBOT__SECRET": SECRET,
           "LINERELAY__WECOM__AIBOT__WS_URL": gateway.url}
    init_db(database_url, ws_settings(database_url, "http://127.0.0.1:9", gateway.url))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(EXAMPLE_CONFIG), "wecom-ws"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        gateway.wait_subscribed(timeout=60)
        gateway.kick()
        assert proc.wait(timeout=60) == EXIT_KICKED
        assert "another instance" in proc.stderr.read()
        assert gateway.subscriptions == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        gateway.stop()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(200))


def photo_rows(plant) -> list:
    from storage.models import IncidentPhoto
    with plant.relay.Session() as s:
        return list(s.scalars(select(IncidentPhoto).order_by(IncidentPhoto.id)))


def test_a_photo_after_an_exception_is_attached_linked_and_shown(plant):
    import re

    from bot.app import create_app
    gw = plant.gateway
    assert "已登记异常" in gw.say("zhangwei", "异常 SO-1001 设备 冲床液压故障", chatid="wr-stamping")
    # a photo 1:1 right after: WeCom's image (url valid 5 min + aeskey), decrypted and kept
    reply = gw.answer(gw.message("zhangwei", "image", plant.twin.ws_file(PNG)))["stream"]["content"]
    assert "已附到" in reply and "SO-1001" in reply and "1 张照片" in reply
    [row] = photo_rows(plant)
    assert (row.content_type, row.size) == ("image/png", len(PNG))
    # the incident's audience gets the link; the link opens the picture itself
    notice = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding" and "现场照片" in s.text)
    url = re.search(r"\((http://linerelay\.test(/board/photos/\d+\?token=[^)]+))\)", notice.text)
    assert url is not None
    client = create_app(relay=plant.relay).test_client()
    resp = client.get(url.group(2))
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"
    assert client.get(f"/board/photos/{row.id}?token=forged").status_code == 403
    # the order page shows it beside the open exception
    token = url.group(2).split("token=")[1]
    page = client.get(f"/board/orders/SO-1001?token={token}").get_data(as_text=True)
    assert f"/board/photos/{row.id}?token=" in page and "冲床液压故障" in page


def test_a_photo_with_the_exception_and_photos_refused(plant):
    gw, twin = plant.gateway, plant.twin
    items = [{"msgtype": "text", "text": {"content": "异常 SO-1001 设备 模具裂了"}},
             {"msgtype": "image", "image": twin.ws_file(JPEG)}]
    reply = gw.answer(gw.message("zhangwei", "mixed", {"msg_item": items}))["stream"]["content"]
    assert "已登记异常" in reply and "已附 1 张现场照片" in reply
    notice = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding" and "模具裂了" in s.text)
    assert "现场照片：[照片1](http://linerelay.test/board/photos/" in notice.text
    assert [r.content_type for r in photo_rows(plant)] == ["image/jpeg"]
    # not a picture, whatever it is called: refused by its content, nothing kept
    fake = gw.answer(gw.message("zhangwei", "image", twin.ws_file(b"%PDF-1.4 not a photo")))["stream"]["content"]
    assert "不是 JPG/PNG/WebP 图片" in fake and len(photo_rows(plant)) == 1
    # a photo from someone with no exception of their own: said, nothing kept
    alone = gw.answer(gw.message("lina", "image", twin.ws_file(PNG)))["stream"]["content"]
    assert "没有附上" in alone and len(photo_rows(plant)) == 1


def test_photo_files_are_checked_by_content_and_size(tmp_path):
    from bot.wecom.media import decrypt
    from bot.twins.wecom_crypto import encrypt_file
    from storage.photos import PhotoRefused, save, sniff
    assert sniff(PNG) == ("image/png", "png") and sniff(JPEG) == ("image/jpeg", "jpg")
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == ("image/webp", "webp") and sniff(b"GIF89a") is None
    with pytest.raises(PhotoRefused, match="too_large"):
        save(tmp_path, PNG, max_bytes=100)
    sha, ctype = save(tmp_path, PNG, max_bytes=10_000)
    assert save(tmp_path, PNG, max_bytes=10_000) == (sha, ctype)     # the same photo is kept once
    assert len(list(tmp_path.rglob("*.png"))) == 1
    data, key = encrypt_file(JPEG)
    assert decrypt(data, key) == JPEG
    with pytest.raises(ValueError):
        decrypt(data[:-16], key)


def test_a_button_pressed_again_and_again_is_refused_to_that_person_once(plant):
    """Someone who may not confirm presses 5 times, someone else presses the decided card 3 times:
    each is told once (every answer on the long connection is a push into the group, and the
    group may take 30 a minute: a button masher would hold back the next real card)."""
    gw = plant.gateway
    gw.say("zhangwei", "报工 SO-1001 200", chatid="wr-stamping")
    card = gw.wait_for(lambda s: s.api == "push" and s.target == "wr-welding"
                       and s.payload.get("msgtype") == "template_card").payload["template_card"]
    before = len(gw.pushes("wr-welding"))
    for _ in range(5):
        gw.click("zhangwei", "wr-welding", card["task_id"], "confirm")
    gw.click("lina", "wr-welding", card["task_id"], "confirm")
    update = gw.wait_for(lambda s: s.api == "update" and s.target == card["task_id"])
    for _ in range(3):
        gw.click("wangqiang", "wr-welding", card["task_id"], update.payload["template_card"]["button_list"][0]["key"])
    wait_until(lambda: plant.handoff_status() == "confirmed")
    settle(plant)
    time.sleep(0.5)   # anything else would have been sent by now
    told = [s.text for s in gw.pushes("wr-welding")[before:]]
    # each refusal once per person: zhangwei's presses may be answered before or after lina's
    # (frames run concurrently), so he may hear "not yours" and "decided already", each once
    assert len(told) == len(set(told)), told
    assert 1 <= len([t for t in told if "zhangwei" in t]) <= 2, told
    assert len([t for t in told if "wangqiang" in t]) == 1, told
    assert plant.step("welding").received_qty == 200
