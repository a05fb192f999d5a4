"""The bad-input corpus, grown for the lifecycle's entry points: commands and card clicks on a
paused order, on a quantity dispute and on one's own request. Each is refused (4xx, or a clear
reply), never a 5xx, and leaves every table as it was (replies and their delivery aside)."""
import pytest

from tests.helpers import settle, snapshot
from tests.test_commands import seed

REPLY_TABLES = ("inbound_messages", "outbox")


def protected(live):
    settle(live)
    return {k: v for k, v in snapshot(live.relay).items() if k not in REPLY_TABLES}


def unchanged(live, before):
    settle(live)
    assert protected(live) == before


def dingtalk_card(live, target, text):
    return live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == target and text in str(m.payload))


def wecom_card(live, user, text):
    return live.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card"
                              and user in m.target.split("|") and text in str(m.payload))


# -- a paused order ---------------------------------------------------------------------------

@pytest.fixture
def paused(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 100")
    live.say("zhangwei", "交接 SO-1001 50")
    live.say("chenjing", "变更 SO-1001 暂停", chat=None)
    live.say("zhouzong", "同意 REQ-1", chat=None)
    return live


PAUSED_CASES = [
    ("zhangwei", "wr-stamping", "报工 SO-1001 10"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 不良 3"),
    ("zhangwei", "wr-stamping", "交接 SO-1001 10"),
    ("zhangwei", "wr-stamping", "异常 SO-1001 设备 冲床故障 预计 2小时"),
    ("lina", "wr-welding", "报工 SO-1001 10"),      # the batch on its way may be received (below), not worked
    ("chenjing", None, "变更 SO-1001 暂停"),
]


@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
@pytest.mark.parametrize("user, chat, text", PAUSED_CASES, ids=[c[2] for c in PAUSED_CASES])
def test_a_paused_order_refuses_production(paused, platform, user, chat, text):
    paused.platform = platform
    before = protected(paused)
    assert "已暂停" in paused.say(user, text, chat=chat)
    unchanged(paused, before)


def test_the_handoff_card_of_a_paused_order_receives_the_batch_on_its_way_once(paused):
    """A pause stops the work, not the books (README, the order lifecycle): the 50 handed over
    before it are received from the card, once for both copies, and the work stays refused."""
    from tests.test_commands import step
    track = dingtalk_card(paused, "cid-welding", "SO-1001").payload["body"]["outTrackId"]
    task = wecom_card(paused, "lina", "SO-1001").payload["template_card"]["task_id"]
    resp = paused.dingtalk.click(track, "dt-lina", "confirm")
    assert resp.status_code == 200, resp.text
    assert paused.twin.card_click("lina", task, "confirm").status == 200   # the other copy: decided already
    settle(paused)
    assert step(paused, seq=2).received_qty == 50
    before = protected(paused)
    assert "已暂停" in paused.say("lina", "报工 SO-1001 10", chat="wr-welding")
    unchanged(paused, before)


# -- a quantity dispute -----------------------------------------------------------------------

@pytest.fixture
def disputed(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")
    live.say("lina", "接收 SO-1001 196", chat="wr-welding")
    return live


@pytest.mark.parametrize("user, chat, expected", [
    ("lina", "wr-welding", "只有上道"), ("wangqiang", "wr-welding", "只有上道"), ("chenjing", None, "只有上道"),
    ("sungong", None, "只有上道"), ("nobody", None, "还没有登记")])
def test_a_dispute_is_settled_by_no_one_else(disputed, user, chat, expected):
    before = protected(disputed)
    assert expected in disputed.say(user, "了结 SO-1001", chat=chat)
    assert "了结 SO-1001" in disputed.say("zhangwei", "恢复 SO-1001")  # 恢复 points to 了结, closes nothing
    unchanged(disputed, before)


@pytest.mark.parametrize("user, action, status", [
    ("dt-lina", "settle", 403), ("dt-chenjing", "settle", 403), ("dt-nobody", "settle", 403),
    ("dt-zhangwei", "confirm", 400), ("dt-zhangwei", "approve", 400), ("dt-zhangwei", "", 400)])
def test_dingtalk_dispute_card_clicks_that_may_not_apply(disputed, user, action, status):
    track = dingtalk_card(disputed, "cid-stamping", "数量不符").payload["body"]["outTrackId"]
    before = protected(disputed)
    assert disputed.dingtalk.click(track, user, action).status_code == status
    unchanged(disputed, before)


def test_wecom_dispute_card_clicks_that_may_not_apply(disputed):
    task = wecom_card(disputed, "zhangwei", "数量不符").payload["template_card"]["task_id"]
    before = protected(disputed)
    for user, key in (("lina", "settle"), ("zhangwei", "confirm"), ("nobody", "settle"), ("zhangwei", "x" * 2000)):
        assert disputed.twin.card_click(user, task, key).status in (200, 400), (user, key)
    unchanged(disputed, before)


def test_a_settled_dispute_card_replayed_changes_nothing(disputed):
    track = dingtalk_card(disputed, "cid-stamping", "数量不符").payload["body"]["outTrackId"]
    assert disputed.dingtalk.click(track, "dt-zhangwei", "settle").status_code == 200
    before = protected(disputed)
    again = disputed.dingtalk.click(track, "dt-zhouzong", "settle")
    assert again.status_code == 200 and "已经处理过" in again.json()["message"]
    assert "没有待了结" in disputed.say("zhouzong", "了结 SO-1001", chat=None)
    unchanged(disputed, before)


# -- one's own request ------------------------------------------------------------------------

@pytest.fixture
def own_request(live):
    seed(live)
    live.say("zhouzong", "变更 SO-1001 暂停 原因 设备检修", chat=None)
    return live


def test_an_approver_cannot_decide_their_own_request_anywhere(own_request):
    live = own_request
    track = dingtalk_card(live, "cid-managers", "REQ-1").payload["body"]["outTrackId"]
    task = wecom_card(live, "zhouzong", "REQ-1").payload["template_card"]["task_id"]
    before = protected(live)
    for platform in ("wecom", "dingtalk"):
        assert "自己提的" in live.say("zhouzong", "同意 REQ-1", chat=None, platform=platform)
        assert "自己提的" in live.say("zhouzong", "驳回 REQ-1 原因 不要了", chat=None, platform=platform)
    for action in ("approve", "reject"):
        resp = live.dingtalk.click(track, "dt-zhouzong", action)
        assert resp.status_code == 403 and "自己提的" in resp.json()["message"]
        assert live.twin.card_click("zhouzong", task, action).status == 200
    unchanged(live, before)
