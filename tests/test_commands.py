"""Every command end to end: encrypted callback in through the twin, database and replies out."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import Event, GroupBinding, Handoff, InboundMessage, Order, OutboxMessage, Report, Step
from tests.helpers import dingtalk_chat, dingtalk_user, snapshot, wait_until


def step(live, order_no="SO-1001", seq=1) -> Step:
    with live.session() as s:
        return s.scalars(select(Step).join(Order).where(Order.order_no == order_no, Step.seq == seq)).one()


def events(live, order_no="SO-1001") -> list[Event]:
    with live.session() as s:
        return list(s.scalars(select(Event).join(Order).where(Order.order_no == order_no).order_by(Event.id)))


def complete_stamping(live, order_no="SO-1001", qty=200):
    live.say("zhangwei", f"报工 {order_no} {qty}")
    live.say("lina", f"接收 {order_no}", chat="wr-welding")


def seed(live):
    live.add_order("SO-1001", quantity=200, days=5, priority=2)
    live.add_order("SO-1002", quantity=100, days=3, priority=1)
    return live


@pytest.fixture(params=["wecom", "dingtalk"])
def plant(live, request):
    """The same plant, spoken to from WeCom or from DingTalk: the same handlers answer."""
    live.platform = request.param
    return seed(live)


def send_raw(plant, user, text, msgid, chat="wr-stamping"):
    """One delivery of a message without waiting for its reply (platform retries)."""
    if plant.platform == "dingtalk":
        resp, _ = plant.dingtalk.robot_text(dingtalk_user(user), text, conversation_id=dingtalk_chat(chat), msg_id=msgid)
        return resp.status_code
    return plant.twin.aibot_text(user, text, chatid=chat, msgid=msgid).status


# -- 报工 -------------------------------------------------------------------------------------

def test_report_updates_step_writes_event_and_answers(plant):
    reply = plant.say("zhangwei", "报工 SO-1001 120")
    assert "已报工" in reply and "120/200" in reply and "预计完工" in reply
    st = step(plant)
    assert (st.good_qty, st.scrap_qty, st.status) == (120, 0, "running")
    evs = events(plant)
    report_ev = [e for e in evs if e.kind == "report"][0]
    assert report_ev.actor == "张伟" and report_ev.data["good"] == 120
    assert report_ev.source.startswith(f"{plant.platform}:msg:")
    with plant.session() as s:
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1001")) == "in_progress"
        replies = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%:reply:%"))).all()
        assert len(replies) == 1 and replies[0].platform == plant.platform


def test_report_with_step_scrap_and_note(plant):
    reply = plant.say("zhangwei", "报工 SO-1001 冲压 118 不良 2 备注 模具*磨损*")
    assert "良品 118" in reply and "不良 2" in reply
    with plant.session() as s:
        report = s.scalars(select(Report)).one()
        assert (report.good, report.scrap, report.note) == (118, 2, "模具*磨损*")


@pytest.mark.parametrize("text", ["報工 so-1001 50", "report SO-1001 50", "报工：ＳＯ－１００１，５０", "报工　SO-1001、50件"])
def test_aliases_full_width_and_separators(plant, text):
    reply = plant.say("zhangwei", text)
    assert "已报工" in reply
    assert step(plant).good_qty == 50


def test_completing_a_step_hands_over_and_notifies_the_next_workshop(plant):
    reply = plant.say("zhangwei", "报工 SO-1001 200")
    assert "已完成" in reply and "焊接" in reply
    with plant.session() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.quantity, handoff.status) == (200, "pending")
    notice = plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-welding")
    assert "SO-1001" in notice.text and "200" in notice.text and notice.payload["msgtype"] == "markdown"
    card = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
    assert "SO-1001" in card.text and "确认接收" in card.payload["body"]["cardData"]["cardParamMap"]["buttons"]
    assert step(plant).status == "done" and step(plant, seq=2).status == "waiting"
    assert plant.twin.sends_to("webhook", "key-stamping") == []

    def webhook_sent():
        with plant.session() as s:
            return s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).one().status == "sent"
    wait_until(webhook_sent)


def test_downstream_receives_then_reports_but_not_beyond_what_it_received(plant):
    reply = plant.say("lina", "报工 SO-1001 10", chat="wr-welding")
    assert "还没有确认收料" in reply
    plant.say("zhangwei", "报工 SO-1001 150 不良 50")
    assert "已确认接收" in plant.say("lina", "接收 SO-1001", chat="wr-welding")
    assert step(plant, seq=2).received_qty == 150 and step(plant, seq=2).status == "ready"
    before = snapshot(plant.relay)
    reply = plant.say("lina", "报工 SO-1001 200", chat="wr-welding")
    assert "最多还能报 157" in reply
    after = snapshot(plant.relay)
    assert {k: v for k, v in after.items() if k not in ("inbound_messages", "outbox")} == \
           {k: v for k, v in before.items() if k not in ("inbound_messages", "outbox")}
    assert "已报工" in plant.say("wangqiang", "报工 SO-1001 150", chat="wr-welding")
    assert step(plant, seq=2).status == "done"


@pytest.mark.parametrize("text, expected", [
    ("报工 SO-1001 -5", "不能是负数"),
    ("报工 SO-1001 abc", "看不懂"),
    ("报工 SO-1001 1.5", "请填写整数"),
    ("报工 SO-1001 0", "不能为 0"),
    ("报工 SO-1001 999999999", "太大"),
    ("报工 SO-1001 211", "最多还能报 210"),
    ("报工 SO-1001 不良", "「不良」后面要写数字"),
    ("报工", "缺少订单号"),
    ("报工 SO-1001 喷漆 10", "没有「喷漆」工序"),
    ("报工 SO-1030 10", "你是不是要找"),
    ("报工 XX-1 10", "找不到订单"),
    ("打卡 SO-1001", "看不懂「打卡」"),
])
def test_bad_reports_get_a_clear_reply_and_change_nothing(plant, text, expected):
    before = snapshot(plant.relay)
    reply = plant.say("zhangwei", text)
    assert expected in reply, reply
    after = snapshot(plant.relay)
    for table in before:
        if table not in ("inbound_messages", "outbox"):
            assert after[table] == before[table], table


def test_unknown_order_suggests_closest_numbers(plant):
    reply = plant.say("zhangwei", "进度 SO-1003")
    assert "SO-1001" in reply or "SO-1002" in reply


def test_lead_may_not_report_for_another_workshop(plant):
    reply = plant.say("lina", "报工 SO-1001 冲压 10", chat="wr-stamping")
    assert "没有权限" in reply
    assert step(plant).good_qty == 0


def test_unknown_person_is_told_to_register(plant):
    reply = plant.say("stranger", "报工 SO-1001 10")
    assert "还没有登记" in reply
    assert step(plant).good_qty == 0


# -- retries and concurrency ------------------------------------------------------------------

def test_same_message_three_times_is_applied_once(plant):
    assert [send_raw(plant, "zhangwei", "报工 SO-1001 30", "retry-1") for _ in range(3)] == [200] * 3
    assert step(plant).good_qty == 30
    if plant.platform == "wecom":  # each retry gets the same passive reply
        replies = [plant.twin.aibot_text("zhangwei", "报工 SO-1001 30", chatid="wr-stamping", msgid="retry-1")
                   .reply["stream"]["content"] for _ in range(2)]
        assert replies[0] == replies[1] and "30/200" in replies[0]
    else:  # the reply went once through the sessionWebhook
        plant.dingtalk.wait_for(lambda m: m.api == "session")
        time.sleep(0.3)
        assert len(plant.dingtalk.sends_to("session")) == 1
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_concurrent_duplicates_are_applied_once(plant):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: send_raw(plant, "zhangwei", "报工 SO-1001 7", "dup-burst"), range(6)))
    assert statuses == [200] * 6
    assert step(plant).good_qty == 7


def test_two_leads_reporting_concurrently_lose_no_update(plant):
    from concurrent.futures import ThreadPoolExecutor
    complete_stamping(plant)
    # Different quantities: the same person's identical report within minutes is asked about first.
    jobs = [("lina", i) for i in range(1, 11)] + [("wangqiang", i) for i in range(1, 11)]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda j: plant.say(j[0], f"报工 SO-1001 {j[1]}", chat="wr-welding"), jobs))
    assert all("已报工" in r for r in replies)
    st = step(plant, seq=2)
    assert st.good_qty == 110
    with plant.session() as s:
        assert s.scalar(select(func.sum(Report.good)).where(Report.step_id == st.id)) == 110


# -- 撤销 -------------------------------------------------------------------------------------

def test_undo_own_last_report(plant):
    plant.say("zhangwei", "报工 SO-1001 50")
    plant.say("zhangwei", "报工 SO-1001 20")
    reply = plant.say("zhangwei", "撤销")
    assert "已撤销" in reply and "50/200" in reply
    assert step(plant).good_qty == 50
    assert [e.kind for e in events(plant)][-1] == "report_undone"
    assert "撤销" in plant.say("zhangwei", "undo") and step(plant).good_qty == 0
    assert "没有可以撤销" in plant.say("zhangwei", "撤销")


def test_undo_someone_elses_report_is_refused(plant):
    plant.say("zhangwei", "报工 SO-1001 50")
    with plant.session() as s:
        report_id = s.scalars(select(Report.id)).one()
    complete_stamping(plant, "SO-1002", 100)
    reply = plant.say("lina", f"撤销 R-{report_id}", chat="wr-welding")
    assert "只能撤销自己的" in reply
    assert step(plant).good_qty == 50


def test_undo_after_the_window_is_refused(plant):
    plant.say("zhangwei", "报工 SO-1001 50")
    plant.relay.clock.advance(timedelta(minutes=31))
    assert "不能撤销" in plant.say("zhangwei", "撤销")
    assert step(plant).good_qty == 50


def test_undo_of_a_completing_report_withdraws_the_pending_handoff(plant):
    plant.say("zhangwei", "报工 SO-1001 200")
    plant.say("zhangwei", "撤销")
    assert step(plant).status == "ready" and step(plant).handed_qty == 0 and step(plant).good_qty == 0
    with plant.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "withdrawn"


def test_undo_after_downstream_received_is_refused(plant):
    complete_stamping(plant)
    assert "已被下道接收" in plant.say("zhangwei", "撤销")
    assert step(plant).good_qty == 200


# -- 进度 / 待办 / 帮助 / 绑定 / 接收 ------------------------------------------------------------

def test_progress_card_of_an_order(plant):
    plant.say("zhangwei", "报工 SO-1001 120")
    reply = plant.say("lina", "进度 so-1001", chat="wr-welding")
    for part in ("SO-1001", "冲压", "120/200", "焊接", "涂装", "总装", "计划完工"):
        assert part in reply


def test_progress_without_number_lists_this_workshops_active_orders(plant):
    plant.say("zhangwei", "报工 SO-1002 10")
    reply = plant.say("zhangwei", "进度")
    assert "冲压" in reply and "SO-1001" in reply and "SO-1002" in reply and "10/100" in reply


def test_queue_orders_by_priority_and_shows_waiting_handoffs(plant):
    reply = plant.say("zhangwei", "待办")
    assert reply.index("SO-1002") < reply.index("SO-1001")  # priority 1 before 2
    plant.say("zhangwei", "报工 SO-1001 200")
    reply = plant.say("lina", "待办", chat="wr-welding")
    assert "SO-1001" in reply and "待接收 200" in reply


def test_help_and_help_for_one_command(plant):
    assert "报工 SO-1001 120" in plant.say("stranger", "帮助")
    assert "撤销 R-123" in plant.say("zhangwei", "幫助 撤销")
    assert "常用命令" in plant.say("zhangwei", "")


def test_bind_by_admin_and_refused_for_others(plant):
    assert "只有管理员" in plant.say("zhangwei", "绑定 焊接", chat="wr-new-group")
    reply = plant.say("sungong", "绑定 焊接", chat="wr-new-group")
    assert "已绑定到 **焊接**" in reply
    chat_id = dingtalk_chat("wr-new-group") if plant.platform == "dingtalk" else "wr-new-group"
    with plant.session() as s:
        group = s.scalars(select(GroupBinding).where(GroupBinding.chat_id == chat_id)).one()
        assert group.platform == plant.platform
        assert group.workshop.code == "welding"
    assert "没有叫「喷漆2」的车间" in plant.say("sungong", "绑定 喷漆2", chat="wr-new-group")
    assert "要绑定的群里" in plant.say("sungong", "绑定 焊接", chat=None)


def test_receive_without_pending_handoff(plant):
    assert "没有待确认的交接" in plant.say("lina", "接收 SO-1001", chat="wr-welding")


def test_direct_message_to_the_self_built_app(live):
    plant = seed(live)
    result = plant.twin.app_text("zhangwei", "报工 SO-1001 15")
    assert result.status == 200
    assert result.reply["MsgType"] == "text" and "15/200" in result.reply["Content"]
    assert "**" not in result.reply["Content"]
    assert step(plant).good_qty == 15
    again = plant.twin.app_text("zhangwei", "报工 SO-1001 16", msgid="123")
    retried = plant.twin.app_text("zhangwei", "报工 SO-1001 16", msgid="123")   # WeCom's retry of it
    # the same reply (its envelope's CreateTime is the second it was sent), counted once
    same = lambda reply: {k: v for k, v in reply.items() if k != "CreateTime"}  # noqa: E731
    assert same(retried.reply) == same(again.reply) and "31/200" in retried.reply["Content"]
    assert step(plant).good_qty == 31
