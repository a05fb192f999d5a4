"""The daily digests from a seeded plant, through the twins: the answer first (output against plan,
yield, stopped/late/at risk), at most five orders that need a person, each once, with its owner;
the totals are the reports stamped that factory day; the managers' chart where images show."""
import base64
import hashlib
import re
from datetime import date, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from bot.jobs import run_job
from storage.digest import day_window
from storage.models import Report, Step, Workshop
from tests.helpers import settle

MONDAY = date(2026, 11, 23)
TUESDAY, WEDNESDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
ORDER = re.compile(r"SO-\d{4}")


def at(live, day: date, hh: int, mm: int = 0):
    live.relay.clock.set_local(datetime(day.year, day.month, day.day, hh, mm))


def digest_texts(live, key: str) -> list[str]:
    return [s.text for s in live.twin.sends_to("webhook", key) if "日报" in s.text]


def items(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]


@pytest.fixture
def plant(live):
    """Monday: seven orders; three lines stop (one of them on an order that is late too), four
    orders are due before Wednesday. Tuesday and around midnight: stamping reports, one undone."""
    at(live, MONDAY, 8)
    for no, qty, days in (("SO-2001", 200, 0), ("SO-2002", 200, 1), ("SO-2003", 600, 9), ("SO-2004", 100, 8),
                          ("SO-2005", 100, 8), ("SO-2006", 150, 0), ("SO-2007", 150, 1)):
        live.add_order(no, quantity=qty, days=days)
    assert "已登记异常" in live.say("zhangwei", "异常 SO-2001 设备 冲床液压故障 预计 4小时") or True
    live.say("zhangwei", "异常 SO-2004 设备 模具崩刃 预计 6小时")
    live.say("lina", "异常 SO-2005 物料 钢板未到", chat="wr-welding")
    at(live, TUESDAY, 10)
    live.say("zhangwei", "报工 SO-2003 150 不良 3")
    at(live, TUESDAY, 15)
    live.say("zhangwei", "报工 SO-2003 30")
    at(live, TUESDAY, 16)
    live.say("zhangwei", "报工 SO-2002 50")
    live.say("zhangwei", "撤销")                      # undone: not output
    at(live, TUESDAY, 23, 50)
    live.say("zhangwei", "报工 SO-2003 10")           # still Tuesday in factory time
    at(live, WEDNESDAY, 0, 10)
    live.say("zhangwei", "报工 SO-2003 20")           # Wednesday: not yesterday's
    at(live, WEDNESDAY, 8, 1)
    assert run_job(live.relay, "daily-digest")["digests"] >= 10
    live.relay.dispatcher.run_once()
    settle(live)
    return live


def reported(live, code: str, day: date) -> tuple[int, int]:
    start, end = day_window(live.relay.clock.tz, day)
    with live.session() as s:
        good, scrap = s.execute(select(func.sum(Report.good), func.sum(Report.scrap)).join(Step).join(Workshop)
                                .where(Workshop.code == code, Report.created_at >= start, Report.created_at < end,
                                       Report.undone_at.is_(None))).one()
    return int(good or 0), int(scrap or 0)


def test_the_managers_digest_leads_with_the_answer(plant):
    [text] = digest_texts(plant, "key-managers")
    first = text.splitlines()[0]
    good, scrap = reported(plant, "stamping", TUESDAY)
    assert (good, scrap) == (190, 3)                 # the undone report and the one after midnight are not in it
    assert "全厂日报 11-25" in first and f"冲压 {good}/" in first and "焊接 0/" in first
    assert f"良率 {100 * good / (good + scrap):.1f}%" in first
    assert "停线 3" in first and "延期" in first and "风险" in first
    lines = items(text)
    assert 1 <= len(lines) <= 5
    numbers = [ORDER.search(line).group(0) for line in lines]
    assert len(numbers) == len(set(numbers))         # no order twice
    assert {"SO-2001", "SO-2004", "SO-2005"} <= set(numbers)   # every stopped line
    assert all("停线" in line for line in lines[:3])  # stopped first
    stopped = next(line for line in lines if "SO-2001" in line)
    assert "冲床液压故障" in stopped and "— 张伟" in stopped and "恢复" in stopped and "交期" in stopped
    assert next(line for line in lines if "SO-2005" in line).count("李娜、王强") == 1
    assert all(re.search(r" — \S", line) for line in lines)   # every item names its owner
    for number in set(ORDER.findall(text)):
        assert len(re.findall(rf"{number}\b", text.replace(f"/{number}?", "/?"))) == 1, number
    assert "还有" in text and "见看板" in text
    assert "**瓶颈**：冲压" in text                 # the stamping queue makes the orders late


def test_the_workshop_digest_is_its_own_view(plant):
    [text] = digest_texts(plant, "key-stamping")
    good, _ = reported(plant, "stamping", TUESDAY)
    assert text.splitlines()[0].startswith("**冲压 日报 11-25**") and f"{good}/" in text.splitlines()[0]
    assert "SO-2005" not in text                      # welding's stop is welding's
    lines = items(text)
    assert len(lines) <= 5 and any("SO-2004" in line and "模具崩刃" in line for line in lines)
    assert "昨日报工" in text and "SO-2003 190" in text
    [welding] = digest_texts(plant, "key-welding")
    assert "停线 1" in welding.splitlines()[0] and "SO-2005" in welding and "— 李娜、王强" in welding


def test_digest_links_open_the_board_without_the_screen_token(plant):
    [text] = digest_texts(plant, "key-managers")
    token = plant.relay.settings.api.board_tokens[0]
    assert token not in text
    board = re.search(r"\[打开看板\]\((\S+)\)", text).group(1)
    assert requests.get(board, timeout=10).status_code == 200
    order = re.search(r"\[SO-2004\]\((\S+)\)", text).group(1)
    page = requests.get(order, timeout=10)
    assert page.status_code == 200 and "SO-2004" in page.text
    forged = re.sub(r"\.[\w-]+$", ".AAAAAAAAAAAAAAAAAAAAAAAA", board)
    assert requests.get(forged, timeout=10).status_code == 403
    plant.relay.clock.advance(timedelta(days=8))     # links expire
    assert requests.get(board, timeout=10).status_code == 403


def test_the_managers_chart_goes_where_images_show(plant):
    [image] = [s for s in plant.twin.sends_to("webhook", "key-managers") if s.payload.get("msgtype") == "image"]
    png = base64.b64decode(image.payload["image"]["base64"])
    assert png.startswith(b"\x89PNG") and hashlib.md5(png).hexdigest() == image.payload["image"]["md5"]
    assert not [s for s in plant.twin.sends_to("webhook", "key-stamping") if s.payload.get("msgtype") == "image"]
    dingtalk = plant.dingtalk.wait_for(lambda m: m.target == "cid-managers" and "![" in m.text)
    url = re.search(r"!\[[^\]]*\]\((\S+)\)", dingtalk.text).group(1)
    served = requests.get(url, timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert served.content == png                      # one chart per day
    assert requests.get(url.replace(".png", "x.png"), timeout=10).status_code == 404


def test_the_managers_chart_is_drawn_ahead_and_again_when_its_figures_change(live, monkeypatch):
    """The chart takes about a second (matplotlib): a minute of the digest job with no digest due
    draws it before the digests' time; a report of the chart's days undone after that draws it
    again at the digest, which sends the chart of the figures as they are then."""
    from bot import charts
    drawn: list[tuple[list, bytes]] = []
    real = charts.render

    def render(days, words):
        png = real(days, words)
        drawn.append((days, png))
        return png
    monkeypatch.setattr(charts, "render", render)

    def stamping_on_tuesday(days) -> int:
        [shops] = [shops for day, shops in days if day == TUESDAY]
        return next(s.good for s in shops if s.name == "冲压")

    at(live, MONDAY, 8)
    live.add_order("SO-2101", quantity=200, days=5)
    at(live, TUESDAY, 23, 50)
    assert "R-" in live.say("zhangwei", "报工 SO-2101 40")
    at(live, WEDNESDAY, 0, 5)
    assert run_job(live.relay, "daily-digest") == {"digests": 0, "chart_drawn": True}
    at(live, WEDNESDAY, 0, 6)
    assert run_job(live.relay, "daily-digest") == {"digests": 0, "chart_drawn": False}   # kept
    assert [stamping_on_tuesday(days) for days, _ in drawn] == [40]
    at(live, WEDNESDAY, 0, 10)
    assert "撤销" in live.say("zhangwei", "撤销")                 # within its window: Tuesday's 40 are gone
    at(live, WEDNESDAY, 8, 1)
    assert run_job(live.relay, "daily-digest")["digests"] >= 10
    assert [stamping_on_tuesday(days) for days, _ in drawn] == [40, 0]
    live.relay.dispatcher.run_once()
    settle(live)
    [image] = [s for s in live.twin.sends_to("webhook", "key-managers") if s.payload.get("msgtype") == "image"]
    assert base64.b64decode(image.payload["image"]["base64"]) == drawn[-1][1] != drawn[0][1]


def test_a_chart_that_cannot_be_drawn_does_not_hold_the_digests(live, monkeypatch):
    """The drawing process fails (a broken font, matplotlib gone): drawing ahead gives up for the
    day without failing the job, and at the digests' time every group gets its digest, the
    managers theirs without the picture."""
    from bot import charts
    tried: list[int] = []

    def broken(days, words):
        tried.append(len(days))
        raise RuntimeError("the chart was not drawn: no font")
    monkeypatch.setattr(charts, "render", broken)
    at(live, MONDAY, 8)
    live.add_order("SO-2201", quantity=200, days=5)
    at(live, WEDNESDAY, 0, 5)
    assert run_job(live.relay, "daily-digest") == {"digests": 0, "chart_drawn": False}
    at(live, WEDNESDAY, 0, 6)
    assert run_job(live.relay, "daily-digest") == {"digests": 0, "chart_drawn": False}
    assert len(tried) == 1                              # not again every minute
    at(live, WEDNESDAY, 8, 1)
    assert run_job(live.relay, "daily-digest")["digests"] >= 10
    assert len(tried) == 2                              # once more at the digest, once for all its groups
    live.relay.dispatcher.run_once()
    settle(live)
    managers = live.twin.sends_to("webhook", "key-managers")
    assert any("全厂日报" in s.text for s in managers)
    assert not [s for s in managers if s.payload.get("msgtype") == "image"]
    assert len(digest_texts(live, "key-stamping")) == 1


def test_no_digest_on_a_closed_day_and_mondays_tells_of_friday(live):
    """The plant works Monday to Friday: on Saturday nobody gets a digest (there was one on
    Friday morning, for Thursday); on Monday the digest tells of Friday's output, named by its
    date, not of Sunday's 休息."""
    friday, saturday, monday = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 30)
    at(live, friday, 9)
    live.add_order("SO-3001", quantity=300, days=10)
    assert "已报工" in live.say("zhangwei", "报工 SO-3001 120")
    at(live, saturday, 8, 1)
    assert run_job(live.relay, "daily-digest")["digests"] == 0
    at(live, monday, 8, 1)
    assert run_job(live.relay, "daily-digest")["digests"] >= 2
    live.relay.dispatcher.run_once()
    settle(live)
    [managers] = digest_texts(live, "key-managers")
    assert "全厂日报 11-30" in managers and "11-27 产出/计划" in managers and "休息" not in managers, managers
    [stamping] = digest_texts(live, "key-stamping")
    assert "11-27 报工" in stamping and "SO-3001 120" in stamping, stamping
