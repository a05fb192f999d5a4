"""Rush orders and changes: filed with impact, approved or rejected from a card or a command,
first decision wins, the plan changes in one transaction, everyone affected is told."""
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.models import ChangeRequest, Order
from storage.requests import Policy, decide_request
from storage.errors import RequestDecided
from tests.helpers import settle, wait_until
from tests.test_commands import seed, step
from tests.test_workflows import timeline


def due(live, days=4):
    return (live.relay.clock.today() + timedelta(days=days)).strftime("%m-%d")


def file_rush(live, platform="wecom"):
    reply = live.say("chenjing", f"插单 SO-2001 车门总成 500 交期 {due(live)} 原因 主机厂急单", chat=None, platform=platform)
    assert "已提交申请 **REQ-1**" in reply
    card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-managers")
    wecom = live.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card")
    settle(live)
    return card.payload["body"]["outTrackId"], wecom


@pytest.fixture
def plant(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9))   # a Wednesday morning: impacts are worked out for it
    return seed(live)


def test_rush_request_shows_its_impact_to_the_approvers(plant):
    track, wecom = file_rush(plant)
    params = plant.dingtalk.cards[track]["cardData"]["cardParamMap"]
    assert "REQ-1" in params["markdown"] and "SO-2001" in params["markdown"] and "主机厂急单" in params["markdown"]
    # the plan as if approved: the rush order's own forecast, and who it would push late (and where)
    assert "赶不上交期" in params["markdown"] or "能按期" in params["markdown"]
    assert "批准后：SO-1001 由按期变为晚" in params["markdown"] and "（冲压）" in params["markdown"]
    assert sorted(wecom.target.split("|")) == ["wujingli", "zhouzong"]
    assert [b["key"] for b in wecom.payload["template_card"]["button_list"]] == ["approve", "reject"]
    notice = plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-managers")
    assert "待审批 REQ-1" in notice.text
    with plant.session() as s:
        request = s.scalars(select(ChangeRequest)).one()
        assert request.status == "pending" and request.impact["feasible"] in (True, False)


def test_rush_approved_on_a_card_changes_the_plan_and_tells_everyone(plant):
    track, _ = file_rush(plant)
    resp = plant.dingtalk.click(track, "dt-zhouzong", "approve")
    assert resp.status_code == 200 and "周总" in resp.json()["cardData"]["cardParamMap"]["outcome"]
    with plant.session() as s:
        order = s.scalars(select(Order).where(Order.order_no == "SO-2001")).one()
        assert (order.priority, order.quantity, len(order.steps)) == (1, 500, 4)
        assert s.scalars(select(ChangeRequest.status)).one() == "approved"
    for key in ("key-stamping", "key-welding", "key-painting", "key-assembly"):
        notice = plant.twin.wait_for(lambda m, k=key: m.api == "webhook" and m.target == k and "计划变更" in m.text)
        assert notice.text.index("SO-2001") < notice.text.index("SO-1001")  # ahead of the P2 order
    plant.dingtalk.wait_for(lambda m: m.api == "group_message" and m.target == "cid-stamping" and "计划变更" in m.text)
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "chenjing")
    assert "已由 周总 同意" in told.text
    queue = plant.say("zhangwei", "待办")
    assert queue.index("SO-2001") < queue.index("SO-1001")
    story = timeline(plant, "SO-2001")
    assert [k for k, _ in story][:3] == ["request_vote", "order_created", "request_approved"] or \
        ("order_created", "周总") in story


def test_reject_asks_for_a_reason_then_the_requester_is_told(plant):
    track, _ = file_rush(plant)
    resp = plant.dingtalk.click(track, "dt-zhouzong", "reject")
    assert resp.status_code == 200 and "驳回需要写明原因" in resp.json()["message"]
    assert "驳回需要写明原因" in plant.say("zhouzong", "驳回 REQ-1", chat=None)   # typed without one: asked too
    assert request_status(plant) == "pending"
    assert "已驳回" in plant.say("zhouzong", "驳回 REQ-1 原因 本周产能已满", chat=None)
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "chenjing")
    assert "驳回" in told.text and "本周产能已满" in told.text
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.order_no == "SO-2001")) == 0
    update = plant.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track)
    assert json_buttons(update) == []


def request_status(plant) -> str:
    with plant.session() as s:
        return s.scalars(select(ChangeRequest.status)).one()


def test_a_command_addressing_someone_is_no_reason_for_a_reject(plant):
    """Asked for a reason, the approver sends a command that @-mentions a colleague first: it is
    that command (read past the mention), never the reason (`王五 进度 SO-2001` was taken for one)."""
    file_rush(plant)
    assert "驳回需要写明原因" in plant.say("zhouzong", "驳回 REQ-1", chat=None)
    reply = plant.say("zhouzong", "@王五 进度 SO-1001", chat=None)
    assert "驳回" not in reply and "SO-1001" in reply, reply
    assert request_status(plant) == "pending"


def test_after_a_reject_press_only_a_confirmed_reason_rejects(plant):
    """A tap on 驳回 by mistake, then `按错了` or a remark in another chat on the other platform:
    a rejection cannot be taken back, so what follows is its reason only once confirmed."""
    track, _ = file_rush(plant)
    plant.dingtalk.click(track, "dt-zhouzong", "reject")
    reply = plant.say("zhouzong", "按错了", chat=None)
    assert "是不是要驳回" in reply and "按错了" in reply and "不能撤回" in reply, reply
    assert request_status(plant) == "pending"
    assert "不" in plant.say("zhouzong", "不", chat=None) and request_status(plant) == "pending"
    plant.dingtalk.click(track, "dt-zhouzong", "reject")             # on DingTalk; then a remark on WeCom
    plant.relay.clock.advance(timedelta(minutes=5))
    reply = plant.say("zhouzong", "这个先放一放，明天开会再说", chat="wr-managers", platform="wecom")
    assert "是不是要驳回" in reply and request_status(plant) == "pending", reply
    assert request_status(plant) == "pending"
    plant.dingtalk.click(track, "dt-zhouzong", "reject")
    assert "是不是要驳回" in plant.say("zhouzong", "本周产能已满", chat=None)
    assert "已驳回" in plant.say("zhouzong", "是", chat=None)
    assert request_status(plant) == "rejected"
    told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "chenjing" and "驳回" in m.text)
    assert "本周产能已满" in told.text


def test_a_card_decided_after_its_due_date_passed_is_refused(plant):
    """A rush due in 4 days, approved from its card 5 days later: the order is not created with a
    due date already gone; the approver is told to reject; the request stays pending."""
    track, _ = file_rush(plant)
    plant.relay.clock.advance(timedelta(days=5))
    resp = plant.dingtalk.click(track, "dt-zhouzong", "approve")
    assert "已经过了" in resp.json()["message"] and "REQ-1" in resp.json()["message"]
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "pending"
        assert s.scalar(select(func.count()).select_from(Order).where(Order.order_no == "SO-2001")) == 0
    assert "已驳回" in plant.say("zhouzong", "驳回 REQ-1 原因 交期已过", chat=None)


def json_buttons(sent):
    import json
    return json.loads(sent.payload["cardData"]["cardParamMap"]["buttons"])


def test_concurrent_double_approval_makes_exactly_one_decision(plant):
    track, wecom = file_rush(plant)
    task = wecom.payload["template_card"]["task_id"]
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(plant.dingtalk.click, track, "dt-zhouzong", "approve")
        b = pool.submit(plant.twin.card_click, "wujingli", task, "approve")
        results = [a.result(), b.result()]
    assert results[0].status_code in (200, 403) and results[1].status == 200
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.order_no == "SO-2001")) == 1
        request = s.scalars(select(ChangeRequest)).one()
        assert request.status == "approved"
    first = results[0]
    decider = "周总" if first.status_code == 200 and "周总" in first.json()["cardData"]["cardParamMap"]["outcome"] else "吴经理"
    loser = "wujingli" if decider == "周总" else None
    if loser:
        told = plant.twin.wait_for(lambda m: m.api == "message" and m.target == loser and m.payload["msgtype"] == "text")
        assert "周总" in told.text
    else:
        assert "吴经理" in results[0].json()["message"]


def test_a_click_by_someone_who_may_not_approve_changes_nothing(plant):
    track, _ = file_rush(plant)
    resp = plant.dingtalk.click(track, "dt-zhangwei", "approve")
    assert resp.status_code == 403 and "审批人" in resp.json()["message"]
    assert "审批人" in plant.say("zhangwei", "同意 REQ-1")
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "pending"


def test_replayed_click_on_a_decided_card_changes_nothing(plant):
    track, _ = file_rush(plant)
    plant.dingtalk.click(track, "dt-zhouzong", "approve")
    again = plant.dingtalk.click(track, "dt-zhouzong", "approve")
    assert again.status_code == 200 and "已经处理过" in again.json()["message"]
    assert "已经由 周总 同意" in plant.say("wujingli", "同意 REQ-1", chat=None)
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.order_no == "SO-2001")) == 1


@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
def test_change_quantity_and_due_date_propagate(live, platform):
    seed(live)
    live.platform = platform
    assert "REQ-1" in live.say("zhangwei", "变更 SO-1001 数量 300 原因 客户加量")
    assert "已同意" in live.say("zhouzong", "同意 REQ-1", chat=None)
    assert step(live).planned_qty == 300 and step(live, seq=4).planned_qty == 300
    assert "最多还能报 315" in live.say("zhangwei", "报工 SO-1001 400")
    new_due = live.relay.clock.today() + timedelta(days=20)
    live.say("chenjing", f"变更 SO-1001 交期 {new_due.strftime('%m-%d')}", chat=None)
    live.say("zhouzong", "同意 REQ-2", chat=None)
    with live.session() as s:
        order = s.scalars(select(Order).where(Order.order_no == "SO-1001")).one()
        assert order.due_date == new_due
        assert order.steps[-1].planned_end.date() == new_due
    wait_until(lambda: [m for m in live.twin.sends_to("webhook", "key-assembly") if "计划变更" in m.text])


def test_pause_holds_the_order_out_of_the_queues(plant):
    plant.say("chenjing", "变更 SO-1001 暂停 原因 客户要求", chat=None)
    plant.say("zhouzong", "同意 REQ-1", chat=None)
    with plant.session() as s:
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1001")) == "paused"
    assert "SO-1001" not in plant.say("zhangwei", "待办")


@pytest.mark.parametrize("text, expected", [
    ("插单 SO-1001 车门总成 10 交期 12-01", "已经存在"),
    ("插单 SO-2002 火箭 10 交期 12-01", "没有产品「火箭」"),
    ("插单 SO-2002 车门总成 10 交期 13-45", "交期「13-45」不对"),
    ("插单 SO-2002 车门总成 -5 交期 12-01", "不能是负数"),
    ("变更 SO-1001 颜色 红", "格式不对"),
    ("变更 SO-9999 数量 5", "找不到订单"),
])
def test_bad_requests_change_nothing(plant, text, expected):
    assert expected in plant.say("chenjing", text, chat=None)
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 0


def test_someone_without_the_role_may_not_file(plant):
    assert "只有计划员" in plant.say("sungong", "变更 SO-1001 暂停", chat=None)


def test_all_policy_needs_every_approver(plant):
    plant.say("chenjing", "变更 SO-1001 暂停", chat=None)
    with plant.relay.Session.begin() as s:
        from storage.models import Person
        ids = tuple(s.scalars(select(Person.id).where(Person.name.in_(["周总", "吴经理"])).order_by(Person.id)))
        zhou, wu = (s.scalars(select(Person).where(Person.name == n)).one() for n in ("周总", "吴经理"))
        policy = Policy(mode="all", approver_ids=ids)
        now = plant.relay.clock.now()
        first = decide_request(s, now, request_id=1, person=zhou, approve=True, reason="", policy=policy,
                               source="test")
        assert first.status == "pending"
        second = decide_request(s, now, request_id=1, person=wu, approve=True, reason="", policy=policy,
                                source="test")
        assert second.status == "approved"
        with pytest.raises(RequestDecided):
            decide_request(s, now, request_id=1, person=zhou, approve=False, reason="x", policy=policy,
                           source="test")


def test_under_the_all_policy_an_approver_who_left_is_not_waited_for(database_url, tmp_path):
    """`[approvals] policy = "all"` with two named approvers: one leaves the plant (the directory
    marks him inactive); the other's approval then decides, and the one who left can decide nothing."""
    from storage.models import Person
    from tests.conftest import running_plant
    with running_plant(database_url, tmp_path, **{"approvals.policy": "all",
                                                  "approvals.approvers": ["周总", "吴经理"]}) as live:
        seed(live)
        assert "已提交申请 **REQ-1**" in live.say("chenjing", "变更 SO-1001 暂停", chat=None)
        with live.relay.Session.begin() as s:
            s.scalars(select(Person).where(Person.name == "吴经理")).one().active = False
        assert "还没有登记" in live.say("wujingli", "同意 REQ-1", chat=None)
        with live.relay.Session() as s:
            assert s.scalars(select(ChangeRequest.status)).one() == "pending"   # a leaver decides nothing
        assert "已同意" in live.say("zhouzong", "同意 REQ-1", chat=None)
        with live.relay.Session() as s:
            assert s.scalars(select(ChangeRequest.status)).one() == "approved"


def test_under_the_all_policy_a_vote_shows_on_the_card_until_the_last_one(database_url, tmp_path):
    """周总 presses 同意 on the DingTalk card while 吴经理's approval is still needed: the open cards
    say who agreed and who is awaited (buttons kept); 吴经理's 同意 then decides and closes them."""
    from tests.conftest import running_plant
    with running_plant(database_url, tmp_path, **{"approvals.policy": "all",
                                                  "approvals.approvers": ["周总", "吴经理"]}) as live:
        seed(live)
        live.platform = "dingtalk"
        assert "REQ-1" in live.say("chenjing", "变更 SO-1001 暂停", chat=None)
        card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-managers" and "REQ-1" in m.text)
        track = card.payload["body"]["outTrackId"]
        settle(live)
        assert live.dingtalk.click(track, "dt-zhouzong", "approve").status_code == 200
        update = live.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track
                                        and "还需" in json.dumps(m.payload, ensure_ascii=False))
        text = json.dumps(update.payload, ensure_ascii=False)
        assert "已同意：周总" in text and "还需：吴经理" in text and json_buttons(update) != []
        with live.relay.Session() as s:
            assert s.scalars(select(ChangeRequest.status)).one() == "pending"
        assert "已同意" in live.say("wujingli", "同意 REQ-1", chat=None)
        with live.relay.Session() as s:
            assert s.scalars(select(ChangeRequest.status)).one() == "approved"
        closed = live.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track and json_buttons(m) == [])
        assert "吴经理" in closed.payload["cardData"]["cardParamMap"]["outcome"]


def test_cancelling_an_order_closes_what_can_no_longer_be_done(plant):
    """SO-1001's 200 wait at welding and a quantity change waits for approval when the order is
    cancelled: the change is withdrawn (its cards closed, its requester told), the batch's cards
    say 订单已取消, welding is told not to receive it, and presses on the old cards change nothing."""
    plant.platform = "dingtalk"
    plant.say("zhangwei", "报工 SO-1001 200")
    handoff = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
    assert "REQ-1" in plant.say("chenjing", "变更 SO-1001 数量 1200 原因 客户加量", chat=None)
    change = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-managers" and "REQ-1" in m.text)
    assert "REQ-2" in plant.say("chenjing", "变更 SO-1001 取消 原因 客户撤单", chat=None)
    settle(plant)
    assert "已同意" in plant.say("zhouzong", "同意 REQ-2", chat=None)
    settle(plant)
    with plant.session() as s:
        rows = {r.id: (r.status, r.decided_by is not None) for r in s.scalars(select(ChangeRequest))}
        assert rows == {1: ("withdrawn", True), 2: ("approved", True)}
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1001")) == "cancelled"
    for sent in (handoff, change):
        track = sent.payload["body"]["outTrackId"]
        update = plant.dingtalk.wait_for(lambda m, t=track: m.api == "card_update" and m.target == t)
        assert json_buttons(update) == [] and "订单已取消" in update.payload["cardData"]["cardParamMap"]["outcome"]
    told = plant.dingtalk.wait_for(lambda m: "你的申请 REQ-1" in m.text)   # she filed it on DingTalk
    assert "已关闭" in told.text and "订单已取消" in told.text
    welding = plant.dingtalk.wait_for(lambda m: m.target == "cid-welding" and "计划变更" in m.text)
    assert "200 件不用接收" in welding.text
    resp = plant.dingtalk.click(handoff.payload["body"]["outTrackId"], "dt-lina", "confirm")
    assert resp.status_code in (200, 409)
    assert "已关闭" in plant.say("wujingli", "同意 REQ-1", chat=None)
    assert step(plant, seq=2).received_qty == 0
    with plant.session() as s:
        assert s.scalar(select(Order.quantity).where(Order.order_no == "SO-1001")) != 1200


def test_an_order_that_completes_withdraws_what_was_asked_of_it(plant):
    """A due-date change waits for approval while the last workshop reports the order done: it
    can never be approved now, so it is withdrawn as the order completes (its approval cards say
    订单已完工, its requester is told), and a later 同意 says it is closed."""
    plant.platform = "dingtalk"
    assert "REQ-1" in plant.say("chenjing", f"变更 SO-1002 交期 {due(plant, 10)} 原因 客户改期", chat=None)
    change = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-managers" and "REQ-1" in m.text)
    for user, chat in (("zhangwei", "wr-stamping"), ("lina", "wr-welding"), ("zhaomin", "wr-painting")):
        assert "已报工" in plant.say(user, "报工 SO-1002 100", chat=chat)
        with plant.session() as s:
            assert s.scalars(select(ChangeRequest.status)).one() == "pending"   # not done yet
        nxt = {"wr-stamping": "lina", "wr-welding": "zhaomin", "wr-painting": "liuyang"}[chat]
        nxt_chat = {"wr-stamping": "wr-welding", "wr-welding": "wr-painting", "wr-painting": "wr-assembly"}[chat]
        assert "已确认接收" in plant.say(nxt, "接收 SO-1002", chat=nxt_chat)
    assert "已报工" in plant.say("liuyang", "报工 SO-1002 100", chat="wr-assembly")
    settle(plant)
    with plant.session() as s:
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1002")) == "done"
        request = s.scalars(select(ChangeRequest)).one()
        assert request.status == "withdrawn" and request.decided_at is not None
    track = change.payload["body"]["outTrackId"]
    update = plant.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track)
    assert json_buttons(update) == [] and "订单已完工" in update.payload["cardData"]["cardParamMap"]["outcome"]
    told = plant.dingtalk.wait_for(lambda m: "你的申请 REQ-1" in m.text)
    assert "已关闭" in told.text and "完工" in told.text
    assert "已关闭" in plant.say("zhouzong", "同意 REQ-1", chat=None)
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "withdrawn"
    assert ("request_withdrawn", "刘洋") in timeline(plant, "SO-1002")


def test_a_reject_typed_without_a_reason_is_answered_with_one(plant):
    """`驳回 REQ-1` (it was 格式不对): asked for the reason; the answer, confirmed, rejects."""
    file_rush(plant)
    assert "驳回需要写明原因" in plant.say("zhouzong", "驳回 REQ 1", chat=None)
    reply = plant.say("zhouzong", "本周产能已满", chat=None)   # read back first: a rejection is final
    assert "是不是要驳回" in reply and "本周产能已满" in reply and request_status(plant) == "pending"
    assert "已驳回" in plant.say("zhouzong", "是", chat=None)
    assert request_status(plant) == "rejected"
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.reason)).one().endswith("驳回：本周产能已满")
    assert "已经" in plant.say("wujingli", "同意 REQ 1", chat=None)


def test_a_reason_typed_without_its_word_is_kept_as_typed(plant):
    """`驳回 REQ-1 产能已满` (no 原因): the reason reads 产能已满, not 产能 已 满 (cut at the fillers)."""
    file_rush(plant)
    assert "已驳回" in plant.say("zhouzong", "驳回 REQ-1 产能已满", chat=None)
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.reason)).one().endswith("驳回：产能已满")
