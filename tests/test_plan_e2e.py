"""The one plan, end to end through the twins: every place a person reads a date says the same
thing, in working time, and a rush order's card says who it would push."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import requests
from sqlalchemy import select

from bot.handlers.base import limits_for
from bot.jobs import run_job
from bot.demo.seed import seed_demo
from storage.models import DelayWarning, OutboxMessage, Step
from tests.helpers import settle

WEDNESDAY = date(2026, 11, 25)
TOKEN = "demo-board-token-hall-1-0123"
KEY = {"Authorization": "Bearer demo-api-key-change-me-0123456789"}


def at(live, day: date, hh: int, mm: int = 0) -> None:
    live.relay.clock.set_local(datetime(day.year, day.month, day.day, hh, mm))


def test_a_report_at_2211_and_everything_that_shows_its_forecast_agree(live):
    at(live, WEDNESDAY, 9)
    live.add_order("SO-1001", quantity=200, days=1)          # due Thursday; 11.5 working hours of work
    at(live, WEDNESDAY, 22, 11)
    reply = live.say("zhangwei", "报工 SO-1001 150")
    # 50 left at the standard 120/h: 25 minutes from 08:00 Thursday, not 22:36 tonight
    assert "预计完工 11-26 08:25" in reply
    progress = live.say("zhangwei", "进度 SO-1001")
    assert "预计 11-26 08:25" in progress
    # welding 3 h 20 min from 08:25; painting 2.5 h over lunch; assembly 4 h into Friday 09:45
    assert "整单预计 11-27 09:45 完工" in progress and "晚于交期" in progress
    order = requests.get(f"{live.url}/api/orders/SO-1001", headers=KEY).json()
    assert order["steps"][0]["projected_end"] == "2026-11-26T08:25:00+08:00"
    assert order["projected_end"] == "2026-11-27T09:45:00+08:00" and order["late_minutes"] == 105
    assert [s["projected_end"][11:16] for s in order["steps"]] == ["08:25", "11:45", "15:15", "09:45"]
    page = requests.get(f"{live.url}/board/orders/SO-1001", params={"token": TOKEN}).text
    assert "预计 11-26 08:25" in page
    assert run_job(live.relay, "delay-scan")["warnings"] == 1
    with live.session() as s:
        warning = s.scalars(select(DelayWarning)).one()
        stamping = s.get(Step, warning.step_id)
        assert stamping.seq == 1 and warning.projected_end == stamping.forecast_end == datetime(2026, 11, 26, 0, 25)
        held = s.scalars(select(OutboxMessage).where(OutboxMessage.target == "key-stamping")).all()
        assert any("预计 11-26 08:25" in (m.payload.get("markdown", {}) or {}).get("content", "") for m in held)
    change = live.say("chenjing", "变更 SO-1001 交期 12-05", chat=None)
    assert "预计完工：11-27 09:45 → 11-27 09:45" in change and "能按期" in change


def test_no_forecast_falls_outside_working_time_or_before_its_feeder(live):
    at(live, WEDNESDAY, 9)
    for i, qty in enumerate((200, 120, 300, 80)):
        live.add_order(f"SO-10{i:02d}", quantity=qty, days=2 + i, priority=1 + i % 3)
    at(live, WEDNESDAY, 22, 11)
    live.say("zhangwei", "报工 SO-1000 50")
    run_job(live.relay, "replan")
    with live.session() as s:
        steps = s.scalars(select(Step).order_by(Step.order_id, Step.seq)).all()
        for step in steps:
            started = step.first_report_at is not None    # a started step's start is history, not a forecast
            for when in (None if started else step.forecast_start, step.forecast_end, step.planned_start,
                         step.planned_end):
                if when is None:
                    continue
                local = when + timedelta(hours=8)
                minutes = local.hour * 60 + local.minute
                assert local.weekday() < 5 and (8 * 60 <= minutes <= 12 * 60 or 13 * 60 <= minutes <= 17 * 60 + 30), \
                    (step.id, when)
        by_order: dict[int, list[Step]] = {}
        for step in steps:
            by_order.setdefault(step.order_id, []).append(step)
        for route in by_order.values():
            ends = [s.forecast_end for s in route]
            assert ends == sorted(ends)


def test_the_rush_order_of_800_seat_frames_due_tomorrow_is_not_feasible(live):
    at(live, WEDNESDAY, 9, 30)
    with live.relay.Session.begin() as session:
        seed_demo(session, live.relay.clock, limits_for(live.relay.settings))
    reply = live.say("chenjing", "插单 SO-3001 座椅骨架 800 交期 11-26 原因 主机厂急单", chat=None)
    # 800 at 150/70/90 an hour is 25.7 working hours: three working days, not one and a half
    assert "⚠️ 赶不上交期" in reply and "能按期" not in reply.split("预计完工")[1].split("\n")[0]
    pushed = reply.split("批准后：")[1]
    assert "由按期变为晚" in pushed and "（冲压）" in pushed or "（焊接）" in pushed
    settle(live)
    card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-managers")
    markdown = card.payload["body"]["cardData"]["cardParamMap"]["markdown"]
    assert "赶不上交期" in markdown and "批准后：" in markdown
