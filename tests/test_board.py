"""The shop-floor board: behind a per-screen token, orders × workshops, attention marked, escaped."""
import re
from datetime import datetime, timedelta

import requests

from tests.test_commands import seed

TOKEN = "demo-board-token-hall-1-0123"


def get(live, path, **params):
    return requests.get(f"{live.url}{path}", params=params)


def test_board_needs_a_screen_token(live):
    assert get(live, "/board").status_code == 403
    assert get(live, "/board", token="guess-guess-guess-guess").status_code == 403
    assert get(live, "/board/orders/SO-1001").status_code == 403


def test_board_shows_each_step_and_what_needs_attention(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9))   # a Wednesday morning: the stop lasts working time
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")
    live.say("zhangwei", "报工 SO-1002 10")
    live.say("zhangwei", "异常 SO-1002 设备 冲床故障 预计 2小时")
    page = get(live, "/board", token=TOKEN)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.text
    assert html.index("SO-1002") < html.index("SO-1001")  # priority 1 first
    assert "200/200" in html and "待接收 200" in html and "异常" in html and "停线" in html
    assert 'class="cell blocked' in html
    live.relay.clock.advance(timedelta(minutes=90))
    html = get(live, "/board", token=TOKEN).text
    row = html[html.index('data-order="SO-1002"'):html.index("</tr>", html.index('data-order="SO-1002"'))]
    stamping = row[row.index('data-workshop="stamping"'):row.index("</td>", row.index('data-workshop="stamping"'))]
    assert "异常 1.5 小时" in stamping and "设备 冲床故障" in stamping   # the exception's reason and duration
    summary = html[html.index('id="summary"'):html.index("</section>")]
    assert summary.count('class="shop"') == 4 and "停线 1" in summary and "210<" in summary  # today: 200 + 10
    only_welding = get(live, "/board", token=TOKEN, workshop="welding").text
    assert "SO-1001" in only_welding and "SO-1002" not in only_welding



def test_the_summary_counts_every_open_step_as_the_steps_themselves_say(live):
    """The summary's 在制 / 停线 / 延期 / 风险 per workshop equal the open steps counted one by one,
    a paused and a cancelled order's left out (the counts are read from index ranges, the set-aside
    orders' taken away again)."""
    from bot.jobs import run_job
    from sqlalchemy import select
    from storage import planner
    from storage.board import summaries
    from storage.models import Order, Step, Workshop
    from storage.views import OPEN_STEP
    from tests.test_lifecycle import hold
    live.relay.clock.set_local(datetime(2026, 11, 25, 9))
    for i, (qty, days) in enumerate([(200, 2), (100, 1), (900, 2), (300, 6), (150, 8), (120, 3), (80, 4)]):
        live.add_order(f"SO-{1001 + i}", quantity=qty, days=days, priority=1 + i % 3)
    for text in ("报工 SO-1001 200", "交接 SO-1001 200", "报工 SO-1002 100", "报工 SO-1003 50",
                 "报工 SO-1006 30", "异常 SO-1006 设备 冲床故障 预计 2小时"):
        live.say("zhangwei", text)
    live.say("lina", "接收 SO-1001", chat="wr-welding")
    live.say("lina", "报工 SO-1001 20", chat="wr-welding")
    hold(live, "暂停", "SO-1003", request_id=1)
    hold(live, "取消", "SO-1004", request_id=2)
    live.relay.clock.set_local(datetime(2026, 11, 27, 15))   # Friday afternoon: some steps are late now
    run_job(live.relay, "replan")
    tolerance = live.relay.settings.schedule.at_risk_tolerance_minutes
    now = live.relay.clock.now()
    with live.relay.Session() as s:
        shops = list(s.scalars(select(Workshop).order_by(Workshop.id)))
        expected = {w.id: [0, 0, 0, 0] for w in shops}
        aside = 0
        for step in s.scalars(select(Step).join(Order)):
            if step.status not in OPEN_STEP:
                continue
            if step.order.hold is not None or step.order.status == "cancelled":
                aside += 1
                continue
            late = step.planned_end < now
            counts = expected[step.workshop_id]
            counts[0] += step.status in ("ready", "running", "blocked")
            counts[1] += step.status == "blocked"
            counts[2] += late
            counts[3] += not late and step.late_minutes > tolerance
        got = {x.workshop_id: [x.wip, x.stopped, x.late, x.at_risk]
               for x in summaries(s, now, shops, tolerance, planner.calendar(s, live.relay.plan))}
        names = {w.id: w.name for w in shops}
    assert got == expected
    assert aside >= 8 and all(sum(c[i] for c in expected.values()) > 0 for i in range(4)), (aside, expected)
    html = get(live, "/board", token=TOKEN).text
    summary = html[html.index('id="summary"'):html.index("</section>")]
    for ws, (wip, stopped, late, at_risk) in expected.items():
        shop = summary[summary.index(names[ws]):]
        shop = shop[:shop.index("</div>")] if "</div>" in shop else shop
        assert f"在制 {wip}<" in shop, (names[ws], shop)
        for word, n in (("停线", stopped), ("延期", late), ("风险", at_risk)):
            assert (f"{word} {n}<" in shop) == bool(n), (word, n, shop)

def _shop(html: str, code: str) -> tuple[int, dict[str, int]]:
    """A workshop's summary on the board: today's output and its counts (在制, 停线, 延期, 风险)."""
    shop = html[html.index(f'data-workshop="{code}"', html.index('id="summary"')):]
    shop = shop[:shop.index("</div>")]
    made = int(re.search(r'class="made"[^>]*>(\d+)<', shop).group(1))
    return made, {word: int(n) for word, n in re.findall(r"(在制|停线|延期|风险) (\d+)<", shop)}


def test_the_summary_is_computed_again_when_anything_is_committed_or_a_step_turns_late(live, database_url):
    """The summary is served again while the database is as it was (`storage.board._Summaries`):
    a 报工 through the app, a write by another process and a step's planned end passing each show
    on the next page; between them the day's reports are not summed again."""
    from sqlalchemy import create_engine, event, func, select, text
    from storage.models import Order, Step
    from storage.views import OPEN_STEP
    from tests.helpers import settle
    live.relay.clock.set_local(datetime(2026, 11, 25, 9))
    live.add_order("SO-1001", quantity=200, days=2)
    live.add_order("SO-1002", quantity=100, days=1, priority=1)
    sums: list[str] = []
    event.listen(live.relay.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: sums.append(statement) if "sum(reports.good)" in statement else None)
    page = lambda: get(live, "/board", token=TOKEN).text  # noqa: E731
    assert _shop(page(), "stamping")[0] == 0 and len(sums) == 1
    assert _shop(page(), "stamping")[0] == 0 and len(sums) == 1      # served again: nothing was committed
    live.say("zhangwei", "报工 SO-1001 50")
    settle(live)
    live.relay.dispatcher.stop()                                      # no deliveries written from here on
    made, counts = _shop(page(), "stamping")
    assert made == 50 and "停线" not in counts and len(sums) == 2
    assert _shop(page(), "stamping") == (made, counts) and len(sums) == 2
    other = create_engine(database_url)                               # another process: a worker, the jobs, the CLI
    with live.relay.Session() as s:
        step_id = s.scalar(select(Step.id).join(Order).where(Order.order_no == "SO-1002", Step.seq == 1))
    with other.begin() as conn:
        conn.execute(text("UPDATE steps SET status = 'blocked' WHERE id = :id"), {"id": step_id})
    other.dispose()
    made, counts = _shop(page(), "stamping")
    assert counts["停线"] == 1 and len(sums) == 3
    with live.relay.Session() as s:   # the first planned end still to come, and its workshop
        first = s.scalars(select(Step).where(Step.status.in_(OPEN_STEP), Step.planned_end >= live.relay.clock.now())
                          .order_by(Step.planned_end).limit(1)).one()
        end, code = first.planned_end, first.workshop.code
    live.relay.clock.advance(end - timedelta(minutes=30) - live.relay.clock.now())
    before = _shop(page(), code)
    assert len(sums) == 4                                             # the step's day: a new day's summary
    live.relay.clock.advance(timedelta(minutes=30) - timedelta(seconds=5))   # the clock runs on meanwhile
    assert _shop(page(), code) == before and len(sums) == 4          # just before its planned end: not late yet
    live.relay.clock.advance(timedelta(minutes=1))
    after = _shop(page(), code)
    assert len(sums) == 5 and after[1].get("延期", 0) == before[1].get("延期", 0) + 1, (before, after)
    live.relay.clock.advance(-timedelta(minutes=2))                  # the clock set back: not late again
    assert _shop(page(), code) == before and len(sums) == 6
    with live.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(Step).where(Step.id == step_id, Step.status == "blocked")) == 1


def test_a_kept_summary_is_computed_from_its_own_snapshot_calendar_included(live):
    """A page may hold a calendar read a few seconds before another process changed it; the
    summary kept until the next commit is spread over the calendar of the snapshot it was read
    from, not over that older one."""
    from sqlalchemy import select
    from planning.calendar import HOURS
    from storage import planner
    from storage.board import _summaries_now, summaries
    from storage.calendar import set_days
    from storage.models import Workshop
    live.relay.clock.set_local(datetime(2026, 11, 25, 9))
    for i in range(3):
        live.add_order(f"SO-{1001 + i}", quantity=300, days=2 + i)
    now, tolerance = live.relay.clock.now(), 0
    with live.relay.ReadSession() as r:
        shops = list(r.scalars(select(Workshop).order_by(Workshop.id)))
        older = planner.calendar(r, live.relay.plan)
    with live.relay.Session.begin() as s:   # stamping works the afternoon only today
        stamping = s.scalars(select(Workshop).where(Workshop.code == "stamping")).one()
        set_days(s, now, first=live.relay.clock.today(), last=live.relay.clock.today(), workshop=stamping,
                 kind=HOURS, spans="13:00-17:00", note="", person=None, source="test")
    with live.relay.ReadSession() as r:
        kept = summaries(r, now, shops, tolerance, older)
        fresh = _summaries_now(r, now, shops, tolerance, planner.calendar_as_read(r))
        assert _summaries_now(r, now, shops, tolerance, older) != fresh   # the older calendar spreads it otherwise
    assert kept == fresh


def test_order_page_shows_route_and_timeline(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 120")
    html = get(live, "/board/orders/so-1001", token=TOKEN).text
    assert "SO-1001" in html and "冲压" in html and "120/200" in html and "张伟" in html
    # the timeline reads as sentences, says where each change came from, and is in Chinese
    assert "<b>冲压</b> 报工：良品 120（累计 120）" in html and "企业微信消息" in html
    assert "创建订单：车门总成 × 200" in html and "状态 计划中 → <b>生产中</b>" in html
    assert get(live, "/board/orders/NOPE", token=TOKEN).status_code == 404


def test_free_text_is_escaped_on_the_board(live):
    body = {"order_no": "SO-8001", "product": "车门总成", "quantity": 10, "due_date": "2026-12-20",
            "customer": "<script>alert(1)</script>"}
    requests.post(f"{live.url}/api/orders", json=body,
                  headers={"Authorization": "Bearer demo-api-key-change-me-0123456789"})
    html = get(live, "/board/orders/SO-8001", token=TOKEN).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_step_shows_what_it_received_where_that_differs_from_the_plan(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")
    assert "数量不符" in live.say("lina", "接收 SO-1001 196", chat="wr-welding")
    html = get(live, "/board", token=TOKEN).text
    row = html[html.index('data-order="SO-1001"'):html.index("</tr>", html.index('data-order="SO-1001"'))]
    welding = row[row.index('data-workshop="welding"'):row.index("</td>", row.index('data-workshop="welding"'))]
    assert "0/196" in welding and "计划 200" in welding
    stamping = row[row.index('data-workshop="stamping"'):row.index('data-workshop="welding"')]
    assert "200/200" in stamping and "计划 200" not in stamping and "数量不符" in stamping and "焊接收 196" in stamping
    page = get(live, "/board/orders/SO-1001", token=TOKEN).text
    assert '<meta name="viewport"' in page and "收到 196" in page and "待了结" in page


def test_the_phone_list_groups_orders_by_state_worst_first(live):
    seed(live)
    live.add_order("SO-1003", quantity=100, days=-1, priority=3)       # due yesterday: late
    live.say("zhangwei", "报工 SO-1002 10")
    live.say("zhangwei", "异常 SO-1002 设备 冲床故障 预计 2小时")
    html = get(live, "/board", token=TOKEN).text
    listed = html[html.index('id="list"'):]
    heads = [listed.index(f'data-state="{s}"') for s in ("stopped", "late", "running")]
    assert heads == sorted(heads) and 'data-state="at_risk"' not in listed
    assert listed.index('data-order="SO-1002"') < heads[1] < listed.index('data-order="SO-1003"') < heads[2] \
        < listed.index('data-order="SO-1001"')
    assert listed.count("<a class=\"item") == 3 and 'href="/board/orders/SO-1002?token=' in listed


def test_a_workshop_sees_its_work_behind_many_more_urgent_orders_that_have_not_reached_it(live):
    """The workshop's board and queue pick its work in the query (an indexed, limited read), so
    material handed to it is shown however many more urgent orders are still upstream."""
    from storage.orders import OrderData, upsert_order
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")    # handed over to welding: waiting there with material
    clock = live.relay.clock
    with live.relay.Session.begin() as s:
        for i in range(200):                   # more urgent, nothing in welding yet
            upsert_order(s, clock.now(), OrderData(f"SO-9{i:03d}", "车门总成", 10, clock.today() + timedelta(days=2),
                                                   "测试客户", 1), actor=None, source="test")
    welding = get(live, "/board", token=TOKEN, workshop="welding").text
    assert "SO-1001" in welding and "SO-9000" not in welding
    queue = requests.get(f"{live.url}/api/workshops/welding/queue",
                         headers={"Authorization": "Bearer demo-api-key-change-me-0123456789"}).json()["queue"]
    assert [item["order_no"] for item in queue] == ["SO-1001"] and queue[0]["handoff_waiting"] == 200
    everything = get(live, "/board", token=TOKEN).text
    assert "SO-9000" in everything and "SO-1001" not in everything   # the 60 most urgent of the plant
