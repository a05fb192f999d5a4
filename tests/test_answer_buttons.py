"""The 确认 / 取消 card beside a confirmation question (issue 13): on DingTalk, where a group shows
buttons, a press is the asker's answer, applied once whether pressed, pressed again or typed; on
WeCom's callback channel (no buttons in groups) the question stays typed."""
import json

import pytest
from sqlalchemy import func, select

from storage.models import Card, Report
from tests.helpers import settle, snapshot
from tests.test_commands import seed, step


@pytest.fixture
def dt(live):
    live.platform = "dingtalk"
    seed(live)
    return live


def asked(live, text="SO-1001 120", user="zhangwei", marker="120"):
    """`user` types a guess in stamping's group: the question in text, and its card's track id."""
    reply = live.say(user, text)
    assert "是不是要报" in reply and "SO-1001" in reply, reply
    sent = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-stamping"
                                  and marker in json.dumps(m.payload, ensure_ascii=False))
    settle(live)
    params = sent.payload["body"]["cardData"]["cardParamMap"]
    assert [b["action"] for b in json.loads(params["buttons"])] == ["yes", "no"]
    assert "SO-1001" in params["markdown"]
    return sent.payload["body"]["outTrackId"]


def reports(live) -> int:
    with live.session() as s:
        return s.scalar(select(func.count()).select_from(Report))


def card(live, track):
    with live.session() as s:
        return s.scalars(select(Card).where(Card.track_id == track)).one()


def test_pressing_confirm_applies_the_reading_once(dt):
    live = dt
    track = asked(live)
    assert step(live).good_qty == 0
    sessions_before = len(live.dingtalk.sends_to("session"))
    resp = live.dingtalk.click(track, "dt-zhangwei", "yes")
    assert resp.status_code == 200, resp.text
    params = resp.json()["cardData"]["cardParamMap"]
    assert "SO-1001" in params["outcome"] and "120" in params["outcome"] and json.loads(params["buttons"]) == []
    assert step(live).good_qty == 120 and reports(live) == 1
    assert (card(live, track).status, card(live, track).decision) == ("decided", "yes")
    # pressed again (DingTalk retries a slow callback): answered from the record, counted once
    again = live.dingtalk.click(track, "dt-zhangwei", "yes")
    assert again.status_code == 200 and step(live).good_qty == 120 and reports(live) == 1
    settle(live)
    # the answer rides on the card: no chat reply for the press
    assert len(live.dingtalk.sends_to("session")) == sessions_before


def test_only_the_person_asked_may_press(dt):
    live = dt
    track = asked(live)
    before = snapshot(live.relay)
    resp = live.dingtalk.click(track, "dt-wangqiang", "yes")
    assert resp.status_code == 403 and "被提问的人" in resp.json()["message"]
    assert snapshot(live.relay) == before
    assert live.dingtalk.click(track, "dt-zhangwei", "yes").status_code == 200
    assert step(live).good_qty == 120


def test_cancel_drops_the_question(dt):
    live = dt
    track = asked(live)
    resp = live.dingtalk.click(track, "dt-zhangwei", "no")
    assert resp.status_code == 200
    assert step(live).good_qty == 0 and reports(live) == 0
    assert card(live, track).decision == "no"
    # the question is gone: a typed 是 now confirms nothing
    assert "没有等你确认" in live.say("zhangwei", "是")
    assert step(live).good_qty == 0


def test_typing_yes_closes_the_card_and_a_later_press_changes_nothing(dt):
    live = dt
    track = asked(live)
    assert "已报工" in live.say("zhangwei", "是")
    assert step(live).good_qty == 120
    settle(live)
    row = card(live, track)
    assert (row.status, row.decision) == ("decided", "replaced")
    update = live.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track)
    assert "已失效" in update.payload["cardData"]["cardParamMap"]["outcome"]
    before = snapshot(live.relay)
    resp = live.dingtalk.click(track, "dt-zhangwei", "yes")
    assert resp.status_code == 200 and "已经处理过" in resp.json()["message"]
    assert snapshot(live.relay) == before and step(live).good_qty == 120


def test_a_newer_question_retires_the_older_card(dt):
    live = dt
    first = asked(live)
    second = asked(live, "SO-1001 120 原因 毛刺", marker="毛刺")
    assert card(live, first).decision == "replaced" and card(live, second).status == "open"
    assert live.dingtalk.click(first, "dt-zhangwei", "yes").json()["message"].startswith("ℹ️")
    assert step(live).good_qty == 0
    assert live.dingtalk.click(second, "dt-zhangwei", "yes").status_code == 200
    assert step(live).good_qty == 120 and reports(live) == 1


def test_wecom_groups_keep_the_typed_question(live):
    seed(live)
    reply = live.say("zhangwei", "SO-1001 120")
    assert "是不是要报" in reply and "回复「是」" in reply
    settle(live)
    with live.session() as s:
        assert s.scalar(select(func.count()).select_from(Card).where(Card.kind == "confirm")) == 0
    assert "已报工" in live.say("zhangwei", "是") and step(live).good_qty == 120
