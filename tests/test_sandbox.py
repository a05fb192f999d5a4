"""The sandbox's chat page API: what a visitor types or presses goes through the twins to the
real callback endpoints, and what the page shows is what the twins received."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from bot.sandbox import start_sandbox
from storage import planner
from storage.models import ChangeRequest, DelayWarning, Handoff, InboundMessage, Order, SentDigest, Step, Workshop
from tests.helpers import settle, snapshot, wait_until


@pytest.fixture
def sandbox(tmp_path):
    box = start_sandbox(port=0, database=str(tmp_path / "sandbox.db"))
    yield box
    box.stop()


def post(box, path, body):
    return requests.post(f"{box.url}/sandbox/api/{path}", json=body, timeout=30)


def entries(box, conv, **match):
    state = requests.get(f"{box.url}/sandbox/api/state", timeout=10).json()
    return [e for e in state["entries"] if e["conv"] == conv and all(e.get(k) == v for k, v in match.items())]


def step_of(session, order_no, workshop):
    return session.scalars(select(Step).join(Order).join(Workshop).where(Order.order_no == order_no,
                                                                         Workshop.code == workshop)).one()


def test_the_demo_plant_has_thirty_orders_in_every_state(sandbox):
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) >= 30
        statuses = set(s.scalars(select(Order.status)))
        assert {"planned", "in_progress", "blocked", "done"} <= statuses
        step_statuses = set(s.scalars(select(Step.status)))
        assert {"waiting", "ready", "running", "blocked", "done"} <= step_statuses
        assert s.scalar(select(func.count()).select_from(Handoff).where(Handoff.status == "pending")) >= 3
        assert s.scalar(select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == "pending")) == 2
    page = requests.get(f"{sandbox.url}/sandbox", timeout=10)
    assert page.status_code == 200 and "产线接力 · 沙盒" in page.text
    # the planner's requests went through the twin: approval cards reached the managers on both platforms
    assert [e["card"]["title"] for e in entries(sandbox, "wecom:@zhouzong") if e["card"]][:2] == ["插单审批", "改交期审批"]
    assert len([e for e in entries(sandbox, "dingtalk:cid-managers") if e["card"]]) == 2


def test_a_report_typed_in_a_wecom_group_goes_through_the_aibot_callback(sandbox):
    with sandbox.relay.Session() as s:
        inbound = s.scalar(select(func.count()).select_from(InboundMessage))
    assert post(sandbox, "say", {"conv": "wecom:wr-stamping", "user": "zhangwei", "text": "报工 SO-1002 150"}).json() \
        == {"status": 200}
    reply = entries(sandbox, "wecom:wr-stamping", via="aibot_reply")[-1]
    assert "已报工" in reply["markdown"] and "300/300" in reply["markdown"]
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == inbound + 1  # a real, deduplicated callback
        assert step_of(s, "SO-1002", "stamping").good_qty == 300
    # the handoff card reaches both welding leads in the WeCom app, and the welding DingTalk group
    # (beside the delay warnings the sandbox's first scan may have sent about SO-1002's welding: on
    # some weekdays the demo plant starts with it at risk)
    for conv in ("wecom:@lina", "wecom:@wangqiang", "dingtalk:cid-welding"):
        card = wait_until(lambda conv=conv: [e for e in entries(sandbox, conv) if e["card"] and "SO-1002" in e["card"]["body"]
                                             and e["card"]["title"] != "延期预警"])
        assert [b["label"] for b in card[-1]["card"]["buttons"]][0] == "确认接收", card[-1]["card"]


def test_pressing_a_dingtalk_card_button_is_a_card_callback(sandbox):
    card = next(e["card"] for e in entries(sandbox, "dingtalk:cid-managers") if e["card"] and e["card"]["title"] == "插单审批")
    # a lead may not approve: DingTalk shows the refusal to the clicker, nothing changes
    settle(sandbox)
    before = snapshot(sandbox.relay)
    assert post(sandbox, "click", {"conv": "dingtalk:cid-managers", "user": "dt-zhangwei", "card": card["id"],
                                   "action": "approve"}).status_code == 200
    assert entries(sandbox, "dingtalk:cid-managers", via="toast")[-1]["author"] == "张伟"
    after = snapshot(sandbox.relay)
    assert after["change_requests"] == before["change_requests"] and after["orders"] == before["orders"]
    # the manager approves: the rush order exists, the card shows the outcome instead of buttons
    assert post(sandbox, "click", {"conv": "dingtalk:cid-managers", "user": "dt-zhouzong", "card": card["id"],
                                   "action": "approve"}).status_code == 200
    with sandbox.relay.Session() as s:
        assert s.scalars(select(ChangeRequest).where(ChangeRequest.kind == "rush")).one().status == "approved"
        assert s.scalars(select(Order).where(Order.order_no == "SO-2001")).one().quantity == 300
    shown = next(e["card"] for e in entries(sandbox, "dingtalk:cid-managers") if e["card"] and e["card"]["id"] == card["id"])
    assert shown["buttons"] == [] and "同意" in shown["outcome"]


def test_the_clock_control_fires_the_digest(sandbox):
    before = requests.get(f"{sandbox.url}/sandbox/api/state", timeout=10).json()["clock"]
    result = post(sandbox, "clock", {"until": "08:00", "workday": True}).json()   # the page's morning button
    assert result["clock"] > before and result["clock"].endswith("08:00")
    assert result["jobs"]["daily-digest"]
    with sandbox.relay.Session() as s:
        assert planner.calendar(s).is_workday(sandbox.relay.clock.local(sandbox.relay.clock.now()).date())
        assert s.scalar(select(func.count()).select_from(SentDigest)) >= 9  # every bound group, once
    assert "冲压 日报" in entries(sandbox, "wecom:wr-stamping", via="webhook")[-1]["markdown"]
    # (DingTalk's copies queue behind its 20-messages-a-minute robot limit, real time even in the sandbox)
    assert wait_until(lambda: [e for e in entries(sandbox, "wecom:wr-managers", via="webhook")
                               if "全厂日报" in e["markdown"]])
    # a second press on the same day sends no second digest
    post(sandbox, "clock", {"minutes": 30})
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(SentDigest)) == \
            len({(g.platform, g.chat_id) for g in sandbox.relay.settings.groups})


def test_the_morning_button_on_a_friday_evening_goes_to_monday(sandbox):
    """Pressed on a Friday evening, 到明早 8:00 goes to the next working morning (Monday), where
    the digests come; the clock moved to Saturday 08:00 instead finds no digest due (a day off)."""
    from datetime import datetime
    sandbox.relay.clock.set_local(datetime(2026, 11, 27, 18, 0))   # a Friday
    saturday = post(sandbox, "clock", {"until": "08:00"}).json()
    assert "11-28" in saturday["clock"] and saturday["clock"].endswith("08:00")
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(SentDigest)) == 0
    sandbox.relay.clock.set_local(datetime(2026, 11, 27, 18, 0))
    monday = post(sandbox, "clock", {"until": "08:00", "workday": True}).json()
    assert "11-30" in monday["clock"] and monday["clock"].endswith("08:00")
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(SentDigest)) >= 9


@pytest.mark.parametrize("path,body,error", [
    ("say", {"conv": "wecom:@zhouzong", "user": "zhangwei", "text": "同意 REQ-1"}, "not_your_chat"),
    ("say", {"conv": "wecom:wr-stamping", "user": "zhangwei", "text": "报工 " + "1" * 600}, "bad_message"),
    ("say", {"conv": "wecom:nowhere", "user": "zhangwei", "text": "帮助"}, "bad_message"),
    ("click", {"conv": "wecom:@zhouzong", "user": "zhangwei", "card": "x", "action": "approve"}, "not_your_chat"),
    ("clock", {"minutes": 0}, "bad_minutes"),
    ("clock", {"minutes": "soon"}, "bad_minutes"),
    ("clock", {"until": "25:99"}, "bad_time"),
    ("clock", [1, 2], "json_required"),
])
def test_bad_requests_from_the_page_change_nothing(sandbox, path, body, error):
    settle(sandbox)
    before = snapshot(sandbox.relay)
    clock = sandbox.relay.clock.now()
    resp = post(sandbox, path, body)
    assert resp.status_code == 400 and resp.json() == {"error": error}
    assert snapshot(sandbox.relay) == before
    assert abs((sandbox.relay.clock.now() - clock).total_seconds()) < 5


def test_a_cross_site_form_post_cannot_drive_the_sandbox(sandbox):
    resp = requests.post(f"{sandbox.url}/sandbox/api/say", data={"conv": "wecom:wr-stamping", "user": "zhangwei",
                                                                 "text": "报工 SO-1002 150"}, timeout=10)
    assert resp.status_code == 400 and resp.json() == {"error": "json_required"}
    with sandbox.relay.Session() as s:
        assert step_of(s, "SO-1002", "stamping").good_qty == 150


def test_the_production_app_has_no_sandbox(live):
    assert requests.get(f"{live.url}/sandbox", timeout=10).status_code == 404


def test_late_and_at_risk_steps_are_warned_and_highlighted_on_the_board(sandbox):
    """The start-up delay scan warns about the demo's late and at-risk steps; the board shows them."""
    card = wait_until(lambda: [e["card"] for e in entries(sandbox, "wecom:@lina") if e["card"]
                               and e["card"]["title"] == "延期预警" and "SO-1023" in e["card"]["body"]])[0]
    assert "有延期风险" in card["body"] and [b["label"] for b in card["buttons"]] == ["已知悉"]
    token = sandbox.relay.settings.api.board_tokens[0]
    html = requests.get(f"{sandbox.url}/board?token={token}", timeout=10).text
    row = html[html.index('data-order="SO-1022"'):html.index("</tr>", html.index('data-order="SO-1022"'))]
    assert row.count(" late\"") == 4 and row.count("已延期") == 4          # every step of an order due yesterday
    row = html[html.index('data-order="SO-1023"'):html.index("</tr>", html.index('data-order="SO-1023"'))]
    assert 'running at_risk" data-workshop="welding"' in row and "有风险" in row


def test_fast_forward_escalates_unacknowledged_warnings_to_the_managers(sandbox):
    settle(sandbox)
    with sandbox.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(DelayWarning).where(DelayWarning.level == "escalated")) == 0
    result = post(sandbox, "clock", {"minutes": 90}).json()
    assert result["jobs"]["delay-scan"]["escalations"] >= 2
    with sandbox.relay.Session() as s:
        escalated = s.scalar(select(func.count()).select_from(DelayWarning).where(DelayWarning.level == "escalated"))
    assert escalated == result["jobs"]["delay-scan"]["escalations"]
    assert len([e for e in entries(sandbox, "wecom:wr-managers", via="webhook")
                if "预警升级" in e["markdown"]]) == escalated


@pytest.fixture
def sandbox_ws(tmp_path):
    box = start_sandbox(port=0, database=str(tmp_path / "sandbox.db"), wecom_mode="long_connection")
    yield box
    box.stop()


def test_the_sandbox_on_the_long_connection_shows_cards_in_wecom_groups(sandbox_ws):
    box = sandbox_ws
    assert "<b>长连接</b> · 按钮卡片在群里" in requests.get(f"{box.url}/sandbox", timeout=10).text
    # the planner's requests: the approval cards sit in the WeCom managers' group, buttons and all
    cards = wait_until(lambda: [e["card"] for e in entries(box, "wecom-ws:wr-managers") if e["card"]])
    assert [c["title"] for c in cards][:2] == ["插单审批", "改交期审批"] and cards[0]["buttons"]
    assert not [e for e in entries(box, "wecom:@zhouzong") if e["card"]]   # no app cards beside them
    assert post(box, "say", {"conv": "wecom-ws:wr-stamping", "user": "zhangwei", "text": "报工 SO-1002 150"}).json() \
        == {"status": 200}
    assert "已报工" in entries(box, "wecom-ws:wr-stamping", via="aibot_reply")[-1]["markdown"]
    card = wait_until(lambda: [e["card"] for e in entries(box, "wecom-ws:wr-welding")
                               if e["card"] and "SO-1002" in e["card"]["body"]])[-1]
    assert post(box, "click", {"conv": "wecom-ws:wr-welding", "user": "lina", "card": card["id"],
                               "action": "confirm"}).status_code == 200
    shown = wait_until(lambda: [e["card"] for e in entries(box, "wecom-ws:wr-welding")
                                if e["card"] and e["card"]["id"] == card["id"] and not e["card"]["buttons"]])
    assert "李娜" in shown[0]["outcome"] or "接收" in shown[0]["outcome"]
    with box.relay.Session() as s:
        assert s.scalars(select(Handoff.status).join(Step, Handoff.to_step_id == Step.id).join(Order)
                         .where(Order.order_no == "SO-1002")).first() == "confirmed"


def test_the_page_header_switches_the_wecom_mode_live(tmp_path):
    """The header's switch starts the demo again on the same address with WeCom on the other
    mode: from app cards 1:1 to button cards in the WeCom groups, and back."""
    from bot.sandbox import SandboxHost
    host = SandboxHost("127.0.0.1", 0, str(tmp_path / "sandbox.db"), jobs=False)
    url = host.current.url
    try:
        page = requests.get(f"{url}/sandbox", timeout=10).text
        assert "<b>回调</b>" in page and 'data-to="long_connection"' in page
        assert requests.get(f"{url}/sandbox/api/mode", timeout=10).json() == {"mode": "callback", "switchable": True}
        bad = requests.post(f"{url}/sandbox/api/mode", json={"mode": "stream"}, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"] == "bad_mode"
        same = requests.post(f"{url}/sandbox/api/mode", json={"mode": "callback"}, timeout=10)
        assert same.status_code == 200 and same.json()["restarting"] is False
        resp = requests.post(f"{url}/sandbox/api/mode", json={"mode": "long_connection"}, timeout=10)
        assert resp.status_code == 202

        def mode():
            try:
                return requests.get(f"{url}/sandbox/api/mode", timeout=5).json()["mode"]
            except (requests.RequestException, ValueError):
                return None
        wait_until(lambda: mode() == "long_connection", timeout=60)
        wait_until(lambda: "wecom-ws" in host.current.relay.platforms)
        box = host.current
        assert box.url == url and "<b>长连接</b>" in requests.get(f"{url}/sandbox", timeout=10).text
        cards = wait_until(lambda: [e["card"] for e in entries(box, "wecom-ws:wr-managers") if e["card"]])
        assert cards[0]["buttons"]       # the approval cards now sit in the WeCom managers' group
        assert post(box, "say", {"conv": "wecom-ws:wr-stamping", "user": "zhangwei",
                                 "text": "报工 SO-1002 150"}).json() == {"status": 200}
        assert "已报工" in entries(box, "wecom-ws:wr-stamping", via="aibot_reply")[-1]["markdown"]
        assert requests.post(f"{url}/sandbox/api/mode", json={"mode": "callback"}, timeout=10).status_code == 202
        wait_until(lambda: mode() == "callback", timeout=60)
        # the demo files its requests once it is up: the approval card reaches the manager 1:1 again
        assert wait_until(lambda: [e["card"]["title"] for e in entries(host.current, "wecom:@zhouzong")
                                   if e["card"]][:1], timeout=30) == ["插单审批"]
    finally:
        host.stop()


def test_a_sandbox_without_a_host_cannot_switch(sandbox):
    assert requests.get(f"{sandbox.url}/sandbox/api/mode", timeout=10).json()["switchable"] is False
    resp = post(sandbox, "mode", {"mode": "long_connection"})
    assert resp.status_code == 400 and resp.json()["error"] == "mode_switch_unavailable"
    assert 'id="wecom-switch"' not in requests.get(f"{sandbox.url}/sandbox", timeout=10).text
