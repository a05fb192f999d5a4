"""Cross-workshop workflows end to end: handoff cards on both platforms, disputes, partial
handoffs, incidents; and the order's event log telling the story."""
import pytest
import requests
from sqlalchemy import select

from storage.models import Card, Handoff, Incident, Order
from tests.helpers import settle, snapshot, wait_until
from tests.test_commands import seed, step

API_KEY = "demo-api-key-change-me-0123456789"


def timeline(live, order_no="SO-1001"):
    resp = requests.get(f"{live.url}/api/orders/{order_no}/events", headers={"Authorization": f"Bearer {API_KEY}"})
    assert resp.status_code == 200
    return [(e["kind"], e["actor"]) for e in resp.json()["events"]]


def wecom_card(live):
    """Stamping completes SO-1001: the welding leads get a WeCom template card."""
    live.say("zhangwei", "报工 SO-1001 200")
    sent = live.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card")
    settle(live)
    return sent


@pytest.fixture
def plant(live):
    return seed(live)


def test_wecom_handoff_card_goes_to_the_downstream_leads(plant):
    sent = wecom_card(plant)
    card = sent.payload["template_card"]
    assert sent.target == "lina|wangqiang"
    assert card["card_type"] == "button_interaction" and card["task_id"].startswith("lr_")
    assert [b["key"] for b in card["button_list"]] == ["confirm", "dispute"]
    assert "SO-1001" in card["sub_title_text"] and "**" not in card["sub_title_text"]
    assert plant.twin.sends_to("webhook", "key-welding")  # the group hears of it too, without buttons


def test_wecom_card_click_confirms_and_updates_every_copy(plant):
    task = wecom_card(plant).payload["template_card"]["task_id"]
    result = plant.twin.card_click("lina", task, "confirm")
    assert result.status == 200
    assert step(plant, seq=2).received_qty == 200 and step(plant, seq=2).status == "ready"
    update = plant.twin.wait_for(lambda m: m.api == "update_card")
    assert update.payload["userids"] == ["lina", "wangqiang"]
    assert update.payload["button"]["replace_name"] == "李娜 已确认接收"  # short: WeCom allows 20 characters
    # the DingTalk card of the same handoff is closed in place
    dt_update = plant.dingtalk.wait_for(lambda m: m.api == "card_update")
    assert "李娜 已确认接收" in dt_update.payload["cardData"]["cardParamMap"]["outcome"]
    with plant.session() as s:
        assert {c.status for c in s.scalars(select(Card))} == {"decided"}


def test_replayed_and_late_clicks_change_nothing(plant):
    task = wecom_card(plant).payload["template_card"]["task_id"]
    plant.twin.card_click("lina", task, "confirm", create_time=1_800_000_000, response_code="c1")
    settle(plant)
    before = snapshot(plant.relay)
    plant.twin.card_click("lina", task, "confirm", create_time=1_800_000_000, response_code="c1")  # WeCom's retry
    settle(plant)
    assert snapshot(plant.relay) == before
    plant.twin.card_click("wangqiang", task, "confirm")  # the other lead, a moment later
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "wangqiang"
                               and m.payload.get("msgtype") == "text")
    assert "已经处理过" in told.text and "李娜" in told.text
    assert step(plant, seq=2).received_qty == 200
    assert len(plant.twin.sends_to("update_card")) == 2  # each click's own response code, once


def test_click_by_someone_who_may_not_is_refused_and_told(plant):
    task = wecom_card(plant).payload["template_card"]["task_id"]
    before = snapshot(plant.relay)
    assert plant.twin.card_click("zhangwei", task, "confirm").status == 200
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "zhangwei")
    assert "没有权限" in told.text
    settle(plant)
    after = snapshot(plant.relay)
    assert {k: v for k, v in after.items() if k not in ("outbox", "inbound_messages")} == \
           {k: v for k, v in before.items() if k not in ("outbox", "inbound_messages")}
    with plant.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "pending"


def test_click_on_a_card_never_sent_is_refused(plant):
    before = snapshot(plant.relay)
    assert plant.twin.card_click("lina", "lr_forged", "confirm").status == 404
    assert snapshot(plant.relay) == before


@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
def test_dispute_records_real_quantity_and_tells_both_workshops_and_managers(live, platform):
    seed(live)
    live.platform = platform
    live.say("zhangwei", "报工 SO-1001 200")
    reply = live.say("lina", "接收 SO-1001 190", chat="wr-welding")
    assert "数量不符" in reply and "190" in reply
    st = step(live, seq=2)
    assert (st.received_qty, st.status) == (190, "ready")
    with live.session() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.status, handoff.received_qty) == ("disputed", 190)
        incident = s.scalars(select(Incident)).one()
        assert incident.blocking is False and incident.handoff_id == handoff.id
    for key in ("key-stamping", "key-welding", "key-managers"):
        notice = live.twin.wait_for(lambda m, k=key: m.api == "webhook" and m.target == k and "数量不符" in m.text)
        assert "差 10 件" in notice.text
    live.dingtalk.wait_for(lambda m: m.api == "group_message" and m.target == "cid-managers")
    live.dingtalk.wait_for(lambda m: m.api == "card_update")  # the open DingTalk card is closed
    assert "最多还能报 199" in live.say("lina", "报工 SO-1001 200", chat="wr-welding")


def test_dispute_button_asks_for_the_real_quantity(plant):
    task = wecom_card(plant).payload["template_card"]["task_id"]
    plant.twin.card_click("lina", task, "dispute")
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "lina" and m.payload.get("msgtype") == "text")
    assert "接收 SO-1001" in told.text
    with plant.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "pending"


def test_partial_handoff_lets_the_next_workshop_start(plant):
    plant.say("zhangwei", "报工 SO-1001 100")
    assert "已交接" in plant.say("zhangwei", "交接 SO-1001 60")
    assert "最多能交接 40" in plant.say("zhangwei", "交接 SO-1001 50")
    plant.say("lina", "接收 SO-1001", chat="wr-welding")
    assert "最多还能报 63" in plant.say("lina", "报工 SO-1001 64", chat="wr-welding")
    assert "已报工" in plant.say("lina", "报工 SO-1001 60", chat="wr-welding")
    assert step(plant, seq=2).status == "running"  # upstream is not done: more is coming
    # stamping done: the remaining 140 go over (the same report as before is asked about first)
    assert "是不是要报" in plant.say("zhangwei", "报工 SO-1001 100")
    assert "已报工" in plant.say("zhangwei", "是")
    with plant.session() as s:
        assert sorted(h.quantity for h in s.scalars(select(Handoff))) == [60, 140]


def test_a_handoffs_note_reaches_the_next_workshop(plant):
    """`交接 … 30 备注 外观已检`: stored with the batch and shown on its card and notice; words after
    the number that are none of ours (`急用`) are offered as the note and asked about first."""
    import json
    plant.say("zhangwei", "报工 SO-1001 100")
    reply = plant.say("zhangwei", "交接 SO-1001 30 备注 外观已检")
    assert "已交接" in reply and "外观已检" in reply
    notice = plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-welding" and "交接通知" in m.text)
    assert "外观已检" in notice.text
    card = plant.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card")
    assert "外观已检" in json.dumps(card.payload, ensure_ascii=False)
    dt_card = plant.dingtalk.wait_for(lambda m: m.api == "card")
    assert "外观已检" in json.dumps(dt_card.payload, ensure_ascii=False)
    asked = plant.say("zhangwei", "交接 SO-1001 20 急用")
    assert "急用" in asked and "已交接" not in asked
    with plant.session() as s:
        assert [(h.quantity, h.note) for h in s.scalars(select(Handoff).order_by(Handoff.id))] == [(30, "外观已检")]
    assert "已交接" in plant.say("zhangwei", "是")
    with plant.session() as s:
        assert [(h.quantity, h.note) for h in s.scalars(select(Handoff).order_by(Handoff.id))] == \
            [(30, "外观已检"), (20, "急用")]


def test_a_workshop_head_raises_and_closes_an_exception_in_the_workshops_they_head(plant):
    """钱主任 heads 冲压 and 焊接: they may stop and restart a line there, from their own chat (it
    was refused: only leads could); not in 涂装, which they do not head."""
    plant.say("zhangwei", "报工 SO-1001 50")
    assert "已登记异常" in plant.say("qianzhuren", "异常 SO-1001 冲压 设备 冲床坏了", chat=None)
    assert step(plant).status == "blocked"
    plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-managers" and "异常通知" in m.text)
    assert "已恢复" in plant.say("qianzhuren", "恢复 SO-1001 冲压", chat=None)
    assert step(plant).status == "running"
    assert "没有权限" in plant.say("qianzhuren", "异常 SO-1001 涂装 设备 喷枪堵了", chat=None)
    with plant.session() as s:
        assert [(i.category, i.closed_at is not None) for i in s.scalars(select(Incident))] == [("设备", True)]


@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
def test_incident_blocks_the_step_and_is_told_downstream_and_to_managers(live, platform):
    seed(live)
    live.platform = platform
    live.say("zhangwei", "报工 SO-1001 50")
    reply = live.say("zhangwei", "异常 SO-1001 设备 冲床液压故障 预计 4小时")
    assert "已登记异常" in reply and "预计恢复" in reply
    assert step(live).status == "blocked"
    with live.session() as s:
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1001")) == "blocked"
    for key in ("key-welding", "key-painting", "key-assembly", "key-managers"):
        notice = live.twin.wait_for(lambda m, k=key: m.api == "webhook" and m.target == k and "异常通知" in m.text)
        assert "冲床液压故障" in notice.text and "对交期影响" in notice.text
    assert not [m for m in live.twin.sends_to("webhook", "key-stamping") if "异常通知" in m.text]
    assert "有未解决的异常" in live.say("zhangwei", "报工 SO-1001 10")
    assert "没有权限" in live.say("lina", "恢复 SO-1001 冲压", chat="wr-welding")
    assert "已恢复" in live.say("zhangwei", "恢复 SO-1001")
    assert step(live).status == "running"
    live.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-managers" and "恢复通知" in m.text)
    assert "没有未恢复的异常" in live.say("zhangwei", "恢复 SO-1001")


@pytest.mark.parametrize("text, expected", [
    ("异常 SO-1001 设备 故障 预计 明年", "看不懂"),
    ("异常 SO-1001", "格式不对"),
])
def test_bad_incident_reports_change_nothing(plant, text, expected):
    before = snapshot(plant.relay)
    assert expected in plant.say("zhangwei", text)
    after = snapshot(plant.relay)
    assert {k: v for k, v in after.items() if k not in ("outbox", "inbound_messages")} == \
           {k: v for k, v in before.items() if k not in ("outbox", "inbound_messages")}


def test_event_log_tells_the_whole_story_in_order(plant):
    plant.say("zhangwei", "报工 SO-1001 120")
    plant.say("zhangwei", "异常 SO-1001 设备 模具损坏 预计 2小时")
    plant.say("zhangwei", "恢复 SO-1001")
    plant.say("zhangwei", "报工 SO-1001 80")
    task = plant.twin.wait_for(lambda m: m.api == "message").payload["template_card"]["task_id"]
    plant.twin.card_click("lina", task, "confirm")
    wait_until(lambda: step(plant, seq=2).status == "ready")
    story = timeline(plant)
    kinds = [k for k, _ in story]
    assert kinds == ["order_created", "report", "order_status", "incident_opened", "order_status",
                     "incident_closed", "order_status", "report", "step_done", "handoff_created",
                     "handoff_confirmed"]
    assert story[1][1] == "张伟" and story[-1][1] == "李娜" and story[0][1] == "system"


def test_events_api_needs_a_key_and_knows_its_orders(plant):
    assert requests.get(f"{plant.url}/api/orders/SO-1001/events").status_code == 401
    assert requests.get(f"{plant.url}/api/orders/SO-1001/events",
                        headers={"Authorization": "Bearer wrong-key-0123456789"}).status_code == 401
    resp = requests.get(f"{plant.url}/api/orders/SO-1009/events", headers={"Authorization": f"Bearer {API_KEY}"})
    assert resp.status_code == 404 and resp.json()["error"] == "unknown_order"
    order = requests.get(f"{plant.url}/api/orders/so-1001", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    assert order["order_no"] == "SO-1001" and len(order["steps"]) == 4


def test_a_stop_over_the_weekend_is_told_in_working_time(live):
    """A line stops on Friday at 16:00 and runs again on Monday at 09:00: it stood 2.5 working
    hours (16:00-17:30, 08:00-09:00), not 65 clock hours, wherever people read it; and `预计
    4小时` said on Friday at 16:00 is Monday 10:30, not Friday 20:00 when nobody works."""
    from datetime import datetime
    from storage.models import Event
    seed(live)
    live.relay.clock.set_local(datetime(2026, 11, 27, 16, 0))     # a Friday (shifts 08:00-12:00, 13:00-17:30)
    live.say("zhangwei", "报工 SO-1001 50")
    reply = live.say("zhangwei", "异常 SO-1001 设备 冲床液压故障 预计 4小时")
    assert "预计恢复 11-30 10:30" in reply, reply
    notice = live.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-welding" and "异常通知" in m.text)
    assert "11-30 10:30" in notice.text
    with live.session() as s:
        expected = s.scalars(select(Incident)).one().expected_recovery
        assert abs((expected - datetime(2026, 11, 30, 2, 30)).total_seconds()) < 60   # UTC (the clock runs on)
    live.relay.clock.set_local(datetime(2026, 11, 30, 9, 0))      # Monday
    page = requests.get(f"{live.url}/board/orders/SO-1001", params={"token": "demo-board-token-hall-1-0123"})
    assert "已停 2.5 小时" in page.text
    reply = live.say("zhangwei", "恢复 SO-1001")
    assert "停了 2.5 小时" in reply, reply
    closed = live.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-managers" and "恢复通知" in m.text)
    assert "停线 2.5 小时" in closed.text
    with live.session() as s:
        event = s.scalars(select(Event).where(Event.kind == "incident_closed")).one()
        assert event.data["downtime_minutes"] == 150
