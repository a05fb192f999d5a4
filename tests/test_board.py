"""The shop-floor board: behind a per-screen token, orders × workshops, attention marked, escaped."""
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
