"""The monthly piece-rate export (issue 18): the workbook from the API, the CLI and the signed link
a manager gets in chat equals what the standing reports say, computed here independently; no cell
a spreadsheet would run; each workshop's output against the stored plan."""
import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Order, Person, Report, ReportShare, Step, Workshop
from tests.helpers import EXAMPLE_CONFIG

RATES = {("车门总成", "冲压"): Decimal("0.35"), ("车门总成", "焊接"): Decimal("0.8")}   # config.example.toml
LINERELAY = Path(sys.executable).parent / "linerelay"


@pytest.fixture(params=["wecom", "dingtalk"])
def month(live, request):
    """November 2026 on the demo plant: named shares, a team, an undone and a corrected report,
    the reporter's own, another workshop, a formula-like name, and reports just outside the month."""
    live.platform = request.param
    clock = live.relay.clock
    with live.relay.Session.begin() as s:
        evil = Person(name="=1+2", roles="lead")
        evil.set_user_id("wecom", "evil")
        evil.set_user_id("dingtalk", "dt-evil")
        evil.workshops = [s.scalars(select(Workshop).where(Workshop.code == "stamping")).one()]
        s.add(evil)
    at = lambda *a: clock.set_local(datetime(2026, *a))  # noqa: E731
    at(11, 2, 8, 0)
    live.add_order("SO-1001", quantity=200, days=10)
    live.add_order("SO-1002", quantity=100, days=10)
    say = live.say
    at(10, 31, 15, 0)
    assert "已报工" in say("zhangwei", "报工 SO-1001 10 王五10")        # October: not in November's export
    at(11, 2, 9, 0)
    assert "已报工" in say("zhangwei", "报工 SO-1001 60 王五30 赵六30")
    at(11, 2, 9, 30)
    say("zhangwei", "班组 王五 赵六 孙七")
    assert "已报工" in say("zhangwei", "报工 SO-1001 31 不良 2")
    at(11, 2, 9, 40)
    say("zhangwei", "报工 SO-1001 7")
    assert "已撤销" in say("zhangwei", "撤销")
    at(11, 3, 10, 0)
    say("zhangwei", "班组 清空")
    assert "已报工" in say("zhangwei", "报工 SO-1001 20")
    at(11, 3, 10, 5)
    assert "已报工" in say("zhangwei", "报工 SO-1001 50 赵六")
    with live.session() as s:
        corrected = s.scalars(select(Report.id).order_by(Report.id.desc())).first()
    assert "已更正" in say("qianzhuren", f"更正 R-{corrected} 良品 40")
    assert "已报工" in say("zhangwei", "报工 SO-1002 100")
    assert "接收" in say("lina", "接收 SO-1002", chat="wr-welding")
    at(11, 4, 14, 0)
    assert "已报工" in say("lina", "报工 SO-1002 30 孙七", chat="wr-welding")
    at(11, 5, 10, 0)
    assert "已报工" in say("evil", "报工 SO-1001 3")
    at(11, 30, 23, 30)
    assert "已报工" in say("zhangwei", "报工 SO-1001 5 王五")
    at(12, 1, 0, 10)
    assert "已报工" in say("zhangwei", "报工 SO-1001 4 王五")          # December
    return live


def expected(live) -> dict[tuple[str, str], tuple[int, int, Decimal]]:
    """(day, worker) → good, scrap, amount, straight from the rows: standing reports stamped in
    November (factory time), their shares or else their reporter, good × the product's rate."""
    out: dict[tuple[str, str], list] = {}
    with live.session() as s:
        names = {p.id: p.name for p in s.scalars(select(Person))}
        for report in s.scalars(select(Report).where(Report.undone_at.is_(None))):
            day = live.relay.clock.local(report.created_at).date()
            if (day.year, day.month) != (2026, 11):
                continue
            step = s.get(Step, report.step_id)
            rate = RATES[(step.order.product, step.workshop.name)]
            shares = s.scalars(select(ReportShare).where(ReportShare.report_id == report.id)).all()
            for person_id, good, scrap in ([(r.person_id, r.good, r.scrap) for r in shares]
                                           or [(report.person_id, report.good, report.scrap)]):
                t = out.setdefault((day.isoformat(), names[person_id]), [0, 0, Decimal(0)])
                t[0] += good
                t[1] += scrap
                t[2] += good * rate
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in book.worksheets}


def detail_sums(book) -> dict[tuple[str, str], tuple[int, int, Decimal]]:
    header, *rows = book["计件明细"]
    col = {name: i for i, name in enumerate(header)}
    out: dict[tuple[str, str], list] = {}
    for row in rows:
        worker = row[col["工人"]]
        worker = worker[1:] if worker.startswith("'") else worker
        t = out.setdefault((row[col["日期"]], worker), [0, 0, Decimal(0)])
        t[0] += row[col["良品"]]
        t[1] += row[col["不良"]]
        t[2] += Decimal(str(row[col["金额"]]))
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def api_export(live, month="2026-11"):
    key = live.relay.settings.api.keys[0]
    return requests.get(f"{live.url}/api/exports/reports", params={"month": month},
                        headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_the_monthly_export_equals_the_sum_of_the_standing_reports(month):
    resp = api_export(month)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = sheets(resp.content)
    assert detail_sums(book) == expected(month)
    totals = {row[0].lstrip("'"): row[1:] for row in book["工人汇总"][1:]}
    # By hand: 王五 30 + 11 (team) + 5; 赵六 30 + 10 + 40 (corrected); 孙七 10 + 30 at welding;
    # 张伟 his own 20 and 100; the formula-like lead 3. Nothing from October, December or the undone 7.
    assert totals == {"王五": (46, 1, 16.1), "赵六": (80, 1, 28.0), "孙七": (40, 0, 27.5),
                      "张伟": (120, 0, 42.0), "=1+2": (3, 0, 1.05)}
    header, *rows = book["计件明细"]
    assert header == ("日期", "工人", "订单号", "产品", "工序", "良品", "不良", "计件单价", "金额", "分配方式", "报工单")
    sun = [r for r in rows if r[1] == "孙七"]
    assert [(r[0], r[2], r[4], r[5], r[7], r[8], r[9]) for r in sun] == [
        ("2026-11-02", "SO-1001", "冲压", 10, 0.35, 3.5, "班组平分"),
        ("2026-11-04", "SO-1002", "焊接", 30, 0.8, 24.0, "报工指定")]


def test_each_workshop_s_output_against_the_stored_plan(month):
    book = sheets(api_export(month).content)
    header, *rows = book["车间产出"]
    assert header == ("日期", "车间", "良品", "不良", "计划", "完成率")
    assert len(rows) == 30 * 4
    by = {(r[0], r[1]): r[2:] for r in rows}
    assert by[("2026-11-02", "冲压")][:2] == (60 + 31, 2)
    assert by[("2026-11-03", "冲压")][:2] == (20 + 40 + 100, 0)
    assert by[("2026-11-30", "冲压")][:2] == (5, 0)
    with month.session() as s:
        for workshop in s.scalars(select(Workshop)):
            # Both orders were planned inside November: the month's plan is all their steps there.
            planned = sum(st.planned_qty for st in s.scalars(select(Step).join(Order).where(Step.workshop_id == workshop.id)))
            assert sum(r[4] for r in rows if r[1] == workshop.name) == pytest.approx(planned, abs=2), workshop.name


def test_no_cell_is_a_formula(month):
    book = load_workbook(io.BytesIO(api_export(month).content))
    texts = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(c.value == "'=1+2" for c in texts)
    assert all(c.data_type != "f" and not c.value.startswith(("=", "+", "-", "@")) for c in texts)


def test_a_manager_asks_in_chat_and_gets_a_link_valid_for_a_day(month):
    reply = month.say("zhouzong", "导出 11月 计件", chat=None)
    assert "2026-11 计件报表" in reply, reply
    url = reply.split("](")[1].split(")")[0]
    assert url.startswith(f"{month.url}/exports/x1.2026-11.")
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and sheets(got.content) == sheets(api_export(month).content)
    assert requests.get(url[:-3] + "abc", timeout=10).status_code == 404
    assert requests.get(url.replace("2026-11", "2026-10"), timeout=10).status_code == 404
    month.relay.clock.advance(timedelta(hours=25))
    assert requests.get(url, timeout=10).status_code == 404
    assert "只有经理可以导出" in month.say("zhangwei", "导出 11月 计件")
    assert "月份「13月」不对" in month.say("zhouzong", "导出 13月", chat=None)


def test_the_api_describes_and_guards_the_export(month):
    doc = requests.get(f"{month.url}/api/openapi.json", timeout=10).json()
    assert "month" in str(doc["paths"]["/api/exports/reports"]["get"]["parameters"])
    assert requests.get(f"{month.url}/api/exports/reports?month=2026-11", timeout=10).status_code == 401
    assert api_export(month, "2026-13").status_code == 422
    assert api_export(month, "11月").status_code == 422
    key = month.relay.settings.api.keys[0]
    extra = requests.get(f"{month.url}/api/exports/reports", params={"month": "2026-11", "worker": "王五"},
                         headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert extra.status_code == 422 and "worker" in extra.json()["message"]


def test_the_cli_writes_the_same_workbook(month, tmp_path):
    out = tmp_path / "nov.xlsx"
    env = {**os.environ, "LINERELAY__APP__DATABASE_URL": month.relay.settings.app.database_url}
    result = subprocess.run([str(LINERELAY), "--config", str(EXAMPLE_CONFIG), "export", "reports", "--month", "2026-11",
                             "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert detail_sums(sheets(out.read_bytes())) == expected(month)
    bad = subprocess.run([str(LINERELAY), "--config", str(EXAMPLE_CONFIG), "export", "reports", "--month", "11"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode != 0 and "2026-11" in bad.stderr
