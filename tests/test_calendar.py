"""The plant's own calendar through the twins: closures and overtime typed in chat re-plan and
tell the groups what moved; a year without holiday data is said, not silently Monday to Friday;
the Excel import reports bad rows by line; the REST API does the same as chat."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import requests
from openpyxl import Workbook
from sqlalchemy import select

from bot.calendar_import import run_calendar_import
from bot.jobs import run_job
from storage.models import CalendarDay, CalendarYear, Order, Step, Workshop
from tests.helpers import settle, snapshot
from tests.test_sandbox import sandbox  # noqa: F401,F811  (the fixture)

KEY = {"Authorization": "Bearer demo-api-key-change-me-0123456789"}
TOKEN = "demo-board-token-hall-1-0123"


def at(live, day: date, hh: int, mm: int = 0) -> None:
    live.relay.clock.set_local(datetime(day.year, day.month, day.day, hh, mm))


def local(utc: datetime) -> datetime:
    """Naive UTC from the database → factory time (Asia/Shanghai has no daylight saving)."""
    return utc + timedelta(hours=8)


def forecast(live, order_no: str, workshop: str) -> datetime:
    with live.session() as s:
        return s.scalars(select(Step.forecast_end).join(Order).join(Workshop).where(
            Order.order_no == order_no, Workshop.code == workshop)).one()


def texts(live, key: str) -> list[str]:
    return [m.text for m in live.twin.sends_to("webhook", key)]


def test_a_spring_festival_closure_typed_in_chat_moves_forecasts_past_it_and_tells_the_groups(live):
    at(live, date(2027, 1, 27), 9)                      # a Wednesday, ten days of work before the holiday ends
    live.add_order("SO-3001", quantity=1200, days=30)   # 69 working hours along its route
    before = forecast(live, "SO-3001", "assembly")
    assert local(before).date() < date(2027, 2, 21)
    refused = live.say("zhangwei", "停产 2027-02-01 至 2027-02-21 春节", chat=None)
    assert "只有管理员和经理" in refused
    reply = live.say("sungong", "停产 2027-02-01 至 2027-02-21 春节", chat=None)
    assert "已登记停产：02-01 至 02-21 全厂（春节）" in reply and "1 个订单的预计完工有变化" in reply
    after = forecast(live, "SO-3001", "assembly")
    assert local(after).date() >= date(2027, 2, 22)
    with live.session() as s:
        assert s.scalar(select(CalendarDay.note).where(CalendarDay.day == date(2027, 2, 10))) == "春节"
        for step in s.scalars(select(Step)):
            for when in (step.forecast_start, step.forecast_end):
                assert not date(2027, 2, 1) <= local(when).date() <= date(2027, 2, 21)
    settle(live)
    told = [t for t in texts(live, "key-assembly") if "日历变更" in t]
    assert told and "SO-3001" in told[0] and "（推迟）" in told[0] and local(after).strftime("%m-%d %H:%M") in told[0]
    assert any("日历变更" in t and "SO-3001" in t for t in texts(live, "key-managers"))


def test_an_overtime_saturday_for_one_workshop_moves_only_its_queue(live):
    wednesday = date(2026, 11, 25)
    at(live, wednesday, 9)
    live.add_order("SO-4000", quantity=120, days=10)
    live.say("zhangwei", "报工 SO-4000 120")
    live.say("lina", "接收 SO-4000", chat="wr-welding")            # SO-4000 is at welding now
    for i in range(1, 5):                                            # 33 hours of stamping queued
        live.add_order(f"SO-40{i:02d}", quantity=1000, days=20, priority=3)
    stamping_before = forecast(live, "SO-4004", "stamping")
    welding_before = forecast(live, "SO-4000", "welding")
    assert local(stamping_before).date() > date(2026, 11, 28)       # past the weekend
    reply = live.say("sungong", "加班 11-28 冲压 08:00-17:00", chat=None)
    assert "已登记加班：11-28 冲压 08:00-17:00" in reply
    stamping_after = forecast(live, "SO-4004", "stamping")
    assert stamping_after < stamping_before                          # Saturday's 9 hours pull it forward
    # welding works no Saturday: unmoved (but for the seconds the test's clock ran meanwhile)
    assert abs((forecast(live, "SO-4000", "welding") - welding_before).total_seconds()) < 60
    settle(live)
    told = [t for t in texts(live, "key-stamping") if "日历变更" in t]
    assert told and "SO-4004" in told[0] and "（提前）" in told[0]
    assert not [t for t in texts(live, "key-painting") if "日历变更" in t and "SO-4000" in t]


def days_on_record(live) -> list[tuple]:
    with live.session() as s:
        return sorted((d.day, d.kind, d.spans, d.note) for d in s.scalars(select(CalendarDay)))


def test_ranges_and_hours_as_people_write_them(live):
    """`12月20号至12月22号`, `12月20日到22日` (the end without its month), `晚上6点到10点`: each
    day of the range closed, the hours read as hours, the note only the note."""
    at(live, date(2026, 11, 25), 9)
    live.add_order("SO-4100", quantity=120, days=10)
    reply = live.say("sungong", "停产 12月20号至12月22号 检修", chat=None)
    assert "已登记停产：12-20 至 12-22 全厂（检修）" in reply, reply
    assert [(d[0], d[3]) for d in days_on_record(live)] == [(date(2026, 12, day), "检修") for day in (20, 21, 22)]
    reply = live.say("sungong", "停产 12月28日到3日 盘点", chat=None)   # over the month's end
    assert "已登记停产：12-28 至 01-03 全厂（盘点）" in reply, reply
    assert [d[0] for d in days_on_record(live) if d[3] == "盘点"] == \
        [date(2026, 12, 28) + timedelta(days=i) for i in range(7)]
    reply = live.say("sungong", "加班 12月19日 冲压 晚上6点到10点", chat=None)
    assert "已登记加班：12-19 冲压 18:00-22:00" in reply, reply
    assert [(d[1], d[2], d[3]) for d in days_on_record(live) if d[0] == date(2026, 12, 19)] == \
        [("extra", "18:00-22:00", "")]


def closed(live) -> list[tuple]:
    """(day, workshop code or None, kind, spans, note) of every day on record."""
    with live.session() as s:
        codes = {w.id: w.code for w in s.scalars(select(Workshop))}
        return sorted(((d.day, codes.get(d.workshop_id), d.kind, d.spans, d.note) for d in s.scalars(select(CalendarDay))),
                      key=lambda r: (r[0], r[1] or ""))


D5, D6, D7 = date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)


@pytest.mark.parametrize("text, expected", [
    # two workshops: each of them, never the whole plant with the names in the note
    ("停产 12-05 冲压和焊接", [(D5, "stamping", "closed", "", ""), (D5, "welding", "closed", "", "")]),
    ("停产 12-05 焊接 冲压 检修", [(D5, "stamping", "closed", "", "检修"), (D5, "welding", "closed", "", "检修")]),
    # a range however its dash is written: every day of it
    ("停产 12月5日-7日", [(d, None, "closed", "", "") for d in (D5, D6, D7)]),
    ("停产 12月5-7日", [(d, None, "closed", "", "") for d in (D5, D6, D7)]),
    ("停产 12/5-12/7", [(d, None, "closed", "", "") for d in (D5, D6, D7)]),
    ("停产 12-05-12-07 冲压", [(d, "stamping", "closed", "", "") for d in (D5, D6, D7)]),
    # evening hours however the evening is said
    ("加班 12-05 冲压 晚6点到10点", [(D5, "stamping", "extra", "18:00-22:00", "")]),
    ("加班 12-05 冲压 晚上6:00-10:00", [(D5, "stamping", "extra", "18:00-22:00", "")]),
    ("加班 12-05 冲压 18-22点", [(D5, "stamping", "extra", "18:00-22:00", "")]),
    # hours without 上午/下午 run forward from their start, as a working day does (they booked 08:00-05:00)
    ("加班 12-05 冲压 8点到5点", [(D5, "stamping", "extra", "08:00-17:00", "")]),
    ("加班 12-05 冲压 8点半到5点半", [(D5, "stamping", "extra", "08:30-17:30", "")]),
    ("加班 12-05 焊接 8点到12点 1点到5点", [(D5, "welding", "extra", "08:00-12:00,13:00-17:00", "")]),
    ("加班 12-05 冲压 八点到十七点", [(D5, "stamping", "extra", "08:00-17:00", "")]),
    ("加班 12-05 冲压 晚上6点到12点", [(D5, "stamping", "extra", "18:00-24:00", "")]),
    # days named as people say them (Wednesday 11-25)
    ("停产 本周五 冲压 检修", [(date(2026, 11, 27), "stamping", "closed", "", "检修")]),
    ("加班 周六 冲压 8:00-17:00", [(date(2026, 11, 28), "stamping", "extra", "08:00-17:00", "")]),
    ("停产 下周一至下周二 全厂 停电", [(d, None, "closed", "", "停电") for d in (date(2026, 11, 30), date(2026, 12, 1))]),
])
def test_calendar_entries_as_planners_type_them(live, text, expected):
    at(live, date(2026, 11, 25), 9)
    reply = live.say("sungong", text, chat=None)
    assert "已登记" in reply, reply
    assert closed(live) == expected


@pytest.mark.parametrize("text, says", [
    ("停产 12-05 12-06", "一条只能写一个日期"),            # a list of days: not only the first
    ("停产 12月5日、6日", "一条只能写一个日期"),
    ("停产 12-05 冲压 下午", "停半天请改当天的工作时间"),      # half a day: not the whole day
    ("加班 12-05 冲压 4小时", "「4小时」看不懂"),             # hours not read: not a normal day
    ("加班 12-05 冲压 晚上加班2小时", "看不懂"),
])
def test_calendar_entries_that_would_book_the_wrong_days_are_refused(live, text, says):
    at(live, date(2026, 11, 25), 9)
    before = snapshot(live.relay)
    reply = live.say("sungong", text, chat=None)
    assert says in reply, reply
    settle(live)
    after = snapshot(live.relay)
    assert {k: v for k, v in after.items() if k not in ("outbox", "inbound_messages")} == \
        {k: v for k, v in before.items() if k not in ("outbox", "inbound_messages")}


def test_a_year_without_holiday_data_is_reported_and_its_dates_are_provisional(live):
    at(live, date(2026, 11, 25), 9)
    live.add_order("SO-5001", quantity=2000, days=40)               # due in January 2027
    assert run_job(live.relay, "calendar-check")["unknown_years"] == [2027]
    assert run_job(live.relay, "calendar-check")["told"] == 0       # once a day
    live.relay.dispatcher.run_once()
    settle(live)
    admin = live.twin.wait_for(lambda m: m.api == "message" and m.target == "sungong" and "2027" in m.text)
    assert "2027 年法定节假日尚未录入：请导入或确认" in admin.text
    ready = requests.get(f"{live.url}/readyz").json()
    assert ready["calendar"]["status"] == "provisional" and ready["calendar"]["unknown_years"] == [2027]
    order = requests.get(f"{live.url}/api/orders/SO-5001", headers=KEY).json()
    assert order["steps"][-1]["provisional"] is True and order["provisional"] is True
    progress = live.say("zhangwei", "进度 SO-5001")
    assert "（暂定）" in next(line for line in progress.splitlines() if "整单预计" in line), progress
    page = requests.get(f"{live.url}/board/orders/SO-5001", params={"token": TOKEN}).text
    assert "暂定：该年节假日未确认" in page
    assert "已确认 2027 年" in live.say("sungong", "确认节假日 2027", chat=None)
    order = requests.get(f"{live.url}/api/orders/SO-5001", headers=KEY).json()
    assert order["steps"][-1]["provisional"] is False and order["provisional"] is False
    assert requests.get(f"{live.url}/readyz").json()["calendar"]["unknown_years"] == []


def test_the_excel_import_reports_bad_rows_by_line_and_applies_the_rest(live, tmp_path, capsys):
    at(live, date(2026, 11, 25), 9)
    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "车间", "工作时间", "备注"])
    sheet.append([date(2026, 12, 5), "冲压", "08:00-17:00", "赶货"])    # line 2
    sheet.append(["2026-13-01", "", "休", ""])                          # line 3: no such month
    sheet.append(["2026-12-06", "喷漆X", "休", ""])                     # line 4: no such workshop
    sheet.append(["2026-12-07", "焊接", "8点到12点", ""])                # line 5: hours unreadable
    sheet.append(["2026/12/24", None, "休", "盘点"])                     # line 6
    path = tmp_path / "calendar.xlsx"
    book.save(path)
    before = snapshot(live.relay)
    assert run_calendar_import(live.relay, path) == 1
    err = capsys.readouterr().err
    assert "line 3:" in err and "line 4:" in err and "喷漆X" in err and "line 5:" in err and "8点到12点" in err
    assert "line 2:" not in err and "line 6:" not in err
    with live.session() as s:
        days = {(d.day, d.workshop.code if d.workshop else None, d.kind, d.spans)
                for d in s.scalars(select(CalendarDay))}
    assert days == {(date(2026, 12, 5), "stamping", "hours", "08:00-17:00"), (date(2026, 12, 24), None, "closed", "")}
    assert snapshot(live.relay)["orders"] == before["orders"]


def test_the_calendar_over_rest_and_on_the_board(live):
    at(live, date(2026, 11, 25), 9)
    live.add_order("SO-6001", quantity=600, days=5)
    bad = requests.put(f"{live.url}/api/calendar/days", json={"from": "2026-11-25", "kind": "closed",
                                                              "hours": ["08:00-12:00"]}, headers=KEY)
    assert bad.status_code == 422
    put = requests.put(f"{live.url}/api/calendar/days", json={"from": "2026-11-25", "days": 2, "kind": "closed",
                                                              "workshop": "stamping", "note": "检修"}, headers=KEY)
    assert put.status_code == 200 and put.json()["moved"] == ["SO-6001"]
    assert local(forecast(live, "SO-6001", "stamping")).date() == date(2026, 11, 27)
    listed = requests.get(f"{live.url}/api/calendar", params={"from": "2026-11-25", "days": 3}, headers=KEY).json()
    assert [(d["date"], d["workshop"], d["kind"]) for d in listed["days"]] == \
        [("2026-11-25", "stamping", "closed"), ("2026-11-26", "stamping", "closed")]
    board = requests.get(f"{live.url}/board", params={"token": TOKEN}).text
    assert "今日停工：冲压" in board
    cleared = requests.delete(f"{live.url}/api/calendar/days", params={"from": "2026-11-25", "days": 2,
                                                                      "workshop": "stamping"}, headers=KEY)
    assert cleared.status_code == 200 and local(forecast(live, "SO-6001", "stamping")).date() == date(2026, 11, 25)
    assert "今日停工" not in requests.get(f"{live.url}/board", params={"token": TOKEN}).text
    year = requests.post(f"{live.url}/api/calendar/years/2027", headers=KEY)
    assert year.status_code == 200 and year.json()["new"] is True
    with live.session() as s:
        assert s.get(CalendarYear, 2027) is not None


def test_the_sandbox_shows_the_next_30_days_per_workshop(sandbox):  # noqa: F811
    page = requests.get(f"{sandbox.url}/sandbox/calendar", timeout=10).text
    assert page.count('<tr class="') == 30 and "冲压" in page and "总装" in page
    assert "08:00-12:00,13:00-17:30" in page and "休" in page     # working days and a weekend
    assert 'id="calendar-link"' in requests.get(f"{sandbox.url}/sandbox", timeout=10).text
