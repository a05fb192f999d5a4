"""DingTalk: robot callbacks refused when not DingTalk's, cards clicked once, pushes signed and paced."""
import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from bot.outbox import RateLimiter
from bot.neutral import Notice
from storage.models import Card, Handoff, OutboxMessage, Report
from tests.helpers import settle, snapshot, wait_until
from tests.test_commands import seed, step

DT_VECTOR = dict(token="123456", aes_key="4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
                 receive_id="suite4xxxxxxxxxxxxxxx", timestamp="1445827045067", nonce="nEXhMP4r",
                 signature="5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0",
                 encrypt="1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxj"
                         "Z8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHle"
                         "gK+AGGanfwjXuQ9+0pZcy0w9lQ==",
                 plain='{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}')


def test_dingtalk_event_crypto_passes_public_vector():
    # DingTalk's encrypted event subscription uses WeCom's scheme (the suite key as receive id):
    # our one implementation opens DingTalk's published sample and refuses it with a bad signature.
    from bot.wecom.crypto import CryptoError, WeComCrypto
    v = DT_VECTOR
    crypto = WeComCrypto(v["token"], v["aes_key"], v["receive_id"])
    assert crypto.decrypt(v["signature"], v["timestamp"], v["nonce"], v["encrypt"]) == v["plain"]
    with pytest.raises(CryptoError):
        crypto.decrypt("0" * 40, v["timestamp"], v["nonce"], v["encrypt"])


@pytest.fixture
def dt(live):
    live.platform = "dingtalk"
    seed(live)
    before = snapshot(live.relay)
    return live, before


def unchanged(live, before):
    return snapshot(live.relay) == before


def test_bad_sign_is_refused(dt):
    live, before = dt
    resp, _ = live.dingtalk.robot_text("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping", sign="AAAA")
    assert resp.status_code == 403 and unchanged(live, before)


@pytest.mark.parametrize("skew_ms", [-2 * 3600_000, 2 * 3600_000])
def test_stale_or_future_timestamp_is_refused(dt, skew_ms):
    live, before = dt
    ts = live.relay.clock.epoch() * 1000 + skew_ms
    resp, _ = live.dingtalk.robot_text("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping", timestamp=ts)
    assert resp.status_code == 403 and unchanged(live, before)


def test_unknown_robot_code_is_refused(dt):
    live, before = dt
    resp, _ = live.dingtalk.robot_text("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping",
                                       robot_code="someone-elses-robot")
    assert resp.status_code == 403 and unchanged(live, before)


@pytest.mark.parametrize("robot_code", [None, "normal"])
def test_a_signed_message_that_names_no_robot_of_ours_is_taken(dt, robot_code):
    """DingTalk's published HTTP receive-message sample has no `robotCode` (the older outgoing
    robot says "normal"); the app secret's signature already proves DingTalk sent it."""
    live, _ = dt
    body, _ = live.dingtalk.robot_body("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping")
    if robot_code is None:
        del body["robotCode"]
    else:
        body["robotCode"] = robot_code
    body.update({"chatbotCorpId": "dinge8a565xxxx", "senderCorpId": "dinge8a565xxxx", "createAt": 1613630252678,
                 "isInAtList": True})
    assert live.dingtalk.robot_message(body).status_code == 200
    settle(live)
    with live.session() as s:
        assert s.scalar(select(func.sum(Report.good))) == 5
    assert "5/200" in live.dingtalk.sends_to("session")[0].text


@pytest.mark.parametrize("raw", [b"{broken", b"[1,2]", b"\xff\xfe", b'{"robotCode": "dingdemoappkey"}',
                                 b'{"robotCode": "dingdemoappkey", "msgtype": "text", "msgId": "1"}'])
def test_malformed_json_is_refused(dt, raw):
    live, before = dt
    resp = live.dingtalk.robot_message({}, raw=raw)
    assert resp.status_code in (400, 403) and unchanged(live, before)
    assert live.dingtalk.sent == []


def test_missing_headers_are_refused(dt):
    live, before = dt
    resp = requests.post(f"{live.url}/dingtalk/robot", json={"msgtype": "text"})
    assert resp.status_code == 400 and unchanged(live, before)


def test_foreign_session_webhook_is_refused(dt):
    live, before = dt
    body = {"msgId": "m1", "msgtype": "text", "text": {"content": "报工 SO-1001 5"}, "conversationId": "cid-stamping",
            "conversationType": "2", "senderStaffId": "dt-zhangwei", "robotCode": "dingdemoappkey",
            "sessionWebhook": "http://127.0.0.1:1/steal"}
    assert live.dingtalk.robot_message(body).status_code == 400 and unchanged(live, before)


@pytest.mark.parametrize("change", ["no staff id", "empty staff id", "another corp"])
def test_a_sender_who_is_not_ours_is_told_and_nothing_changes(dt, change):
    """DingTalk leaves senderStaffId out for an external member and while the robot is not yet
    published; a member of another corp carries that corp's staff id, which may equal one of ours.
    Answered as someone not registered (it was a 400, and the person heard nothing), never
    applied as our 张伟."""
    live, before = dt
    body, session = live.dingtalk.robot_body("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping")
    if change == "no staff id":
        del body["senderStaffId"]
    elif change == "empty staff id":
        body["senderStaffId"] = ""
    else:
        body["senderCorpId"] = "ding-another-corp"
    assert live.dingtalk.robot_message(body).status_code == 200
    reply = live.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session)
    assert "只有本企业登记过的成员" in reply.text
    settle(live)
    after = snapshot(live.relay)
    assert {k: v for k, v in after.items() if k not in ("outbox", "inbound_messages")} == \
        {k: v for k, v in before.items() if k not in ("outbox", "inbound_messages")}


def test_reply_goes_through_the_session_webhook_once(dt):
    live, _ = dt
    assert "5/200" in live.say("zhangwei", "报工 SO-1001 5")
    reply = live.dingtalk.sends_to("session")[0]
    assert reply.payload["msgtype"] == "markdown" and reply.payload["markdown"]["title"]


# -- cards --------------------------------------------------------------------------------------

def handoff_card(live) -> str:
    live.say("zhangwei", "报工 SO-1001 200")
    sent = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
    settle(live)
    return sent.payload["body"]["outTrackId"]


def test_a_dispute_on_the_second_of_two_batches_disputes_that_batch(dt):
    """Two batches wait (60, then 140); 数量不符 is pressed on the 140 card and 110 answered:
    the 140 batch is disputed, the 60 one still waits (the answer used to dispute the oldest)."""
    live, _ = dt
    live.say("zhangwei", "报工 SO-1001 90")
    live.say("zhangwei", "交接 SO-1001 60")
    assert "已报工" in live.say("zhangwei", "报工 SO-1001 110")   # done: the other 140 handed over
    settle(live)
    tracks = [m.payload["body"]["outTrackId"] for m in live.dingtalk.sent if m.api == "card" and m.target == "cid-welding"]
    assert len(tracks) == 2
    resp = live.dingtalk.click(tracks[1], "dt-lina", "dispute")
    assert "交接单上是 140 件" in resp.json()["message"]
    reply = live.say("lina", "110", chat="wr-welding")
    assert "110" in reply and "140" in reply, reply
    with live.session() as s:
        rows = [(h.quantity, h.status, h.received_qty) for h in s.scalars(select(Handoff).order_by(Handoff.id))]
    assert [r[:2] for r in rows] == [(60, "pending"), (140, "disputed")] and rows[1][2] == 110
    assert step(live, seq=2).received_qty == 110


def test_undoing_the_report_closes_its_handoff_cards_and_tells_downstream(dt):
    """The report that handed 200 over is undone: the handoff is withdrawn, its cards on both
    platforms show it instead of live buttons, and the welding group is told not to receive."""
    live, _ = dt
    track = handoff_card(live)
    assert "撤销" in live.say("zhangwei", "撤销")
    settle(live)
    with live.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "withdrawn"
        cards = s.scalars(select(Card).where(Card.kind == "handoff")).all()
        assert cards and {(c.status, c.decision) for c in cards} == {("decided", "withdrawn")}
    update = live.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track)
    params = update.payload["cardData"]["cardParamMap"]
    assert json.loads(params["buttons"]) == [] and "交接已撤回" in params["outcome"]
    told = live.dingtalk.wait_for(lambda m: m.target == "cid-welding" and "交接撤回" in m.text)
    assert "200 件" in told.text and "不用接收" in told.text
    resp = live.dingtalk.click(track, "dt-lina", "confirm")          # a press on the old card changes nothing
    assert resp.status_code in (200, 409)
    assert step(live, seq=2).received_qty == 0


def test_a_corrected_batch_shows_its_new_quantity_on_its_cards(dt):
    """The report that handed 200 over is corrected to 190 while welding has not confirmed: the
    open cards say 190 (buttons kept); the press then books 190 and the card shows it decided."""
    from storage.models import Report
    live, _ = dt
    track = handoff_card(live)
    assert "200" in live.dingtalk.cards[track]["cardData"]["cardParamMap"]["markdown"]
    with live.session() as s:
        report_id = s.scalars(select(Report.id)).one()
    assert "已更正" in live.say("qianzhuren", f"更正 R-{report_id} 190 不良 10", chat=None)
    settle(live)
    update = live.dingtalk.wait_for(lambda m: m.api == "card_update" and m.target == track)
    params = update.payload["cardData"]["cardParamMap"]
    assert "**190** 件" in params["markdown"] and "200" not in params["markdown"]
    assert [b["action"] for b in json.loads(params["buttons"])] == ["confirm", "dispute"]
    with live.session() as s:
        assert {c.status for c in s.scalars(select(Card).where(Card.kind == "handoff"))} == {"open"}
    resp = live.dingtalk.click(track, "dt-lina", "confirm")
    assert resp.status_code == 200 and "李娜 已确认接收" in resp.json()["cardData"]["cardParamMap"]["outcome"]
    assert step(live, seq=2).received_qty == 190


def test_handoff_card_confirmed_by_the_downstream_lead(dt):
    live, _ = dt
    track = handoff_card(live)
    resp = live.dingtalk.click(track, "dt-lina", "confirm")
    assert resp.status_code == 200
    params = resp.json()["cardData"]["cardParamMap"]
    assert "李娜 已确认接收" in params["outcome"] and json.loads(params["buttons"]) == []
    assert step(live, seq=2).status == "ready" and step(live, seq=2).received_qty == 200
    with live.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "confirmed"
        card = s.scalars(select(Card).where(Card.track_id == track)).one()
        assert (card.status, card.decision) == ("decided", "confirm")
    events = [e.kind for e in __import__("tests.test_commands", fromlist=["events"]).events(live)]
    assert events[-2:] == ["handoff_confirmed", "order_status"] or "handoff_confirmed" in events


def test_replayed_click_changes_nothing(dt):
    live, _ = dt
    track = handoff_card(live)
    assert live.dingtalk.click(track, "dt-lina", "confirm").status_code == 200
    before = snapshot(live.relay)
    again = live.dingtalk.click(track, "dt-wangqiang", "confirm")
    assert again.status_code == 200 and "已经处理过" in again.json()["message"]
    assert snapshot(live.relay) == before
    assert step(live, seq=2).received_qty == 200


def test_click_by_someone_who_may_not_act_is_refused(dt):
    live, _ = dt
    track = handoff_card(live)
    before = snapshot(live.relay)
    resp = live.dingtalk.click(track, "dt-zhangwei", "confirm")  # stamping lead, not welding
    assert resp.status_code == 403 and "没有权限" in resp.json()["message"]
    assert snapshot(live.relay) == before
    resp = live.dingtalk.click(track, "dt-stranger", "confirm")
    assert resp.status_code == 403 and snapshot(live.relay) == before


def test_click_on_a_card_we_never_sent_is_refused(dt):
    live, before = dt
    resp = live.dingtalk.click("lr_forged-track-id", "dt-lina", "confirm", url=live.dingtalk.callback_routes["linerelay"])
    assert resp.status_code == 404 and unchanged(live, before)


def test_card_callback_without_the_secret_is_refused(dt):
    live, _ = dt
    track = handoff_card(live)
    before = snapshot(live.relay)
    resp = live.dingtalk.click(track, "dt-lina", "confirm", url=f"{live.url}/dingtalk/card?token=guess")
    assert resp.status_code == 403 and snapshot(live.relay) == before
    resp = requests.post(live.dingtalk.callback_routes["linerelay"], data=b"{nope")
    assert resp.status_code == 400 and snapshot(live.relay) == before


# -- pushes -------------------------------------------------------------------------------------

def test_custom_robot_webhook_is_signed_with_its_secret(dt):
    live, _ = dt
    # painting's DingTalk group is bound through a custom robot with SEC signing
    with live.relay.Session.begin() as s:
        from storage.directory import workshop_by_name
        painting = workshop_by_name(s, "涂装")
        live.relay.enqueue_notice(s, Notice(painting.id, "notices/handoff", {
            "order_no": "SO-1001", "product": "车门总成", "from_workshop": "焊接", "to_workshop": "涂装",
            "quantity": 5}, key="t1"))
    live.relay.dispatcher.run_once()
    sent = live.dingtalk.wait_for(lambda m: m.api == "custom_webhook")
    assert sent.target == "custom-robot-token-painting" and "SO-1001" in sent.text


def group_notice(live, key):
    with live.relay.Session.begin() as s:
        from storage.directory import workshop_by_name
        welding = workshop_by_name(s, "焊接")
        live.relay.enqueue_notice(s, Notice(welding.id, "notices/handoff", {
            "order_no": key, "product": "车门总成", "from_workshop": "冲压", "to_workshop": "焊接", "quantity": 1}, key=key))


def test_group_messages_through_the_openapi_respect_20_per_minute(dt):
    live, _ = dt
    for i in range(22):
        group_notice(live, f"N-{i}")
    live.relay.dispatcher.run_once()
    sent = live.dingtalk.sends_to("group_message", "cid-welding")
    assert len(sent) == 20 and sent[0].payload["msgKey"] == "sampleMarkdown"
    with live.session() as s:
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "dingtalk",
                                                        OutboxMessage.status == "pending")).all()
        assert len(waiting) == 2 and all(m.attempts == 0 and m.next_attempt_at > live.relay.clock.now() for m in waiting)


def test_throttled_custom_robot_backs_off_ten_minutes(dt):
    live, _ = dt
    live.dingtalk.fail_next(("errcode", 130101))
    with live.relay.Session.begin() as s:
        from storage.directory import workshop_by_name
        live.relay.enqueue_notice(s, Notice(workshop_by_name(s, "涂装").id, "notices/handoff", {
            "order_no": "SO-1", "product": "p", "from_workshop": "a", "to_workshop": "b", "quantity": 1}, key="thr"))
    live.relay.dispatcher.run_once()
    with live.session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "custom_webhook")).one()
        assert row.status == "pending" and row.next_attempt_at >= live.relay.clock.now() + timedelta(seconds=590)
    live.relay.clock.advance(timedelta(minutes=11))
    live.relay.dispatcher.run_once()
    assert len(live.dingtalk.sends_to("custom_webhook")) == 1


def test_access_token_refreshed_when_dingtalk_refuses_it(dt):
    live, _ = dt
    group_notice(live, "A")
    live.relay.dispatcher.run_once()
    live.dingtalk.expire_tokens()
    group_notice(live, "B")
    live.relay.dispatcher.run_once()
    assert len(live.dingtalk.sends_to("group_message")) == 2


def test_rate_limiter_frees_after_the_window():
    now = [0.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    assert limiter.acquire("r") == 0 and limiter.acquire("r") == 0
    assert limiter.acquire("r") == pytest.approx(60)
    now[0] = 61
    assert limiter.acquire("r") == 0


# -- one plant, two platforms -------------------------------------------------------------------

def test_a_report_from_wecom_shows_in_progress_asked_from_dingtalk(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 120", platform="wecom")
    reply = live.say("zhouzong", "进度 SO-1001", chat=None, platform="dingtalk")
    assert "120/200" in reply and "冲压" in reply
    live.say("zhangwei", "报工 SO-1001 80", platform="dingtalk")
    assert "200/200" in live.say("zhouzong", "进度 SO-1001", chat=None, platform="wecom")
    wait_until(lambda: live.twin.sends_to("webhook", "key-welding"))


@pytest.mark.parametrize("transcript", [None, ""])
def test_a_voice_message_nothing_was_recognised_in_is_answered_not_refused(dt, transcript):
    """DingTalk's audio without a transcript (no `recognition`, or an empty one): acknowledged,
    and the person is asked to say it again or type it; nothing changes."""
    live, before = dt
    resp, session = live.dingtalk.robot_audio("dt-zhangwei", transcript)
    assert resp.status_code == 200, resp.text
    assert "没听清" in live.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session).text
    settle(live)
    after = snapshot(live.relay)
    assert {k: v for k, v in after.items() if k not in ("outbox", "inbound_messages")} == \
        {k: v for k, v in before.items() if k not in ("outbox", "inbound_messages")}
