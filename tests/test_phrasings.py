"""Every phrasing of tests/phrasings.py through a real callback (WeCom and DingTalk in turn),
with its one expected result: applied with exactly these numbers to exactly this order and
workshop; a confirmation asked with this reading, nothing applied until `是`; a question asked
and answered; or refused, naming the word, with the database as it was."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import Card, ChangeRequest, DelayWarning, Handoff, Incident, Order, Question, Report, Step
from tests.helpers import dingtalk_user, snapshot
from tests.phrasings import CASES, Answered, Applied, Case, Confirm, Question as Asks, Refused

# What a refusal or a question may touch: the message's own record, its reply, the question.
BOOKKEEPING = {"inbound_messages", "outbox", "rate_keys", "rate_sends"}


@pytest.fixture
def world(live):
    """The plant of tests/phrasings.py, at 09:41 on Wednesday 2026-11-25."""
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 30))
    for no, product, qty in (("SO-1012", "车门总成", 200), ("SO-1013", "座椅骨架", 200), ("SO-1014", "车门总成", 1000),
                             ("SO-1015", "车门总成", 100), ("SO-1016", "座椅骨架", 150), ("SO-1017", "车门总成", 200)):
        live.add_order(no, product=product, quantity=qty, days=20)
    for text in ("报工 SO-1014 20", "报工 SO-1014 30", "报工 SO-1015 100", "报工 SO-1016 10", "报工 SO-1017 10"):
        assert "已报工" in live.say("zhangwei", text), text
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1017 设备 冲床坏了")
    with live.relay.Session.begin() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1012", Step.seq == 1)).one()
        s.add(DelayWarning(step_id=step.id, level="late", created_at=live.relay.clock.now()))
    live.relay.clock.advance(timedelta(minutes=11))
    return live


def send(live, case: Case, text: str) -> str:
    """`text` as `case.user` in `case.chat` on the live platform; voice when it starts with 🎤."""
    if text.startswith("🎤"):
        spoken = text[1:]
        if live.platform == "dingtalk":
            resp, session = live.dingtalk.robot_audio(dingtalk_user(case.user), spoken)
            assert resp.status_code == 200, resp.text
            return live.dingtalk.wait_for(lambda s: s.api == "session" and s.target == session).text
        result = live.twin.aibot_voice(case.user, spoken)
        assert result.status == 200, result.raw
        return result.reply["stream"]["content"]
    return live.say(case.user, text, chat=case.chat)


def prepare(live, case: Case) -> dict:
    found: dict = {}
    if "R" in case.setup:
        assert "已报工" in live.say("zhangwei", "报工 SO-1013 5")
        with live.session() as s:
            found["report"] = s.scalars(select(Report.id).order_by(Report.id.desc())).first()
    if "T" in case.setup:
        assert "已报工" in live.say("zhangwei", "报工 SO-1014 10")
    if "D" in case.setup:
        press_dispute(live)
    return found


def press_dispute(live) -> None:
    """李娜 presses 数量不符 on the SO-1015 handoff card (hers on WeCom, the group's on DingTalk)."""
    if live.platform == "dingtalk":
        card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
        resp = live.dingtalk.click(card.payload["body"]["outTrackId"], dingtalk_user("lina"), "dispute")
        assert resp.status_code == 200 and "实际收到多少件" in resp.json()["message"]
        return
    card = live.twin.wait_for(lambda m: m.api == "message" and "lina" in m.target.split("|")
                              and "template_card" in m.payload)
    assert live.twin.card_click("lina", card.payload["template_card"]["task_id"], "dispute").status == 200


def state(live) -> dict:
    """The rows an action may change, in words a case can name."""
    with live.session() as s:
        def where(step_id):
            st = s.get(Step, step_id)
            return st.order.order_no, st.workshop.name
        return {
            "reports": {r.id: (*where(r.step_id), r.good, r.scrap, r.note, r.undone_at is not None)
                        for r in s.scalars(select(Report))},
            "handoffs": {h.id: (where(h.from_step_id)[0], h.status, h.quantity, h.received_qty)
                         for h in s.scalars(select(Handoff))},
            "incidents": {i.id: (*where(i.step_id), i.category, i.description, _local(live, i.expected_recovery),
                                 i.closed_at is not None, i.blocking) for i in s.scalars(select(Incident))},
            "requests": {r.id: (r.kind, r.payload) for r in s.scalars(select(ChangeRequest))},
            "acked": len(list(s.scalars(select(DelayWarning.id).where(DelayWarning.acknowledged_at.is_not(None))))),
        }


def _local(live, at):
    return None if at is None else live.relay.clock.local(at).strftime("%m-%d %H:%M")


def check_applied(before: dict, after: dict, expected: Applied) -> None:
    """Exactly the expected change, nothing else (a completed step's own handoff aside)."""
    new = {k: {i: v for i, v in after[k].items() if before[k].get(i) != v} for k in ("reports", "handoffs", "incidents",
                                                                                      "requests")}
    kind, f = expected.kind, expected.fields
    want = {"reports": {}, "handoffs": {}, "incidents": {}, "requests": {}}
    if kind == "report":
        order, ws, good, scrap, note = f
        got = [v[:4] for v in new["reports"].values()]
        assert got == [(order, ws, good, scrap)], new["reports"]
        if note is not None:
            assert list(new["reports"].values())[0][4] == note
        want["reports"] = new["reports"]   # and the handoff of a step it completed
        want["handoffs"] = {i: v for i, v in new["handoffs"].items() if v[:2] == (order, "pending")}
    elif kind in ("receive", "dispute"):
        status = "confirmed" if kind == "receive" else "disputed"
        assert [(v[0], v[1]) for v in new["handoffs"].values()] == [(f[0], status)], new["handoffs"]
        if kind == "dispute":
            assert list(new["handoffs"].values())[0][3] == f[1]
            assert [v[5] for v in new["incidents"].values()] == [False]   # a dispute blocks nothing
            want["incidents"] = new["incidents"]
        want["handoffs"] = new["handoffs"]
    elif kind == "handoff":
        assert [(v[0], v[1], v[2]) for v in new["handoffs"].values()] == [(f[0], "pending", f[1])], new["handoffs"]
        want["handoffs"] = new["handoffs"]
    elif kind == "undo":
        assert [(v[0], v[2], v[5]) for v in new["reports"].values()] == [(f[0], f[1], True)], new["reports"]
        want["reports"] = new["reports"]
    elif kind == "incident":
        assert [(v[0], v[2], v[3], v[4], v[5]) for v in new["incidents"].values()] == [(f[0], *f[1:], False)], new
        want["incidents"] = new["incidents"]
    elif kind == "resume":
        assert [(v[0], v[5]) for v in new["incidents"].values()] == [(f[0], True)], new["incidents"]
        want["incidents"] = new["incidents"]
    elif kind == "request":
        got = list(new["requests"].values())
        assert len(got) == 1 and got[0][0] == f[0], got
        assert {k: got[0][1].get(k) for k, _ in f[1]} == dict(f[1]), got
        want["requests"] = new["requests"]
    elif kind == "ack":
        assert after["acked"] - before["acked"] == f[0]
    assert new == want, f"more changed than {expected}: {new}"
    if kind != "ack":
        assert after["acked"] == before["acked"]


def unchanged(before: dict, after: dict, also: set[str] = frozenset()) -> None:
    for table in before:
        if table not in BOOKKEEPING | also:
            assert after[table] == before[table], f"{table} changed"


def confirm_cards(live) -> list[tuple[str, str | None]]:
    with live.session() as s:
        return [(c.status, c.decision) for c in s.scalars(select(Card).where(Card.kind == "confirm"))]


def questions(live) -> list[tuple[str, str]]:
    with live.session() as s:
        return [(q.kind, q.command) for q in s.scalars(select(Question))]


@pytest.mark.parametrize("index, case", list(enumerate(CASES)), ids=[f"{i}-{c.text[:18]}" for i, c in enumerate(CASES)])
def test_phrasing(world, index, case):
    world.platform = "wecom" if index % 2 == 0 else "dingtalk"
    found = prepare(world, case)
    text = case.text.format(**found)
    expect = case.expect
    rows, before = snapshot(world.relay), state(world)
    reply = send(world, case, text)
    if isinstance(expect, Applied):
        check_applied(before, state(world), expect)
        assert "✅" in reply or "📦" in reply or "⚠️" in reply or "🚚" in reply or "↩️" in reply \
            or "🚨" in reply or "📝" in reply or "👀" in reply, reply
        if case.extra.get("reply"):
            assert case.extra["reply"] in reply
    elif isinstance(expect, Refused):
        assert expect.says in reply, reply
        unchanged(rows, snapshot(world.relay))
    elif isinstance(expect, Answered):
        assert expect.says in reply, reply
        unchanged(rows, snapshot(world.relay), also={"questions"})
    elif isinstance(expect, Confirm):
        assert "是不是要" in reply and expect.reading in reply, reply
        # The reading was tried and rolled back; the planner may still re-plan the order it touched
        # (the steps' plan bookkeeping), so the domain rows are compared here instead of `steps`.
        unchanged(rows, snapshot(world.relay), also={"questions", "steps", "cards"})
        assert state(world) == before
        assert [k for k, _ in questions(world)] == ["confirm"]
        # in a DingTalk group the question also comes as a 确认/取消 card (bot/answers.py)
        buttons = world.platform == "dingtalk" and case.chat is not None
        assert confirm_cards(world) == ([("open", None)] if buttons else [])
        reply = send(world, case, "是")
        check_applied(before, state(world), expect.then)
        assert questions(world) == []
        assert confirm_cards(world) == ([("decided", "replaced")] if buttons else [])
    elif isinstance(expect, Asks):
        if expect.asked:
            assert expect.asked in reply, reply
            unchanged(rows, snapshot(world.relay), also={"questions"})
            reply = send(world, case, expect.answer)
        check_applied(before, state(world), expect.then)
        assert questions(world) == []
